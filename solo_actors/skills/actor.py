"""The ``skills`` actor: answers skill turns, and keeps timers, alarms and reminders durably.

It also owns the skills offered to the llm as tools: `ListTools` and `CallTool` (asks, from
the llm when the model calls one; see `solo_actors.skills.tools`) answer a call with the same
skill the spoken sentence would reach.

It takes a `SkillTurn` (tell, from the dialogue actor's hook) and answers it as the llm would
(`LLMToken`, `LLMDone`, `TurnDone` to the turn's ``reply_to``; the `TurnDone` on the events
hub, the turn in the store), so voice, text and the API need nothing new. `ListSkillItems`,
`CreateSkillItem` and `CancelSkillItem` (asks, from the API) list, create and cancel items.
The ``memory.*`` intents ("what do you remember about me", "forget that") are answered by
asking the memory actor (`solo_actors.skills.memories`), the ``volume.*`` intents ("turn it
down") by asking the speaker or the room's satellite actor (`solo_actors.skills.volume`), the
``speed.*`` intents ("speak slower") by asking tts (`solo_actors.skills.speaking_rate`). The
``list.*`` intents ("add milk to my shopping list") change the user's lists
(`solo_actors.skills.lists`), kept durably as the items are; `GetLists`, `AddToList` and
`CrossOffList` (asks, from the API) read and change the same lists.

Durability, as an Erlang engineer would have it: the store is the truth. A new or changed
item is written (`SaveSkillItem`, `SaveListItem`) and flushed before the reply says it is
set; at start the actor reads every pending (or paused) item and every open list item
back, so a crash of this actor or of the whole process loses nothing. An item that fell
due while Solo was down fires at once, saying how late it is. Only one wake-up timer is
ever armed: for the soonest item (a paused timer is not due). A fired timer or alarm rings:
its line is said again every ``skills.ring_every`` seconds until "stop" (or "cancel the
timer"), the wake word (`WakeDetected` from the wake actor) or ``skills.ring_for`` seconds;
a reminder is said once.

Rooms: an item set by a room's turn (`UserTurn.room`) rings in that room (`SayInRoom` to
its actor) and a room's timer tells it its Wyoming ``timer-*`` events (`RoomTimer`). Each
room's actor says when its satellite connects or is lost (`RoomLink`); an item due while
its room is away stays pending (durable) and is said there, late, when the room is back.
`Announce` (an ask, from the API) says a text in one room, or in all and locally.

`RecognizeIntent` (a tell from Solo's Wyoming server: Home Assistant's intent service) only
says which intents a text asks for, with their slots, and does nothing.
"""

from __future__ import annotations

import copy
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import msgspec
from msgspec.structs import replace

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.declines import Declines
from solo_actors.messages import (
    FORGOTTEN_WORDS,
    AddToList,
    Announce,
    Announced,
    CallTool,
    CancelSkillItem,
    CreateSkillItem,
    CrossOffList,
    Exchange,
    Flush,
    Flushed,
    GetLists,
    IntentsRecognized,
    Interrupt,
    JsonValue,
    ListChanged,
    ListItem,
    ListItems,
    ListSkillItems,
    ListTools,
    LLMAppend,
    LLMDone,
    LLMToken,
    Message,
    ReadRows,
    RecognizedIntent,
    RecognizeIntent,
    RecordTurn,
    RoomLink,
    RoomTimer,
    Rows,
    SaveListItem,
    SaveSkillItem,
    SayInRoom,
    SkillDeclined,
    SkillFired,
    SkillItem,
    SkillItems,
    SkillKind,
    SkillRefused,
    SkillTurn,
    StageTimes,
    TellRoomLink,
    ToolResult,
    Tools,
    TurnDone,
    TurnSource,
    UserTurn,
    WakeDetected,
)
from solo_actors.models import ModelError, ModelPaths, load_catalog
from solo_actors.names import DIALOGUE_NAME, LLM_NAME, SKILLS_NAME, SPEAKER, STORE_NAME, TTS
from solo_actors.rooms import room_name
from solo_actors.runtime.clock import now
from solo_actors.runtime.events import HUB
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.skills.builtin import (
    SAID_AGAIN,
    Answer,
    SkillBook,
    refuse,
    said_again,
    said_or_sorry,
)
from solo_actors.skills.dates import age_in_year, born_on, days_old, own_age, spoken_date
from solo_actors.skills.holidays import Holiday
from solo_actors.skills.hook import skill_matcher
from solo_actors.skills.lists import ListBook, ListFull
from solo_actors.skills.memories import MemorySkills, MemoryUnavailable, unreachable
from solo_actors.skills.speaking_rate import SpeakingRateSkills
from solo_actors.skills.stopwatch import Stopwatch, load_stopwatch, save_stopwatch
from solo_actors.skills.templates import Matcher, SkillMatch
from solo_actors.skills.tools import SkillTool, ToolsFileError, load_tools, unsaid
from solo_actors.skills.volume import VolumeSkills
from solo_actors.skills.words import NoMatch, in_your_words, normalise

LOCAL = "local"
"""Solo's own speaker, as a place things are said (beside the rooms)."""
HEARD_LOCALLY: tuple[TurnSource, ...] = ("voice", "text")
"""Turns whose asker hears Solo's own speaker: its microphone, and the terminal's chat."""

AGAIN = "chance.again"
""""Another one": the conversation's last request again, if it was one of `REPEATABLE`."""
REPEATABLE = ("chance.coin", "chance.dice", "chance.number", "chance.joke")
"""Requests whose answer differs each time, so "another one" asks them again."""
REPEATABLE_KEPT = 256
"""Conversations whose last such request is kept (the oldest go first)."""
SKILLS_MODEL = "skills:"
"""What a skill's `TurnDone.model` opens with, before its intents."""
LOOPBACK = ("localhost", "127.0.0.1", "::1")
"""Hosts that are this computer: a language model server there keeps everything here."""
MODEL = "about.model"
""""What model are you?": Solo, and the language model that answers."""
PRIVACY = "about.privacy"
""""Is my data private?": its set words, and where the language model runs if elsewhere."""
WHY_DECLINED = "why.declined"
""""Why not?": answered here only right after a reply that declined."""
UNTIL_BIRTHDAY = "time.until_birthday"
""""How many days until my birthday?": from the memory that tells it."""
OWN_AGE, BORN_WEEKDAY = "time.own_age", "time.born_weekday"
BORN_YEAR, AGE_IN_YEAR, DAYS_OLD = "time.born_year", "time.age_in_year", "time.days_old"
FROM_BIRTH = (OWN_AGE, BORN_WEEKDAY, BORN_YEAR, AGE_IN_YEAR, DAYS_OLD)
""""How old am I?", "What day was I born?", "What year was I born?", "How old will I be in
2030?", "How many days old am I?": from the memories that tell the year and day."""
BIRTH_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
"""A year someone living was born in, as a memory of the user's birthday says it."""

LOAD_RETRY = 1.0
"""Seconds between tries to read the pending items while the store is not answering."""
ITEMS_MAX = 10_000
Stored = TypeVar("Stored", SkillItem, ListItem)
"""What the actor keeps in the store and reads back at start."""
ANNOUNCE_RETRY = 0.5
"""Seconds between tries to announce to a receiver that is not running yet (at start, an
item that fell due while Solo was down fires before the voice supervisor has started)."""
ANNOUNCE_TRIES = 600
"""Five minutes of tries: on a loaded 2-core machine the voice tree's start (Whisper, Piper,
the wake engine) has taken over a minute, and an item that fell due while Solo was down
must still be said once it is up."""


class _Due(msgspec.Struct, frozen=True):
    """Timer: the soonest item may be due."""


class _Load(msgspec.Struct, frozen=True):
    """Timer: read the pending items from the store (again)."""


class _Announce(msgspec.Struct, frozen=True, kw_only=True):
    """Timer: tell an announcement again to a receiver that was not running."""

    name: str
    announcement: TurnDone
    tries_left: int


class _Ring(msgspec.Struct, frozen=True, kw_only=True):
    """Timer: say a fired timer's or alarm's line again, unless it was silenced."""

    item_id: str


@dataclass(frozen=True)
class Ringing:
    item: SkillItem
    text: str
    until: float


SILENCES: dict[str, SkillKind | None] = {
    "stop": None, "cancel.which": None, "timer.cancel": "timer", "timer.cancel_all": "timer",
    "alarm.cancel": "alarm", "alarm.cancel_all": "alarm", "alarm.snooze": "alarm",
}  # fmt: skip
"""Intents that end ringing, and of which kind (None: every kind)."""
SNOOZABLE_AFTER = 60.0
"""Seconds an alarm silenced by the wake word or "stop" may still be snoozed: "Jarvis,
snooze" silences it with the wake word before the words are heard."""


def recognized(matcher: Matcher, text: str) -> list[RecognizedIntent]:
    """The intents ``text`` asks for, slots as JSON values (a duration in seconds)."""

    def plain(value: Any) -> JsonValue:
        return value if isinstance(value, str | int | float | bool) or value is None else str(value)

    return [RecognizedIntent(name=match.intent, error=match.error,
                             slots={key: plain(value) for key, value in match.slots.items()})
            for match in matcher.match_all(text)]  # fmt: skip


class SkillsActor(supervisors.SupervisedActor):
    contained = (
        ListSkillItems,
        CreateSkillItem,
        CancelSkillItem,
        Announce,
        GetLists,
        AddToList,
        CrossOffList,
    )
    """The API's requests: their handlers change the book only at their last step, so one
    that fails (a body no check foresaw) fails alone. A crash each time a client sends it
    would use up the tree's restart intensity and stop the assistant (it did, with the
    fuzzer's due_at past year 9999)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.settings = config.skills
        self.log = get_logger(SKILLS_NAME)
        self.matcher = skill_matcher(config) or Matcher([])
        self.book = SkillBook(self.settings, self.matcher)
        self.stopwatch_file = config.solo.var_path("skills", "stopwatch.json")
        self.stopwatch_saved = Stopwatch()
        """The stopwatch as last read or saved: it is saved again only when it changed."""
        self.declines = Declines(config.llm.declines)
        elsewhere = served_elsewhere(config)
        self.llm_elsewhere = (
            f" But your settings have my language model answer on {elsewhere}, so what you "
            "ask it goes there." if elsewhere else ""
        )  # fmt: skip
        """What the privacy answer adds when the llm is a server's (`llm.engine`)."""
        self.llm_named = language_model_named(config)
        self.llm_history = {intent.name for intent in self.matcher.intents if intent.llm_history}
        """Intents whose exchanges the llm's history gets (`Intent.llm_history`)."""
        self.memories = MemorySkills(
            self.settings.store_timeout,
            keeping=config.dialogue.remember if config.memory.enabled else None,
        )
        self.volume = VolumeSkills(self.settings.store_timeout)
        self.speaking_rate = SpeakingRateSkills(self.settings.store_timeout)
        self.lists = ListBook()
        self.loaded = False
        self.wake_at = math.inf
        self.ringing: dict[str, Ringing] = {}
        self.hushed: dict[str, tuple[SkillItem, float]] = {}
        """Alarms silenced lately, by item id, with when: still snoozable for
        `SNOOZABLE_AFTER` (the wake word of "Jarvis, snooze" silences the alarm first)."""
        self.rooms = {satellite.name for satellite in config.satellites}
        self.rooms_up: set[str] = set()
        """Rooms whose satellite is connected (`RoomLink`)."""
        self.held: set[str] = set()
        """Items that fell due while their room was not connected: said when it is."""
        self.announced: dict[str, Exchange] = {}
        """The last line said unasked in each place (a room, or `LOCAL`): a ring, a reminder,
        an announcement. "Say that again" said there repeats it if nothing was said since."""
        self.repeatable: dict[str, tuple[str, str]] = {}
        """Per conversation, its last `REPEATABLE` request and the reply it got: "another
        one" right after that reply asks it again (and again, each reply kept in turn)."""
        self.started_at = time.time()
        self.counts = dict.fromkeys(
            ("turns", "fired", "late", "refused", "declined", "tool_calls", "tool_calls_unsaid"), 0
        )
        self.tools: dict[str, SkillTool] = {}
        self.tools_error: str | None = None
        if self.settings.enabled:
            try:
                self.tools = load_tools(REPO_ROOT / self.settings.tools_file)
            except ToolsFileError as error:
                # A typo in the tools file costs the tools, never the skills themselves.
                self.tools_error = f"skills.tools_file: {error}"
                self.log.error("skill tools not loaded", error=str(error))

    def on_start(self) -> None:
        for room in self.rooms:  # a restarted skills actor learns which rooms are up
            self.tell(room_name(room), TellRoomLink())
        self.load()
        try:
            self.book.stopwatch = load_stopwatch(self.stopwatch_file)
        except ValueError as error:  # a broken file costs the stopwatch's count, nothing else
            self.log.warning("stopwatch not restored", error=str(error),
                             fix="start the stopwatch again")  # fmt: skip
        self.stopwatch_saved = copy.copy(self.book.stopwatch)

    def keep_stopwatch(self) -> None:
        """Save the stopwatch if a turn changed it, so that a restart keeps it counting."""
        if self.book.stopwatch == self.stopwatch_saved:
            return
        try:
            save_stopwatch(self.stopwatch_file, self.book.stopwatch)
            self.stopwatch_saved = copy.copy(self.book.stopwatch)
        except OSError as error:
            self.log.error("stopwatch not saved", error=str(error), path=str(self.stopwatch_file))

    def on_receive(self, message: Any) -> Any:
        match message:
            case SkillTurn():
                self.answer(message.turn, message.text or message.turn.text, message.last)
            case _Due():
                self.wake_at = math.inf
                self.fire_due()
            case _Load():
                self.load()
            case _Ring():
                self.ring_again(message.item_id)
            case _Announce():
                self.tell_announcement(message.name, message.announcement, message.tries_left)
            case RecognizeIntent():
                self.tell(message.reply_to, IntentsRecognized(
                    request_id=message.request_id, intents=recognized(self.matcher, message.text),
                ))  # fmt: skip
            case WakeDetected():
                self.silence(["stop"], message.room)  # the wake word ends ringing, as "stop"
            case RoomLink():
                self.room_link(message)
            case Announce():
                return self.announce_text(message)
            case ListSkillItems():
                return SkillItems(items=self.book.pending(message.kind))
            case GetLists():
                return ListItems(items=self.listed(message.list_name))
            case AddToList() | CrossOffList():
                return self.change_list(message)
            case CreateSkillItem():
                if message.room is not None and message.room not in self.rooms:
                    return self.no_such_room(message.room, "invalid")
                at = time.time()
                return self.change(self.book.create(
                    message.kind, message.label, message.due_at, message.length, at,
                    message.room, message.repeats,
                ), set(self.book.items))  # fmt: skip
            case CancelSkillItem():
                before = set(self.book.items)
                answer = self.book.cancel_one(message.item_id, message.kind)
                return self.change(answer, before, missing=True)
            case ListTools():
                items = [tool.definition() for tool in self.tools.values()]
                return Tools(items=items, error=self.tools_error)
            case CallTool():
                return self.call_tool(message)
            case _:
                self.log.warning("unknown message ignored", type=type(message).__name__)
        return None

    # -- durability -------------------------------------------------------------------------

    def load(self) -> None:
        """Read the pending items and the lists' open items; retried until the store answers
        (items set meanwhile are kept: the store's copy never replaces a newer one held here)."""
        pending = self.read_items("skill_items", "pending", SkillItem)
        paused = self.read_items("skill_items", "paused", SkillItem)
        listed = self.read_items("list_items", "open", ListItem)
        if pending is None or paused is None or listed is None:
            self.send_after(LOAD_RETRY, _Load())
            return
        self.book.load([i for i in pending + paused if i.item_id not in self.book.items])
        self.lists.load(listed)
        self.loaded = True
        self.log.info("skills ready", pending=len(self.book.items), listed=len(self.lists.items))
        self.fire_due()

    def read_items(self, table: str, state: str, kind: type[Stored]) -> list[Stored] | None:
        """The rows of ``table`` in ``state``, as ``kind``; None (logged) if the store did not
        answer."""
        request = ReadRows(table=table, equals={"state": state}, limit=ITEMS_MAX)
        try:
            rows = supervisors.ask(STORE_NAME, request, timeout=self.settings.store_timeout)
        except supervisors.UNANSWERED as error:
            rows = f"the store {supervisors.why_unanswered(error, self.settings.store_timeout)}"
        if not isinstance(rows, Rows):
            self.log.warning("items not loaded yet; retrying", table=table, answer=str(rows))
            return None
        return [msgspec.convert(dict(zip(rows.columns, row, strict=True)), kind)
                for row in rows.rows]  # fmt: skip

    def save(self, items: list[SkillItem], listed: list[ListItem] | None = None) -> bool:
        """Write ``items`` and ``listed`` and wait until they are durable; False if they are
        not."""
        writes: list[Message] = [SaveSkillItem(item=item) for item in items]
        writes += [SaveListItem(item=item) for item in listed or []]
        for write in writes:
            self.tell(STORE_NAME, write)
        if not writes:
            return True
        try:
            flushed = supervisors.ask(STORE_NAME, Flush(), timeout=self.settings.store_timeout)
        except supervisors.UNANSWERED:
            return False
        return isinstance(flushed, Flushed) and flushed.durable

    def change(
        self, answer: Answer, before: set[str], *, missing: bool = False
    ) -> SkillItems | SkillRefused:
        """Make an API request's change durable and answer it; ``before``: the pending ids
        before it; ``missing``: a refusal means there was no such item."""
        if answer.refused:
            return SkillRefused(message=answer.text, reason="not_found" if missing else "invalid")
        if not self.save(answer.changed):
            message = (
                "done, but the store did not confirm it, so it may not survive a "
                "restart: check GET /timers, /alarms or /reminders before retrying"
            )
            return SkillRefused(message=message, reason="unavailable")
        self.tell_rooms(answer.changed, before)
        self.schedule()
        self.publish()
        return SkillItems(items=answer.changed)

    def change_list(self, request: AddToList | CrossOffList) -> ListChanged | SkillRefused:
        """An API request's change to a list, made durable, as a spoken one is."""
        if not self.lists.loaded:  # its items may be crossed off or on it already
            return SkillRefused(message="the lists are not read back from the store yet",
                                reason="unavailable")  # fmt: skip
        name = self.list_named(request.list_name)
        if name is None:
            # Putting items on a list makes it, so there the name is wrong (400); crossing off
            # asks for a list that is not there (404).
            message = f"{request.list_name!r} names no list (say one, such as 'shopping')"
            making = isinstance(request, AddToList)
            return SkillRefused(message=message, reason="invalid" if making else "not_found")
        now = time.time()
        already: list[str] = []
        if isinstance(request, AddToList):
            try:
                changed, already = self.lists.put(name, request.items, now)
            except ListFull as full:
                return SkillRefused(message=str(full), reason="invalid")
        elif request.item_id is None:  # the whole list
            changed = self.lists.cross_off(self.lists.open_items(name), now)
        else:
            item = self.lists.items.get(request.item_id)
            if item is None or item.list_name != name:
                return SkillRefused(message=f"no open item {request.item_id!r} on the "
                                    f"{name} list", reason="not_found")  # fmt: skip
            changed = self.lists.cross_off([item], now)
        if not self.save([], changed):
            message = ("done, but the store did not confirm it, so it may not survive a "
                       "restart: check GET /lists before retrying")  # fmt: skip
            return SkillRefused(message=message, reason="unavailable")
        self.publish()
        return ListChanged(items=changed, already=already)

    def listed(self, said: str | None) -> list[ListItem]:
        """Every open item (``said`` None), or those of the list ``said`` names (none if it
        names none)."""
        if said is None:
            return self.lists.open_items()
        name = self.list_named(said)
        return self.lists.open_items(name) if name else []

    def list_named(self, said: str) -> str | None:
        """The list ``said`` (a path, a query) names, as a spoken request names it: "To-Do"
        and "todo" are the to-do list (the skill files' aliases); None if it names none."""
        try:
            return str(self.matcher.kinds["list"].parse(normalise(said)))
        except NoMatch:
            return None

    # -- turns ------------------------------------------------------------------------------

    def answer(self, turn: UserTurn, text: str, last: Exchange | None = None) -> None:
        """Answer ``turn``, whose request is ``text`` (its own, or what it completes);
        ``last`` is its conversation's turn before."""
        self.counts["turns"] += 1
        request = text
        matches = self.matcher.match_all(text)
        at = time.time()
        before = set(self.book.items)
        answers = [self.answer_one(match, turn, at, last) for match in matches] or [
            Answer("Sorry, I didn't catch that.")  # the hook matched the same templates
        ]
        if all(answer.to_llm for answer in answers):
            self.counts["declined"] += 1
            recalled = [memory for answer in answers for memory in answer.recalled]
            self.tell(DIALOGUE_NAME, SkillDeclined(turn=turn, memories=recalled))
            return
        silenced = self.silence([m.intent for m in matches], turn.room)
        if silenced and not any(a.changed for a in answers):
            answers = [Answer("Okay.", stop=True)]  # "stop the timer" while it rings
        self.counts["refused"] += sum(answer.refused for answer in answers)
        text = " ".join(answer.text for answer in answers)
        changed = [item for answer in answers for item in answer.changed]
        listed = [item for answer in answers for item in answer.listed]
        if not self.save(changed, listed):
            self.log.error("skill items not durable", items=len(changed), listed=len(listed))
            text += " But I couldn't save it, so it won't survive a restart."
        self.keep_stopwatch()  # saved before it is said, as the items are
        self.tell_rooms(changed, before)
        for answer in answers:
            if answer.announce:  # everywhere but where it was asked, which hears the reply
                where = self.announce_text(Announce(text=answer.announce), turn.room or LOCAL)
                if isinstance(where, Announced) and not where.delivered:
                    text = text.replace(answer.text, "There was no other room to announce it in.")
        if any(answer.stop for answer in answers):
            for name in (TTS, SPEAKER):
                self.tell(name, Interrupt(reason="stop"))
        # Saying the last turn again is no new turn: "say that again" twice says it twice.
        new_turn = not all(match.intent in SAID_AGAIN for match in matches)
        recorded = text
        for words in (words for answer in answers for words in answer.forgotten):
            recorded = recorded.replace(words, FORGOTTEN_WORDS)
        model = SKILLS_MODEL + "+".join(m.intent for m in matches)
        self.keep_repeatable(turn.conversation_id, [m.intent for m in matches], request, text)
        self.reply(turn, text, model, new_turn, recorded=recorded)
        followed = all(match.intent in self.llm_history for match in matches)
        if new_turn and followed and not any(answer.refused for answer in answers):
            # The llm's next turn in this conversation reads it: "explain it" after a joke.
            # A refusal is left out, as the llm's own declines are (docs/llm.md).
            said = LLMAppend(conversation_id=turn.conversation_id, said=turn.text,
                             reply=recorded)  # fmt: skip
            self.tell(LLM_NAME, said)
        self.schedule()
        self.publish()

    def answer_one(
        self, match: SkillMatch, turn: UserTurn, at: float, last: Exchange | None
    ) -> Answer:
        """One request's answer: from the memory actor, the speaker (or the room's satellite),
        the conversation's last turn, or the book (timers, alarms, reminders, sums ...)."""
        if self.memories.answers(match):
            return self.memories.answer(match, turn)
        if self.volume.answers(match):
            return self.volume.answer(match, turn.room)
        if self.speaking_rate.answers(match):
            return self.speaking_rate.answer(match)
        if self.lists.answers(match):
            return self.lists.answer(match, at)
        if match.intent in SAID_AGAIN:
            return said_again(match, last if match.intent != "repeat" else self.heard(turn, last))
        if match.intent == AGAIN:
            return self.again(turn, at, last)
        if match.intent == WHY_DECLINED:
            return self.why_declined(match, last)
        if match.intent == UNTIL_BIRTHDAY:
            person = match.said.get("person") or str(match.slots.get("person", ""))
            return self.until_birthday(at, person)
        if match.intent in FROM_BIRTH:
            return self.own_age(match, at)
        if match.intent == PRIVACY:
            return Answer(self.matcher.set_words(match.intent) + self.llm_elsewhere)
        if match.intent == MODEL:
            return Answer(f"I'm Solo, a voice assistant that runs on this computer. What no "
                          f"skill of mine answers, {self.llm_named} answers.")  # fmt: skip
        if match.intent == "alarm.snooze":
            return self.book.snooze(match, at, self.ringing_alarm(turn.room))
        return self.book.answer(match, at, turn.room)

    def birthday_told(self, person: str = "") -> Holiday | None:
        """The user's birthday (or `person`'s), from the newest memory that tells its day
        ("My birthday is March 3rd.", not "I was born in 1990.")."""
        day = self.memories.birthday(person, lambda words: next(
            iter(self.matcher.values_said(words, "day")), None))  # fmt: skip
        birthday = self.matcher.kinds["holiday"].parse(day) if day else None
        return birthday if isinstance(birthday, Holiday) else None

    def birth_year_told(self) -> int | None:
        """The year the user was born, from the newest memory of their birthday that has
        one ("I was born in 1990.", "My birthday is March 3rd, 1990.")."""
        year = self.memories.birthday("", lambda words: found[0] if (
            found := BIRTH_YEAR.search(words)) else None)  # fmt: skip
        return int(year) if year else None

    def own_age(self, match: SkillMatch, at: float) -> Answer:
        """ "How old am I?" and "What day was I born?", from the year and the day the user
        told: the model, with "I was born in 1990" in front of it, said 30 in 2026, and
        Wednesday for a Saturday."""
        try:
            year, birthday = self.birth_year_told(), self.birthday_told()
        except MemoryUnavailable as error:
            return refuse(unreachable(error))
        today = self.book.today(at)
        if match.intent in (BORN_WEEKDAY, DAYS_OLD):
            if year is None or birthday is None:
                return Answer("You haven't told me the day you were born. Say, for example: "
                              "I was born on March 3rd, 1990.")  # fmt: skip
            if match.intent == DAYS_OLD:
                return said_or_sorry(lambda: days_old(year, birthday, today))
            return said_or_sorry(lambda: born_on(year, birthday))
        if year is None:
            return Answer("You haven't told me the year you were born. Say, for example: I "
                          "was born on March 3rd, 1990.")  # fmt: skip
        if match.intent == BORN_YEAR:
            on = f"on {birthday.name}, " if birthday is not None else "in "
            return Answer(f"You were born {on}{year}.")
        if match.intent == AGE_IN_YEAR:
            return said_or_sorry(lambda: age_in_year(year, match.slots["year"], birthday, today))
        return said_or_sorry(lambda: own_age(year, birthday, today))

    def until_birthday(self, at: float, person: str = "") -> Answer:
        """ "Your birthday is in 86 days, on Wednesday, March 3.", or `person`'s ("my sister":
        "Your sister's birthday ..."): the date from the newest memory that tells it ("My
        birthday is March 3rd."). The model, reading that memory, said "There are 10 days
        until your birthday on March 3rd." on December 7, and the same of a sister's."""
        try:
            birthday = self.birthday_told(person)
        except MemoryUnavailable as error:
            return refuse(unreachable(error))
        whose = f"{in_your_words(person)}'s" if person else "your"
        if birthday is None:
            example = f"{person}'s birthday" if person else "my birthday"
            return Answer(f"You haven't told me {whose} birthday. Say, for example: "
                          f"{example} is March 3rd.")  # fmt: skip
        today = self.book.today(at)
        date = birthday.next_date(today)
        said = f"{whose[0].upper()}{whose[1:]} birthday"
        match (date - today).days:
            case 0:
                return Answer(f"It's {whose} birthday today."
                              + ("" if person else " Happy birthday!"))  # fmt: skip
            case 1:
                return Answer(f"{said} is tomorrow, {spoken_date(date)}.")
            case days_left:
                return Answer(f"{said} is in {days_left} days, on {spoken_date(date)}.")

    def again(self, turn: UserTurn, at: float, last: Exchange | None) -> Answer:
        """ "Another one" right after a joke, a coin, dice or a number: that request again.
        After anything else it is the llm's, which reads the conversation ("another one"
        after a recipe)."""
        kept = self.repeatable.get(turn.conversation_id)
        if last is None or kept is None or kept[1] != last.reply:
            return Answer("", to_llm=True)
        previous = self.matcher.match(kept[0])
        if previous is None:  # the skill files changed since
            return Answer("", to_llm=True)
        return self.book.answer(previous, at, turn.room)

    def why_declined(self, match: SkillMatch, last: Exchange | None) -> Answer:
        """ "Why not?" right after the llm declined (`Declines`): the intent's set words.
        After any other reply it is the llm's, which reads the conversation; a skill's
        refusal says its own why ("Sorry, I can't convert volume to mass.")."""
        if last is None or last.model.startswith(SKILLS_MODEL) or not self.declines(last.reply):
            return Answer("", to_llm=True)
        return Answer(self.matcher.set_words(match.intent))

    def keep_repeatable(
        self, conversation_id: str, intents: list[str], request: str, reply: str
    ) -> None:
        """Keep the conversation's request if it is one "another one" may ask again."""
        if intents == [AGAIN] and conversation_id in self.repeatable:
            request = self.repeatable[conversation_id][0]
        elif len(intents) != 1 or intents[0] not in REPEATABLE:
            return
        self.repeatable.pop(conversation_id, None)  # the newest last: the oldest go first
        self.repeatable[conversation_id] = (request, reply)
        if len(self.repeatable) > REPEATABLE_KEPT:
            del self.repeatable[next(iter(self.repeatable))]

    def ringing_alarm(self, room: str | None) -> SkillItem | None:
        """The alarm ringing where ``room``'s user hears it (None: any, as for "stop"), or
        silenced there less than `SNOOZABLE_AFTER` ago; no longer snoozable once returned."""
        lately = time.time() - SNOOZABLE_AFTER
        ringing = [r.item for r in self.ringing.values() if r.item.kind == "alarm"]
        hushed = sorted(self.hushed.values(), key=lambda hushed: hushed[1], reverse=True)
        latest_first = [*reversed(ringing), *(item for item, at in hushed if at >= lately)]
        for item in latest_first:
            if room is None or item.room == room:
                self.hushed.pop(item.item_id, None)
                return item
        return None

    def heard(self, turn: UserTurn, last: Exchange | None) -> Exchange | None:
        """What the asker of ``turn`` heard last: the conversation's last turn, or a line
        said unasked where they are since (a timer ringing in their room or at Solo's own
        speaker). An API caller hears no speaker."""
        place = turn.room or (LOCAL if turn.source in HEARD_LOCALLY else None)
        said = self.announced.get(place) if place is not None else None
        return said if said is not None and (last is None or said.at > last.at) else last

    def call_tool(self, call: CallTool) -> ToolResult:
        """Run a tool call as the sentence that says it: matched, answered and made durable
        like a spoken request."""
        self.counts["tool_calls"] += 1
        tool = self.tools.get(call.name)
        try:
            if tool is None:
                raise ValueError(f"no skill tool {call.name!r} (known: {', '.join(self.tools)})")
            sentences = tool.sentences_for(call.arguments)
        except ValueError as error:
            return ToolResult(call_id=call.call_id, name=call.name, content=str(error), error=True)
        at = time.time()
        before = set(self.book.items)
        answers: list[Answer] = []
        for sentence in sentences:
            match = self.matcher.match(sentence)
            missing = None if match is None or call.said is None else (
                unsaid(self.matcher, match, call.said)
            )  # fmt: skip
            if match is None:
                text = f"{call.name}: could not understand {sentence!r}; rephrase the arguments"
                answers.append(Answer(text, refused=True))
            elif missing is not None:
                self.counts["tool_calls_unsaid"] += 1
                text = (f"{call.name} not done: the user did not say the {missing}. Do not guess "
                        "it: ask the user, or say you can't do that.")  # fmt: skip
                answers.append(Answer(text, refused=True))
            else:
                answers.append(self.book.answer(match, at, call.room))
        text = " ".join(answer.text for answer in answers)
        changed = [item for answer in answers for item in answer.changed]
        if not self.save(changed):
            text += " But it could not be saved, so it won't survive a restart."
        self.tell_rooms(changed, before)
        self.schedule()
        self.publish()
        self.log.info("tool call", tool=call.name, sentences=len(sentences))
        self.log.debug("tool call words", tool=call.name, sentences=sentences)
        refused = all(answer.refused for answer in answers)
        return ToolResult(call_id=call.call_id, name=call.name, content=text, error=refused)

    def reply(
        self, turn: UserTurn, text: str, model: str, new_turn: bool, recorded: str | None = None
    ) -> None:
        """Answer ``turn`` exactly as the dialogue actor answers with the llm's reply; a
        ``new_turn`` is told to the dialogue actor, as its conversation's last turn. The
        store records ``recorded`` as the reply, if given: the words less what was forgotten."""
        times = replace(turn.times, first_token=now())
        request_id = turn.turn_id
        if turn.reply_to is not None:
            token = LLMToken(request_id=request_id, text=text, index=0, turn_id=turn.turn_id)
            self.tell(turn.reply_to, token)
            self.tell(turn.reply_to, LLMDone.whole_text(request_id, text, turn_id=turn.turn_id,
                                                        times=times))  # fmt: skip
        done = TurnDone(
            turn_id=turn.turn_id, conversation_id=turn.conversation_id, source=turn.source,
            text=turn.text, reply=text, times=replace(times, done=now()), model=model,
        )  # fmt: skip
        if new_turn:  # first: a next turn, sent once the asker has the reply, comes after it
            self.tell(DIALOGUE_NAME, done)
        if turn.reply_to is not None:
            self.tell(turn.reply_to, done)
        HUB.publish(done)
        self.tell(STORE_NAME, RecordTurn(
            turn_id=turn.turn_id, conversation_id=turn.conversation_id, user_text=turn.text,
            reply_text=text if recorded is None else recorded, model=model, finish_reason="stop",
            times=done.times,
        ))  # fmt: skip

    # -- firing -----------------------------------------------------------------------------

    def away(self, item: SkillItem) -> bool:
        """``item`` rings in a configured room whose satellite is not connected now."""
        return item.room in self.rooms and item.room not in self.rooms_up

    def schedule(self) -> None:
        """Arm the wake-up for the soonest pending item, unless one as early is armed (an
        item held for its room waits for the room, not for a time)."""
        pending = [item for item in self.book.counting() if item.item_id not in self.held]
        if pending and pending[0].due_at < self.wake_at:
            self.wake_at = pending[0].due_at
            self.send_after(max(0.0, self.wake_at - time.time()), _Due())

    def fire_due(self) -> None:
        at = time.time()
        for item in self.book.due(at):
            if self.away(item):
                # Kept pending (so a restart keeps it too), said when the room is back.
                if item.item_id not in self.held:
                    self.log.info("skill item waits for its room", room=item.room, id=item.item_id)
                self.held.add(item.item_id)
                continue
            # Late because its room was away, not because Solo was down (at start no room is
            # connected yet: an item due before then was late for the latter).
            away = item.item_id in self.held and item.due_at >= self.started_at
            self.held.discard(item.item_id)
            fired, text = self.book.fire(item, at, away)
            late = max(0.0, at - item.due_at)
            self.counts["fired"] += 1
            self.counts["late"] += late >= self.settings.late_after
            self.log.info("skill item fired", kind=item.kind, late_s=late)
            self.log.debug("skill item fired words", label=item.label)
            # Said first, then stored as fired: a crash in between says it again after the
            # restart (at least once), never not at all.
            HUB.publish(SkillFired(item=fired, text=text, late_s=late))
            if fired.kind == "timer" and fired.room in self.rooms_up:
                assert fired.room is not None
                self.tell(room_name(fired.room), RoomTimer(change="finished",
                                                           timer_id=fired.item_id))  # fmt: skip
            self.announce(fired, text)
            # A repeating alarm or reminder is followed by its next time, saved with it.
            self.save([fired, *self.book.next_occurrence(fired, at)])
            if item.kind != "reminder" and self.settings.ring_for > 0:
                self.ringing[item.item_id] = Ringing(fired, text, at + self.settings.ring_for)
                self.send_after(self.settings.ring_every, _Ring(item_id=item.item_id))
        self.schedule()
        self.publish()

    def announce(self, item: SkillItem, text: str) -> None:
        """Say a fired item's line where it rings: in its room, else on Solo's own speaker.
        A room that went away while it rings misses the repeats; an item whose room was
        removed from the config rings on Solo's own speaker."""
        if item.room in self.rooms:
            assert item.room is not None
            if self.say_in_room(item.room, text):
                self.said_unasked(item.room, text)
        else:
            self.say_locally(text, f"skills:{item.kind}")
            self.said_unasked(LOCAL, text)

    def said_unasked(self, place: str, text: str) -> None:
        self.announced[place] = Exchange(said="", reply=text, at=now())

    def say_locally(self, text: str, model: str) -> None:
        announcement = TurnDone(
            turn_id=new_id(), conversation_id=SKILLS_NAME, source="skills", text="",
            reply=text, times=StageTimes(done=now()), model=model,
        )  # fmt: skip
        for name in self.settings.announce_to:
            self.tell_announcement(name, announcement, ANNOUNCE_TRIES)

    def say_in_room(self, room: str, text: str) -> bool:
        """Tell ``room``'s actor to speak ``text`` (after a chime); False: not connected."""
        if room not in self.rooms_up:
            self.log.warning("room not connected; not said there", room=room)
            return False
        outcome = supervisors.cast(room_name(room), SayInRoom(text=text, alert=True))
        if outcome != "ok":
            self.log.warning("announcement not delivered", room=room, why=outcome)
        return outcome == "ok"

    def no_such_room(self, room: str, reason: Literal["invalid", "not_found"]) -> SkillRefused:
        rooms = ", ".join(sorted(self.rooms)) or "none ([[satellites]] in the config)"
        return SkillRefused(message=f"no room {room!r}; the rooms are: {rooms}",
                            reason=reason)  # fmt: skip

    def announce_text(self, request: Announce, asker: str = "") -> Announced | SkillRefused:
        """An announcement: in one room, or in every room and locally, but not ``asker``'s
        (a room's name, or "local")."""
        text = request.text.strip()
        if not text:
            return SkillRefused(message="an announcement needs a text to say")
        if request.room is not None and request.room not in self.rooms:
            return self.no_such_room(request.room, "not_found")
        delivered: list[str] = []
        if request.room is None and asker != LOCAL:
            self.say_locally(text, "skills:announce")
            delivered.append(LOCAL)
        targets = sorted(self.rooms - {asker}) if request.room is None else [request.room]
        delivered += [room for room in targets if self.say_in_room(room, text)]
        for place in delivered:
            self.said_unasked(place, text)
        unreachable = [room for room in targets if room not in delivered]
        self.log.info("announced", delivered=delivered, unreachable=unreachable)
        self.log.debug("announced words", text=text)
        return Announced(delivered=delivered, unreachable=unreachable)

    def room_link(self, link: RoomLink) -> None:
        if not link.connected:
            self.rooms_up.discard(link.room)
            return
        self.rooms_up.add(link.room)
        if any(self.book.items[i].room == link.room for i in self.held if i in self.book.items):
            self.fire_due()  # what fell due while the room was away, said late

    def tell_rooms(self, changed: list[SkillItem], before: set[str]) -> None:
        """The Wyoming ``timer-*`` events of the room timers a request started, changed or
        cancelled, to their room (``before``: the pending ids before it)."""
        at = time.time()
        for item in changed:
            if item.kind != "timer" or item.room not in self.rooms_up:
                continue
            assert item.room is not None
            if item.state == "cancelled":
                event = RoomTimer(change="cancelled", timer_id=item.item_id)
            elif item.item_id in before:  # longer, paused or resumed
                event = RoomTimer(change="updated", timer_id=item.item_id,
                                  seconds=max(0.0, item.seconds_left(at)),
                                  active=item.state != "paused")  # fmt: skip
            else:
                event = RoomTimer(change="started", timer_id=item.item_id, seconds=item.length,
                                  name=item.label or None)  # fmt: skip
            self.tell(room_name(item.room), event)

    def tell_announcement(self, name: str, announcement: TurnDone, tries_left: int) -> None:
        """Tell ``name`` the announcement; one not running yet (still starting, or
        restarting) is told again shortly, so a fired item is never said to no one."""
        outcome = supervisors.cast(name, announcement)
        if outcome == "noproc" and tries_left > 1:
            self.send_after(ANNOUNCE_RETRY, _Announce(name=name, announcement=announcement,
                                                      tries_left=tries_left - 1))  # fmt: skip
        elif outcome != "ok":
            self.log.warning("announcement not delivered", receiver=name, why=outcome)

    def ring_again(self, item_id: str) -> None:
        ringing = self.ringing.get(item_id)
        if ringing is None:
            return  # silenced
        if time.time() >= ringing.until:
            del self.ringing[item_id]
            self.publish()
            return
        self.announce(ringing.item, ringing.text)
        self.send_after(self.settings.ring_every, _Ring(item_id=item_id))

    def silence(self, intents: list[str], room: str | None) -> bool:
        """End the ringing that ``intents`` ("stop", "cancel the timer") ask to end, said in
        ``room`` (what rings there; None: Solo's own microphone, text or the API, which end
        any ringing); True if something was ringing."""
        kinds = {SILENCES[intent] for intent in intents if intent in SILENCES}
        quiet = [key for key, ringing in self.ringing.items()
                 if (None in kinds or ringing.item.kind in kinds)
                 and (room is None or ringing.item.room == room)]  # fmt: skip
        at = time.time()
        for key in quiet:
            item = self.ringing.pop(key).item
            if item.kind == "alarm" and "alarm.snooze" not in intents:  # snoozed: done with
                self.hushed[key] = (item, at)
        self.hushed = {key: hushed for key, hushed in self.hushed.items()
                       if hushed[1] >= at - SNOOZABLE_AFTER}  # fmt: skip
        return bool(quiet)

    def tell(self, name: str, message: Message) -> None:
        outcome = supervisors.cast(name, message)
        if outcome != "ok":
            self.log.debug("not delivered", name=name, message=type(message).__name__, why=outcome)

    def publish(self) -> None:
        self.publish_figures(pending=len(self.book.items), listed=len(self.lists.items),
                             loaded=int(self.loaded),
                             ringing=len(self.ringing), **self.counts)  # fmt: skip


def served_elsewhere(config: Config) -> str | None:
    """The host of the language model's server (``llm.engine = "openai"``) when that is not
    this computer, else None."""
    if config.llm.engine != "openai":
        return None
    host = urlsplit(config.llm.remote.base_url).hostname
    return None if host in LOOPBACK else host


def language_model_named(config: Config) -> str:
    """The language model as "what model are you?" names it."""
    if config.llm.engine != "openai":
        return f"{model_name(config)}, an open language model running here,"
    where = served_elsewhere(config) or "a server on this computer"
    return f"the language model {config.llm.remote.model}, on {where},"


def model_name(config: Config) -> str:
    """The local language model's name: its catalog entry's, else its file's."""
    paths = ModelPaths.from_config(config.models, config.solo.var_dir)
    try:
        asset = load_catalog(paths.catalog).get(config.llm.model)
    except ModelError:  # a broken catalog stops the llm, not this answer
        asset = None
    return (asset.name or asset.id) if asset is not None else Path(config.llm.model).stem
