"""Timers, alarms and reminders set in a room ring in that room; announcements reach one room
or all. The skills actor and the store are real; the rooms' actors are stand-ins that keep
what they are told (the real ones, with real satellites: tests/wyoming/test_rooms.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from msgspec.structs import replace
from wyoming.event import Event
from wyoming.timer import TimerUpdated

import supervisors
from solo_actors.config import Config, SatelliteConfig
from solo_actors.messages import (
    Announce,
    Announced,
    CallTool,
    CreateSkillItem,
    ListSkillItems,
    Message,
    ReadRows,
    RoomLink,
    RoomTimer,
    Rows,
    SayInRoom,
    SkillItem,
    SkillItems,
    SkillRefused,
    SkillTurn,
    TellRoomLink,
    ToolResult,
    TurnDone,
    UserTurn,
    WakeDetected,
)
from solo_actors.names import SKILLS_NAME, STORE_NAME
from solo_actors.rooms import room_name
from solo_actors.rooms.session import timer_event
from solo_actors.runtime.specs import worker_spec
from solo_actors.skills.actor import SkillsActor
from solo_actors.store.actor import StoreActor
from tests.conftest import ConfigFactory, wait_for
from tests.skills.conftest import settle

ROOMS = ("kitchen", "office")


class Keeper(supervisors.SupervisedActor):
    """Stands in for a room's actor (or tts: "bell"): keeps what it is told."""

    def __init__(self, kept: list[Message]) -> None:
        super().__init__()
        self.kept = kept

    def on_receive(self, message: object) -> None:
        if isinstance(message, SayInRoom | RoomTimer | TellRoomLink | TurnDone):
            self.kept.append(message)


@pytest.fixture
def ring_for() -> float:
    """skills.ring_for: 0, each item is said once (a test parametrises it to ring on)."""
    return 0.0


@pytest.fixture
def config(make_config: ConfigFactory, ring_for: float) -> Config:
    config = make_config(memory__enabled=False, skills__late_after=0.5, skills__ring_for=ring_for,
                         skills__ring_every=0.3, skills__announce_to='["bell"]')  # fmt: skip
    satellites = [SatelliteConfig(name=name, uri=f"tcp://127.0.0.1:{10700 + i}")
                  for i, name in enumerate(ROOMS)]  # fmt: skip
    return replace(config, satellites=satellites)


@pytest.fixture
def heard() -> Iterator[dict[str, list[Message]]]:
    """What each room's stand-in (and the local "bell") was told, by room."""
    kept: dict[str, list[Message]] = {name: [] for name in (*ROOMS, "local")}
    keepers = []
    for name, messages in kept.items():
        registered = "bell" if name == "local" else room_name(name)
        keeper = Keeper.start(messages)
        supervisors.default_registry.register(registered, keeper)
        keepers.append((registered, keeper))
    yield kept
    for registered, keeper in keepers:
        supervisors.default_registry.unregister(registered, keeper)
        keeper.stop()


@pytest.fixture
def skills(config: Config, heard: dict[str, list[Message]]) -> Iterator[None]:
    children = [
        worker_spec(config, name, actor)
        for name, actor in ((STORE_NAME, StoreActor), (SKILLS_NAME, SkillsActor))
    ]
    root = supervisors.start_supervisor(supervisors.SupFlags(), children, name="rooms-test")
    try:
        yield
    finally:
        root.stop()


def say(text: str, room: str | None) -> None:
    turn = UserTurn(conversation_id=f"room-{room}", text=text, source="satellite", room=room)
    supervisors.tell(SKILLS_NAME, SkillTurn(turn=turn))


def answer(text: str, room: str) -> str:
    """The skills actor's reply to ``text`` said in ``room``."""
    with supervisors.inbox() as box:
        turn = UserTurn(conversation_id=f"room-{room}", text=text, source="satellite",
                        room=room, reply_to=box.name)  # fmt: skip
        supervisors.tell(SKILLS_NAME, SkillTurn(turn=turn))
        while not isinstance(message := box.receive(10), TurnDone):
            pass
        return message.reply


def link(room: str, connected: bool) -> None:
    supervisors.tell(SKILLS_NAME, RoomLink(room=room, connected=connected))


def of(kind: type[Message], messages: list[Message]) -> list[Message]:
    return [message for message in messages if isinstance(message, kind)]


def test_a_timer_set_in_a_room_rings_there_only(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    # A (re)started skills actor asks every room whether it is connected.
    for room in ROOMS:
        wait_for(lambda room=room: of(TellRoomLink, heard[room]), f"skills to ask the {room}")
        link(room, True)

    say("set a pasta timer for 1 second", "kitchen")
    wait_for(lambda: of(SayInRoom, heard["kitchen"]), "the kitchen's timer to ring")
    timers = of(RoomTimer, heard["kitchen"])
    assert [t.change for t in timers] == ["started", "finished"], timers
    started = timers[0]
    assert isinstance(started, RoomTimer) and (started.seconds, started.name) == (1.0, "pasta")
    (ring,) = of(SayInRoom, heard["kitchen"])
    assert ring == SayInRoom(text="Your pasta timer is done.", alert=True)
    assert not of(SayInRoom, heard["office"]) and not of(RoomTimer, heard["office"])
    assert not heard["local"], "a kitchen timer rang on Solo's own speaker"
    # "What did you say?" in the kitchen repeats its ring; the office heard nothing.
    assert answer("What did you say?", "kitchen") == "Your pasta timer is done."
    assert answer("What did you say?", "office").startswith("We haven't said anything")

    def stored() -> list[tuple[object, ...]]:
        rows = supervisors.ask(STORE_NAME, ReadRows(table="skill_items"), timeout=10)
        assert isinstance(rows, Rows)
        items = [dict(zip(rows.columns, row, strict=True)) for row in rows.rows]
        return [(item["label"], item["room"], item["state"]) for item in items]

    # Said first, then stored as fired: read until the write has landed.
    wait_for(lambda: all(state != "pending" for *_, state in stored()), "the timer stored fired")
    assert stored() == [("pasta", "kitchen", "fired")]

    # Added to, paused and cancelled from anywhere: the timer's own room hears of it.
    say("set a tea timer for 1 minute", "kitchen")
    say("add 2 minutes to the tea timer", "office")
    say("pause the tea timer", "office")
    say("cancel the tea timer", None)
    wait_for(lambda: len(of(RoomTimer, heard["kitchen"])) == 6, "the tea timer's events")
    started, updated, paused, cancelled = of(RoomTimer, heard["kitchen"])[2:]
    assert isinstance(updated, RoomTimer) and 170 < updated.seconds <= 180 and updated.active
    assert isinstance(paused, RoomTimer) and 170 < paused.seconds <= 180 and not paused.active
    assert [started.change, updated.change, paused.change, cancelled.change] == [
        "started", "updated", "updated", "cancelled"]  # fmt: skip
    assert started.timer_id == updated.timer_id == paused.timer_id == cancelled.timer_id
    assert not of(RoomTimer, heard["office"])

    # Set locally (Solo's microphone, text, the API): rings on Solo's own speaker.
    say("remind me in 1 second to stretch", None)
    wait_for(lambda: heard["local"], "the local reminder")
    done = heard["local"][0]
    assert isinstance(done, TurnDone) and done.reply == "Reminder: stretch."
    assert len(of(SayInRoom, heard["kitchen"])) == 1 and not of(SayInRoom, heard["office"])


def test_what_falls_due_in_a_room_away_is_said_late_when_it_is_back(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    link("kitchen", True)  # the office's satellite is not connected
    say("remind me in 1 second to water the plants", "office")

    def pending() -> list[SkillItem]:
        items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=10)
        assert isinstance(items, SkillItems)
        return items.items

    wait_for(pending, "the reminder to be set")
    (reminder,) = pending()
    # Its wake-up is the skills actor's own timer, taken before any mail sent once it is due:
    # past then (and past skills.late_after), the office's link below comes after it fell
    # due while the office was away, late enough to say so.
    time.sleep(max(0.0, reminder.due_at + 1.0 - time.time()))
    assert [item.room for item in pending()] == ["office"]  # kept pending: durable
    assert not of(SayInRoom, heard["office"]) and not heard["local"], "said to no one"

    link("office", True)
    wait_for(lambda: of(SayInRoom, heard["office"]), "the office's late reminder")
    (late,) = of(SayInRoom, heard["office"])
    assert isinstance(late, SayInRoom) and late.text.startswith("Reminder: water the plants.")
    assert "late: it fell due while the office was not connected" in late.text
    assert not of(SayInRoom, heard["kitchen"]) and not heard["local"]


def test_announcements_reach_one_room_or_every_room(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    link("kitchen", True)
    link("office", True)
    link("office", False)

    def announce(text: str, room: str | None) -> Announced | SkillRefused:
        answer = supervisors.ask(SKILLS_NAME, Announce(text=text, room=room), timeout=10)
        assert isinstance(answer, Announced | SkillRefused)
        return answer

    assert announce("Dinner is ready.", "kitchen") == Announced(["kitchen"], [])
    assert announce("Lights out.", None) == Announced(["local", "kitchen"], ["office"])
    # Each room's actor has its own mailbox: the local speaker hearing "Lights out." says
    # nothing about whether the kitchen has yet, so wait for each.
    wait_for(lambda: heard["local"], "the announcement on Solo's own speaker")
    wait_for(lambda: len(of(SayInRoom, heard["kitchen"])) >= 2, "both announcements in the kitchen")
    texts = [m.text for m in of(SayInRoom, heard["kitchen"]) if isinstance(m, SayInRoom)]
    assert texts == ["Dinner is ready.", "Lights out."]
    assert not of(SayInRoom, heard["office"])
    unknown = announce("Hello.", "attic")
    assert isinstance(unknown, SkillRefused) and unknown.reason == "not_found"
    assert "kitchen, office" in unknown.message
    empty = announce("  ", None)
    assert isinstance(empty, SkillRefused) and empty.reason == "invalid"


@pytest.mark.parametrize("ring_for", [30.0])
def test_a_room_silences_what_rings_there_only(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    for room in ROOMS:
        link(room, True)
    say("set a timer for 1 second", "kitchen")
    say("set an alarm timer for 1 second", "office")

    def rings(room: str) -> int:
        return len(of(SayInRoom, heard[room]))

    wait_for(lambda: rings("kitchen") >= 2 and rings("office") >= 2, "both rooms to ring on")
    say("stop", "office")  # the office's "stop" leaves the kitchen ringing
    settle(SKILLS_NAME, room_name("office"))  # the stop handled, the rings before it kept
    office, kitchen = rings("office"), rings("kitchen")
    wait_for(lambda: rings("kitchen") >= kitchen + 2, "the kitchen to ring on")
    assert rings("office") == office, "the office's stop did not silence its timer"

    supervisors.tell(SKILLS_NAME, WakeDetected(turn_id="t", keyword="jarvis", score=1.0,
                                               room="kitchen"))  # fmt: skip
    settle(SKILLS_NAME, room_name("kitchen"))
    kitchen = rings("kitchen")
    time.sleep(1.0)  # rung three times more by now, were it still ringing
    assert rings("kitchen") == kitchen, "the kitchen's wake word did not silence its timer"
    assert not heard["local"]


def test_a_spoken_announcement_reaches_every_room_but_the_askers(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    for room in ROOMS:
        link(room, True)
    say("announce dinner is ready", "office")
    wait_for(lambda: of(SayInRoom, heard["kitchen"]) and heard["local"], "the announcement")
    assert of(SayInRoom, heard["kitchen"]) == [SayInRoom(text="Dinner is ready.", alert=True)]
    (local,) = heard["local"]
    assert isinstance(local, TurnDone) and local.reply == "Dinner is ready."
    assert not of(SayInRoom, heard["office"]), "the office, which asked, heard it again"


def test_a_tool_call_or_an_api_item_rings_in_the_room_it_names(
    skills: None, heard: dict[str, list[Message]]
) -> None:
    """The llm's tool call carries the room of the turn it answers (`CallTool.room`), and
    POST /timers its body's room (`CreateSkillItem.room`): each rings there only."""
    link("kitchen", True)
    link("office", True)
    call = CallTool(name="set_timer", arguments={"duration": "1 second", "name": "tea"},
                    said="time my tea for 1 second", room="office")  # fmt: skip
    result = supervisors.ask(SKILLS_NAME, call, timeout=10)
    assert isinstance(result, ToolResult) and not result.error, result
    wait_for(lambda: of(SayInRoom, heard["office"]), "the office's tea timer")
    created = supervisors.ask(SKILLS_NAME, CreateSkillItem(kind="timer", length=1.0,
                                                           label="eggs", room="kitchen"),
                              timeout=10)  # fmt: skip
    assert isinstance(created, SkillItems) and created.items[0].room == "kitchen"
    wait_for(lambda: of(SayInRoom, heard["kitchen"]), "the kitchen's egg timer")
    assert [m.text for m in of(SayInRoom, heard["office"]) if isinstance(m, SayInRoom)] == [
        "Your tea timer is done."
    ]
    assert [m.text for m in of(SayInRoom, heard["kitchen"]) if isinstance(m, SayInRoom)] == [
        "Your eggs timer is done."
    ]
    assert not heard["local"], "a room's timer rang on Solo's own speaker"
    unknown = supervisors.ask(SKILLS_NAME, CreateSkillItem(kind="timer", length=60.0,
                                                           room="attic"), timeout=10)  # fmt: skip
    assert isinstance(unknown, SkillRefused) and "kitchen, office" in unknown.message


def test_a_room_timer_s_events_read_back_as_the_wyoming_library_reads_them() -> None:
    """What a satellite gets of a timer made longer, paused and resumed (`RoomTimer` as
    `timer_event` writes it), parsed by the reference library."""
    for active in (True, False):
        data = timer_event(RoomTimer(change="updated", timer_id="t1", seconds=170.4,
                                     active=active))  # fmt: skip
        updated = TimerUpdated.from_event(Event("timer-updated", data))
        assert (updated.id, updated.is_active, updated.total_seconds) == ("t1", active, 170)
