"""The skills actor in a small tree (store, skills, dialogue; no llm): a skill turn is
answered like an llm reply, timers survive a restart and fire, one that fell due while
Solo was down is delivered late and says so, and other turns still go to the llm."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.dialogue import converse
from solo_actors.llm import child_spec as llm_child_spec
from solo_actors.messages import (
    CreateSkillItem,
    ListSkillItems,
    LLMDone,
    LLMGetHistory,
    LLMHistory,
    LLMPrefill,
    LLMRequest,
    LLMToken,
    Message,
    ReadRows,
    Rows,
    SkillFired,
    SkillItem,
    SkillItems,
    TurnAhead,
    TurnDone,
    WakeDetected,
)
from solo_actors.names import DIALOGUE_NAME, LLM_NAME, SKILLS_NAME, STORE_NAME
from solo_actors.runtime.events import HUB
from tests.conftest import ConfigFactory, wait_for
from tests.skills.conftest import settle, start


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config(memory__enabled=False, skills__late_after=0.5)


class Fired:
    """`SkillFired` events from the hub, as they come."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.subscription = HUB.subscribe(frozenset({"skills"}), 64, self.arrived.set)
        self.seen: list[SkillFired] = []

    def wait(self, timeout: float) -> SkillFired:
        deadline = time.monotonic() + timeout
        while not self.seen:
            assert self.arrived.wait(max(0.0, deadline - time.monotonic())), "nothing fired"
            self.arrived.clear()
            self.seen += [e.data for e in self.subscription.drain()]  # type: ignore[misc]
        return self.seen.pop(0)


@pytest.fixture
def fired() -> Iterator[Fired]:
    watcher = Fired()
    yield watcher
    watcher.subscription.close()


def test_a_skill_turn_streams_like_an_llm_reply_and_the_timer_survives_a_restart(
    config: Config, fired: Fired
) -> None:
    root = start(config)
    streamed: list[Message] = []
    asked_at = time.time()
    try:
        done = converse("set a 2 second tea timer", "kitchen", on_message=streamed.append)
        answered_at = time.time()
    finally:
        root.stop()
    assert done.reply == "Tea timer set for 2 seconds." and done.error is None
    assert done.model == "skills:timer.set"
    assert [type(m) for m in streamed[:2]] == [LLMToken, LLMDone]

    root = start(config)  # a new process would find the same: the store is the truth
    try:
        event = fired.wait(timeout=10)
        assert event.item.label == "tea" and event.text == "Your tea timer is done."
        # Due 2 s after the turn, which came between the question and its answer (the
        # stop after it can take a while), and fired on time by the new tree.
        due = event.item.due_at
        assert asked_at + 2 <= due <= answered_at + 2, (asked_at, due, answered_at)
        assert event.late_s < 0.5
        # Announced first, stored as fired right after: read until the write has landed.
        assert stored_states(within=5, until=["fired"]) == ["fired"]
    finally:
        root.stop()


def test_the_stopwatch_keeps_counting_across_a_restart(config: Config) -> None:
    root = start(config)
    try:
        assert converse("start the stopwatch", "c").reply == "Stopwatch started."
    finally:
        root.stop()
    time.sleep(1.1)  # down for a while: that time is counted too
    root = start(config)
    try:
        running = converse("how long has the stopwatch been running", "c").reply
        assert running.endswith("on the stopwatch.") and "second" in running, running
        assert converse("stop the stopwatch", "c").reply.startswith("Stopped the stopwatch at")
    finally:
        root.stop()
    saved = config.solo.var_path("skills", "stopwatch.json")
    saved.write_text("{not json")  # a broken file costs the count, never the skills
    root = start(config)
    try:
        assert converse("check the stopwatch", "c").reply == (
            "The stopwatch isn't running. Say start the stopwatch."
        )
        assert converse("start the stopwatch", "c").reply == "Stopwatch started."
        assert '"since"' in saved.read_text(), "saved again, whole"
    finally:
        root.stop()


def stored_states(within: float, until: list[str]) -> list[str]:
    """The skill items' states in the store, read again until they are ``until`` (or
    ``within`` seconds passed: then as they are, for the assertion to show)."""
    deadline = time.monotonic() + within
    while True:
        rows = supervisors.ask(STORE_NAME, ReadRows(table="skill_items"), timeout=5)
        assert isinstance(rows, Rows)
        state = rows.columns.index("state")
        states = [row[state] for row in rows.rows]
        if states == until or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


def test_one_due_while_down_is_delivered_late_at_start(config: Config, fired: Fired) -> None:
    root = start(config)
    try:
        # Seconds enough for the answer and the stop to come first on a loaded machine.
        done = converse("remind me to stretch in 3 seconds", "office")
        assert done.reply.startswith("I'll remind you to stretch"), done.reply
        items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=5)
        assert isinstance(items, SkillItems)
        (reminder,) = items.items
    finally:
        root.stop()
    # It falls due while nothing runs; the restart comes more than late_after past it.
    time.sleep(max(0.0, reminder.due_at + 0.8 - time.time()))
    root = start(config)
    try:
        event = fired.wait(timeout=5)
        assert event.late_s >= 0.5 and "late" in event.text and "stretch" in event.text
        items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=5)
        assert isinstance(items, SkillItems) and items.items == []
    finally:
        root.stop()


def test_a_repeating_reminder_fired_is_followed_by_its_next_time_kept_across_a_restart(
    make_config: ConfigFactory, fired: Fired
) -> None:
    config = make_config(memory__enabled=False, skills__timezone="UTC")
    root = start(config)
    try:
        first = time.time() + 2
        request = CreateSkillItem(kind="reminder", label="stretch", due_at=first, repeats="daily")
        assert isinstance(supervisors.ask(SKILLS_NAME, request, timeout=10), SkillItems)
        event = fired.wait(timeout=10)
        assert event.text == "Reminder: stretch." and event.item.repeats == "daily"

        def following() -> list[SkillItem]:
            items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=5)
            assert isinstance(items, SkillItems)
            return [item for item in items.items if item.item_id != event.item.item_id]

        wait_for(lambda: following() != [], "the reminder's next time")
        (tomorrow,) = following()
        assert (tomorrow.label, tomorrow.repeats) == ("stretch", "daily")
        assert abs(tomorrow.due_at - (first + 86400)) < 1, tomorrow.due_at - first
    finally:
        root.stop()
    root = start(config)  # the next time was made durable with the one fired
    try:
        # Compared by what it is: created_at comes back to the microsecond, not the float.
        def loaded() -> list[tuple[str, float, str | None]]:
            return [(item.item_id, item.due_at, item.repeats) for item in following()]

        wait_for(lambda: loaded() == [(tomorrow.item_id, tomorrow.due_at, "daily")],
                 "the next time loaded from the store")  # fmt: skip
        rows = supervisors.ask(
            STORE_NAME, ReadRows(table="skill_items", equals={"label": "stretch"}), timeout=5
        )
        assert isinstance(rows, Rows)
        states = sorted(dict(zip(rows.columns, row, strict=True))["state"] for row in rows.rows)
        assert states == ["fired", "pending"]
    finally:
        root.stop()


def test_refusals_store_nothing_and_other_turns_go_to_the_llm(config: Config) -> None:
    root = start(config)
    try:
        refused = converse("set a timer for minus five minutes", "c")
        assert refused.reply.startswith("Sorry") and refused.model == "skills:timer.set"
        items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=5)
        assert isinstance(items, SkillItems) and items.items == []
        weather = converse("what is the weather tomorrow", "c", timeout=10)
        assert weather.error is not None and "language model" in weather.error
    finally:
        root.stop()


def test_say_that_again_repeats_the_last_reply_and_what_did_i_say_the_words(
    config: Config,
) -> None:
    root = start(config)
    try:
        first = converse("What is 17 times 23?", "again")
        assert first.reply == "It's 391.", first.reply
        again = converse("Say that again.", "again")
        assert (again.reply, again.model) == (first.reply, "skills:repeat")
        # A repeat is no new turn: asked twice, the same again; and the words are the
        # first turn's, not "Say that again."
        assert converse("Pardon?", "again").reply == first.reply
        said = converse("What did I just say?", "again")
        assert said.reply == 'You said: "What is 17 times 23?"', said.reply
        # The failed turn (no llm here) is nothing to repeat.
        assert converse("what is the weather tomorrow", "again", timeout=10).error is not None
        assert converse("Say that again.", "again").reply == first.reply
        fresh = converse("Say that again.", "another")
        assert fresh.reply == "We haven't said anything yet in this conversation."
    finally:
        root.stop()


def test_another_one_asks_a_joke_or_a_coin_again_and_is_the_llm_s_after_anything_else(
    config: Config,
) -> None:
    root = start(config)
    try:
        jokes = [converse("Tell me a joke.", "more")]
        for said in ("Another one.", "Tell me another.", "One more."):
            jokes.append(converse(said, "more"))
            assert jokes[-1].model == "skills:chance.again", jokes[-1]
        # Each a joke, none told twice in a row: each time the request asked again.
        assert len({joke.reply for joke in jokes}) == len(jokes), jokes
        assert converse("Flip a coin.", "more").reply in ("Heads.", "Tails.")
        flipped = converse("Another one.", "more")
        assert flipped.reply in ("Heads.", "Tails.") and flipped.model == "skills:chance.again"
        # After anything else, and in another conversation, it is the llm's (none here).
        assert converse("What time is it?", "more").model == "skills:time.now"
        after_time = converse("Another one.", "more", timeout=10)
        assert after_time.error is not None and "language model" in after_time.error
        elsewhere = converse("Another one.", "other", timeout=10)
        assert elsewhere.error is not None and "language model" in elsewhere.error
    finally:
        root.stop()


def test_say_that_again_after_a_timer_rang_here_repeats_its_line(
    make_config: ConfigFactory,
) -> None:
    config = make_config(memory__enabled=False, skills__announce_to='["bell"]',
                         skills__ring_for=0)  # fmt: skip
    heard: list[TurnDone] = []
    bell = Bell.start(heard)
    supervisors.default_registry.register("bell", bell)
    root = start(config)
    try:
        asked = converse("What is 17 times 23?", "kitchen")
        set_timer = converse("Set a timer for 1 second.", "kitchen")
        assert set_timer.reply == "Timer set for 1 second.", set_timer.reply
        wait_for(lambda: heard, "the timer to ring")
        rang = heard[0].reply
        assert rang == "Your 1 second timer is done.", rang
        # Heard at Solo's own speaker, by the microphone's or the terminal's asker.
        assert converse("What did you say?", "kitchen", source="voice").reply == rang
        assert converse("Say that again.", "kitchen").reply == rang
        # An API caller hears no speaker: its conversation's last reply.
        api = converse("Say that again.", "kitchen", source="api")
        assert api.reply == "Timer set for 1 second.", api.reply
        # A turn after the ring is what is repeated then.
        assert converse("What is 17 times 23?", "kitchen").reply == asked.reply
        assert converse("Say that again.", "kitchen").reply == asked.reply
    finally:
        root.stop()
        supervisors.default_registry.unregister("bell", bell)
        bell.stop()


def test_a_request_with_a_part_missing_asks_for_it_and_the_next_turn_completes_it(
    config: Config,
) -> None:
    root = start(config)
    try:
        asked = converse("Set a timer.", "kitchen")
        assert (asked.reply, asked.model) == ("For how long?", "skills:timer.ask_length")
        set_ = converse("Five minutes.", "kitchen")
        assert set_.reply == "Timer set for 5 minutes." and set_.model == "skills:timer.set"
        assert set_.text == "Five minutes.", "the turn keeps what the user said"
        items = supervisors.ask(SKILLS_NAME, ListSkillItems(), timeout=5)
        assert isinstance(items, SkillItems) and [i.length for i in items.items] == [300.0]

        # Two questions in a row: what, then when; each answer completes a bit more.
        assert converse("remind me", "kitchen").reply == "What should I remind you of?"
        when = converse("to call mum", "kitchen")
        assert when.reply == "When should I remind you to call mum?", when
        done = converse("in 20 minutes", "kitchen")
        assert done.reply == "I'll remind you to call mum in 20 minutes.", done
        # When first, then what: a length, a date and time, a day alone each read back.
        for when, said in [("in 20 minutes", "in 20 minutes"),
                           ("on December 24th at 9 am", "at 9:00 AM Thursday, December 24"),
                           ("on friday evening", "at 7:00 PM")]:  # fmt: skip
            what = converse(f"remind me {when}", "kitchen")
            assert what.reply == "What should I remind you of?", (when, what)
            done = converse("to buy a tree", "kitchen")
            assert done.reply.startswith(f"I'll remind you to buy a tree {said}"), (when, done)

        # The question belongs to its conversation, and only its very next turn answers it.
        assert converse("set an alarm", "kitchen").reply == "For what time?"
        other = converse("7 am", "office", timeout=10)
        assert other.error is not None and "language model" in other.error, other
        assert converse("what day is it", "kitchen").model == "skills:time.weekday"
        late = converse("7 am", "kitchen", timeout=10)
        assert late.error is not None and "language model" in late.error, late

        # A turn that is a request of its own is that request, not an answer.
        assert converse("wake me up", "kitchen").reply == "What time should I wake you?"
        assert converse("never mind", "kitchen").model == "skills:stop"
        alarms = supervisors.ask(SKILLS_NAME, ListSkillItems(kind="alarm"), timeout=5)
        assert isinstance(alarms, SkillItems) and alarms.items == []
    finally:
        root.stop()


def test_a_short_turn_right_after_a_skill_request_goes_on_from_it(config: Config) -> None:
    root = start(config)
    try:
        assert converse("what time is it", "c").model == "skills:time.now"
        tokyo = converse("And in Tokyo?", "c")
        assert tokyo.model == "skills:time.in_place" and "in Tokyo" in tokyo.reply, tokyo
        assert tokyo.text == "And in Tokyo?", "the turn keeps what the user said"
        paris = converse("what about Paris", "c")  # a follow-up of the follow-up
        assert paris.model == "skills:time.in_place" and "in Paris" in paris.reply, paris

        assert converse("add milk to my packing list", "c").reply == (
            "Added milk to your packing list."
        )
        for said in ("add a towel", "and socks", "sunscreen too"):
            assert converse(said, "c").model == "skills:list.add", said
        listed = converse("what's on my packing list", "c").reply
        assert listed == "Your packing list has 4 items: milk, towel, socks and sunscreen.", listed
        assert converse("remove the socks", "c").model == "skills:list.remove"

        assert converse("how many days until christmas", "c").model == "skills:time.until"
        easter = converse("and until Easter?", "c")
        assert easter.model == "skills:time.until" and "Easter is in" in easter.reply, easter
        assert converse("set a 3 minute tea timer", "c").model == "skills:timer.set"
        assert converse("cancel it", "c").reply == "Cancelled the tea timer."
        converse("set an alarm for 7 pm", "c")
        assert converse("set an alarm for 7 am", "c").model == "skills:alarm.set"
        cancelled = converse("cancel it", "c").reply  # the morning's, not the evening's
        assert cancelled.startswith("Cancelled the alarm for 7:00 AM"), cancelled
        assert "7:00 PM" in converse("what alarms do I have", "c").reply
        converse("remind me to call mum in 2 hours", "c")
        assert converse("remind me to water the plants in 3 hours", "c").model == (
            "skills:reminder.set"
        )
        assert converse("cancel that", "c").reply == ("Cancelled the reminder to water the plants.")

        # "Cancel it" with nothing just set: which, and the answer completes it.
        converse("set a 5 minute tea timer", "e")
        converse("what time is it", "e")
        assert converse("cancel it", "e").reply == (
            "What should I cancel: a timer, an alarm or a reminder?"
        )
        assert converse("the tea timer", "e").reply == "Cancelled the tea timer."

        # With no list named or followed, which list is asked.
        assert converse("add eggs", "d").reply == "Which list should I add eggs to?"
        assert converse("shopping", "d").reply == "Added eggs to your shopping list."
        assert converse("remove eggs", "f").reply == "Which list should I take eggs off?"
        taken_off = converse("the shopping list", "f")
        assert taken_off.model == "skills:list.remove" and "eggs" in taken_off.reply, taken_off

        # Only right after, and only in its conversation: else the words are the llm's.
        assert converse("what time is it", "c").model == "skills:time.now"
        elsewhere = converse("and in Tokyo?", "other", timeout=10)
        assert elsewhere.error is not None and "language model" in elsewhere.error, elsewhere
        assert converse("what day is it", "c").model == "skills:time.weekday"
        unrelated = converse("and in Tokyo?", "c", timeout=10)  # no follow-up of the weekday
        assert unrelated.error is not None and "language model" in unrelated.error, unrelated
    finally:
        root.stop()


def test_an_unanswered_question_expires(make_config: ConfigFactory) -> None:
    root = start(make_config(memory__enabled=False, skills__answer_within=0.2))
    try:
        assert converse("set a timer", "c").reply == "For how long?"
        time.sleep(0.5)  # longer than answer_within: the question is gone
        late = converse("5 minutes", "c", timeout=10)
        assert late.error is not None and "language model" in late.error, late
    finally:
        root.stop()


class PrefillRecorder(supervisors.SupervisedActor):
    """Stands in for the llm: keeps the prompts it is asked to read ahead."""

    def __init__(self, read: list[str], arrived: threading.Event) -> None:
        super().__init__()
        self.read, self.arrived = read, arrived

    def on_receive(self, message: object) -> None:
        if isinstance(message, LLMPrefill):
            self.read.append(message.prompt)
            self.arrived.set()


def test_the_llm_does_not_read_ahead_a_turn_a_skill_will_answer(config: Config) -> None:
    read: list[str] = []
    arrived = threading.Event()
    root = start(config)
    stand_in = supervisors.ChildSpec(id="llm", name="llm", start=PrefillRecorder.start,
                                     args=(read, arrived))  # fmt: skip
    llm = supervisors.start_supervisor(supervisors.SupFlags(), [stand_in], name="llm-stand-in")
    try:
        for text in ("Set a timer for three minutes.", "What is the capital of France?"):
            supervisors.tell(DIALOGUE_NAME, TurnAhead(turn_id=text, conversation_id="c",
                                                      text=text, speaking=False))  # fmt: skip
        assert arrived.wait(10), "the llm was never asked to read ahead"
        # The dialogue actor handles its mail in order: the timer's came first.
        assert len(read) == 1 and "capital of France" in read[0], read
    finally:
        llm.stop()
        root.stop()


class Bell(supervisors.SupervisedActor):
    """Stands in for tts: keeps every announcement told to it."""

    def __init__(self, heard: list[TurnDone]) -> None:
        super().__init__()
        self.heard = heard

    def on_receive(self, message: object) -> None:
        if isinstance(message, TurnDone):
            self.heard.append(message)


@pytest.fixture
def heard(make_config: ConfigFactory) -> Iterator[list[TurnDone]]:
    """A tree whose fired items ring every 0.3 s for 30 s, told to a `Bell`: what it heard."""
    config = make_config(memory__enabled=False, skills__announce_to='["bell"]',
                         skills__ring_for=30, skills__ring_every=0.3)  # fmt: skip
    rung: list[TurnDone] = []
    bell = Bell.start(rung)
    supervisors.default_registry.register("bell", bell)
    root = start(config)
    try:
        yield rung
    finally:
        root.stop()
        supervisors.default_registry.unregister("bell", bell)
        bell.stop()


def test_a_fired_timer_rings_until_stop_or_the_wake_word(heard: list[TurnDone]) -> None:
    converse("set a timer for 1 second", "kitchen")
    wait_for(lambda: len(heard) >= 3, "the timer to ring three times", timeout=30)
    assert [d.reply for d in heard[:3]] == ["Your 1 second timer is done."] * 3
    assert all(d.source == "skills" for d in heard)
    stopped = converse("stop the timer", "kitchen")
    assert stopped.reply == "Okay."
    settle("bell")  # the rings told before the stop, kept
    rings = len(heard)
    time.sleep(0.8)
    assert len(heard) == rings  # silenced

    converse("set an alarm timer for 1 second", "kitchen")
    wait_for(lambda: len(heard) >= rings + 2, "the alarm to ring twice", timeout=30)
    supervisors.tell(SKILLS_NAME, WakeDetected(turn_id="t", keyword="jarvis", score=1.0))
    settle(SKILLS_NAME, "bell")  # the wake word handled, the rings before it kept
    rings = len(heard)
    time.sleep(0.8)
    assert len(heard) == rings  # the wake word silenced it too

    converse("set a tea timer for 1 second", "kitchen")
    wait_for(lambda: len(heard) >= rings + 2, "the tea timer to ring twice", timeout=30)
    converse("what time is it", "kitchen")  # "cancel it" no longer follows the timer's setting
    assert converse("cancel it", "kitchen").reply == "Okay."  # what rings is "it"
    settle("bell")
    rings = len(heard)
    time.sleep(0.8)
    assert len(heard) == rings


def test_a_snoozed_alarm_stops_ringing_and_rings_again(heard: list[TurnDone]) -> None:
    """ "Snooze" was "stop": a sleeper who snoozed was not woken again."""
    assert converse("snooze", "bedroom").reply == "There's no alarm ringing to snooze."
    converse("wake me up in 1 second", "bedroom")
    wait_for(lambda: len(heard) >= 2, "the alarm to ring twice", timeout=30)
    snoozed = converse("snooze for 4 seconds", "bedroom")  # the check below ends in ~1 s
    assert snoozed.reply == "Snoozed for 4 seconds."
    settle("bell")
    rings = len(heard)
    time.sleep(1.0)
    assert len(heard) == rings  # silenced by the snooze ...
    wait_for(lambda: len(heard) > rings, "the snoozed alarm to ring again", timeout=30)
    # "Jarvis, snooze": the wake word silences it before the words are heard.
    supervisors.tell(SKILLS_NAME, WakeDetected(turn_id="t", keyword="jarvis", score=1.0,
                                               room="bedroom"))  # fmt: skip
    assert converse("snooze for 3 seconds", "bedroom").reply == "Snoozed for 3 seconds."
    assert converse("snooze", "bedroom").reply == "There's no alarm ringing to snooze."
    rings = len(heard)
    wait_for(lambda: len(heard) > rings, "the alarm snoozed again to ring", timeout=30)
    assert converse("stop", "bedroom").reply == "Okay."  # ... which rings until "stop"
    listed = converse("what alarms do I have", "bedroom").reply
    assert "no alarms" in listed.lower(), listed


def test_a_timer_survives_a_crash_of_the_skills_actor(config: Config, fired: Fired) -> None:
    root = start(config)
    supervisors.faults.enable()
    try:
        converse("set a timer for 2 seconds", "kitchen")
        before = supervisors.whereis(SKILLS_NAME)
        assert before is not None
        before.tell(supervisors.Fault("raise", label="skills crash"))
        deadline = time.monotonic() + 5
        while supervisors.whereis(SKILLS_NAME) in (None, before) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert supervisors.whereis(SKILLS_NAME) not in (None, before)  # restarted
        event = fired.wait(timeout=10)  # the new actor read it back from the store
        assert event.item.length == 2 and event.late_s < 0.5
    finally:
        supervisors.faults.enable(False)
        root.stop()


def test_a_paused_timer_stays_paused_across_a_restart_and_rings_once_resumed(
    config: Config, fired: Fired
) -> None:
    root = start(config)
    try:
        converse("set a 2 second tea timer", "kitchen")
        paused = converse("pause the tea timer", "kitchen").reply
        assert paused.startswith("Paused the tea timer with 1") or paused.startswith(
            "Paused the tea timer with 2"), paused  # fmt: skip
    finally:
        root.stop()
    time.sleep(2.5)  # past the time it was due when it was set

    root = start(config)
    try:
        assert not fired.seen and not fired.arrived.wait(1.0), "a paused timer rang"
        left = converse("how long is left on the tea timer", "kitchen").reply
        assert left.endswith("left on the tea timer, paused."), left
        asked_at = time.time()
        assert converse("resume the tea timer", "kitchen").reply.startswith("Resumed the tea")
        answered_at = time.time()
        event = fired.wait(timeout=10)
        assert event.item.label == "tea" and event.late_s < 0.5
        # Due its held time (at most 2 s) after the resume, which came between the two.
        assert asked_at < event.item.due_at <= answered_at + 2
    finally:
        root.stop()


class DecliningLLM(supervisors.SupervisedActor):
    """Stands in for the llm: declines what it cannot do, as the system prompt asks."""

    def on_receive(self, message: object) -> None:
        if isinstance(message, LLMRequest) and message.reply_to:
            reply = "I can't do that." if "lights" in message.prompt else "It is Paris."
            said = LLMDone.whole_text(message.request_id, reply, turn_id=message.turn_id,
                                      times=message.times)  # fmt: skip
            supervisors.tell(message.reply_to, said)


def test_why_not_after_the_llm_declined_says_why_and_is_the_llm_s_after_anything_else(
    make_config: ConfigFactory,
) -> None:
    shipped = load_config(environ={}).llm.declines
    config = make_config(**{"memory.enabled": False, "llm.declines": json.dumps(shipped)})
    root = start(config)
    stand_in = supervisors.ChildSpec(id="llm", name="llm", start=DecliningLLM.start)
    llm = supervisors.start_supervisor(supervisors.SupFlags(), [stand_in], name="llm-stand-in")
    try:
        assert converse("Turn on the kitchen lights.", "why").reply == "I can't do that."
        why = converse("Why not?", "why")
        assert why.model == "skills:why.declined", why
        assert why.reply.startswith("I run offline"), why.reply
        # After an answer, and after a skill's refusal (which says its own why): the llm's.
        converse("What is the capital of France?", "why")
        assert converse("Why not?", "why").model != "skills:why.declined"
        refused = converse("Convert 3 kilograms to litres.", "why")
        assert refused.reply.startswith("Sorry, I can't"), refused
        assert converse("why can't you", "why").model != "skills:why.declined"
    finally:
        llm.stop()
        root.stop()


def test_a_joke_joins_the_llm_s_history_and_a_refusal_or_a_timer_does_not(
    config: Config,
) -> None:
    root = start(config)
    llm = supervisors.start_supervisor(
        supervisors.SupFlags(), [llm_child_spec(config, LLM_NAME)], name="llm-test"
    )

    def history() -> list[tuple[str, str]]:
        held = supervisors.ask(LLM_NAME, LLMGetHistory("joke"), timeout=30)
        assert isinstance(held, LLMHistory)
        return [(message.role, message.content) for message in held.messages[1:]]

    try:
        joke = converse("Tell me a joke.", "joke")
        assert joke.model == "skills:chance.joke", joke
        refused = converse("Set a timer for minus five minutes.", "joke")
        assert refused.reply.startswith("Sorry"), refused
        # A skill that acts is left out: its confirmation taught the model to claim actions.
        assert converse("Set a timer for 5 minutes.", "joke").model == "skills:timer.set"
        wait_for(lambda: history() != [], "the joke in the llm's history")
        assert history() == [("user", "Tell me a joke."), ("assistant", joke.reply)]
        # The llm's turn follows it (its own exchange is kept after it, unless its reply
        # declined: whatever the tiny model says, the joke stays first).
        explained = converse("Explain it.", "joke", timeout=60)
        assert explained.error is None and explained.model == config.llm.model, explained
        assert history()[:2] == [("user", "Tell me a joke."), ("assistant", joke.reply)]
        after = history()[2:]
        assert after == [] or (after[0] == ("user", "Explain it.") and len(after) == 2), after
    finally:
        llm.stop()
        root.stop()


@pytest.mark.parametrize(
    ("engine", "base_url", "added", "model"),
    [("llama.cpp", "http://gpu-box.lan:8000/v1", "",
      "SmolLM2-135M-Instruct, an open language model running here,"),
     ("openai", "http://127.0.0.1:8000/v1", "",
      "the language model m, on a server on this computer,"),
     ("openai", "http://gpu-box.lan:8000/v1",
      " But your settings have my language model answer on gpu-box.lan, so what you ask it "
      "goes there.", "the language model m, on gpu-box.lan,")],
)  # fmt: skip
def test_privacy_and_what_model_say_where_the_language_model_answers(
    make_config: ConfigFactory, engine: str, base_url: str, added: str, model: str
) -> None:
    config = make_config(**{"memory.enabled": False, "llm.engine": engine,
                            "llm.remote.base_url": base_url, "llm.remote.model": "m"})  # fmt: skip
    root = start(config)
    try:
        private = converse("Is my data private?", "privacy")
        assert private.model == "skills:about.privacy", private
        assert private.reply.startswith("I run on this computer"), private.reply
        assert private.reply.endswith("to clear it." + added), private.reply
        # Asked of the model: "I'm running the GPT-4 model, ... created by OpenAI."
        which = converse("What model are you running?", "privacy")
        assert which.reply == (
            f"I'm Solo, a voice assistant that runs on this computer. What "
            f"no skill of mine answers, {model} answers."
        ), which.reply
    finally:
        root.stop()
