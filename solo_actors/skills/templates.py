"""Sentence templates, in the spirit of Home Assistant's hassil, compiled once to regexes.

A template is a sentence with ``(a|b)`` for alternatives, ``[words]`` for optional words
(``[a|an]`` for optional alternatives, ``light[s]`` for an optional ending) and ``{slot}``
or ``{slot:kind}`` for a value (the kind defaults to the slot's name: ``{duration}``,
``{time}``, ``{day}``, ``{number}``; ``{name:text}`` is free text). Templates live in
``config/skills/*.toml``, one ``[[intent]]`` table per intent with its ``sentences``; a file
may also declare ``[units.<name>]`` for conversions. A user adds a phrasing by adding a
sentence: no code.

Matching normalises the text (`words.normalise`), then tries each intent's compiled
sentences and returns the most specific one whose slots all parse: the fewest words left to
free text, file order among equals. A sentence whose words fit but whose value is wrong
("set a timer for minus five minutes") is a match with an ``error``, so the skill can
refuse clearly instead of the llm inventing an answer.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.skills.arithmetic import MATH_PATTERN, parse_expression
from solo_actors.skills.holidays import day_rule, holiday_kind
from solo_actors.skills.places import place_kind, zone_keys
from solo_actors.skills.words import (
    BASE_KINDS,
    NoMatch,
    SlotError,
    SlotKind,
    as_said,
    in_your_words,
    list_kind,
    named_kind,
    normalise,
    reminded,
)

SENTENCE_CAPITAL = re.compile(r"^[A-Z](?=[a-z]+\b)")
"""The capital of a sentence's first word ("Socks"), not of "I", "I'm" or "TV"."""


class TemplateError(ValueError):
    """A template that can't be compiled; the message names the file, intent and sentence."""


class Unit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A unit of measure: ``value * factor + offset`` is the amount in its dimension's base
    unit (metres, kilograms, kelvin ...)."""

    dimension: str
    factor: float
    names: list[str]
    offset: float = 0.0
    say: str = ""
    """How an amount in this unit is spoken ("kilometres"); the unit's name and an s by
    default."""
    say_one: str = ""
    """How one of this unit is spoken ("degree Celsius"); the unit's name by default."""
    otherwise: str = ""
    """The unit its names mean beside a unit of another dimension: "ounces in a cup" are
    fluid ounces."""
    then: str = ""
    """The smaller unit a number said after an amount of it means ("6 foot 2": inches),
    of the same dimension."""
    said_with_then: bool = False
    """A result of at least one of this unit is said in it and its `then` ("5 feet 11
    inches", "11 stone 2 pounds"), as people give heights and body weights."""


class FollowUp(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A short turn that goes on from a request, said right after it: "and in Tokyo?"
    after "what time is it", "add eggs" after "add milk to my shopping list"."""

    after: list[str]
    """The intents whose requests it may follow."""
    said: str
    """Its template ("(and|what about) [in] {place}"), tried only right after one of them,
    when the turn fits no template by itself."""
    means: str
    """The request it stands for: ``{slot}`` is a slot of ``said``, else of the request
    before ("add {items} to the {list} list")."""

    def __post_init__(self) -> None:
        try:  # a stray brace would fail each time it follows: fail at load
            filled(self.means, {})
        except (ValueError, IndexError, AttributeError) as error:
            raise ValueError(f"follow_up {self.said!r}: {self.means!r}: {error}") from None


class Intent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    sentences: list[str]
    description: str = ""
    """One line for "what else can you do" (``help.more``); intents without one are not
    listed."""
    answer: str = ""
    """What its skill says, where that is set words: the short answer to "what can you do"
    (``help``), which a voice can say in a breath, unlike every description."""
    morning: bool = False
    """An hour said without am/pm ("wake me up at 7") means the morning, not the next one."""
    llm_may_answer: bool = False
    """Its skill may leave a turn to the llm after all (`SkillDeclined`): the words so far
    are read ahead for the llm as if no skill fit them."""
    llm_history: bool = False
    """Its exchange joins the llm's history of the conversation (`LLMAppend`), so the model
    can follow it up ("explain it" after a joke, "and times 3" after a sum). Not for a skill
    that acts: its confirmations in the history had the model claim actions it never took
    ("Timer set for 5 minutes.", then "turn on the lights": "Lights turned on.")."""
    ask: str = ""
    """A request with a part missing ("set a timer"): the question that asks for it ("For
    how long?"), with ``{slot}`` for this match's slots. The user's next turn in the same
    conversation is then tried as each of ``complete`` (`solo_actors.skills.hook`)."""
    complete: list[str] = msgspec.field(default_factory=list)
    """Sentences an answer to ``ask`` completes, tried in order: ``{answer}`` is what the
    user said next and ``{slot}`` this match's slot ("remind me to {task} at {answer}")."""

    def __post_init__(self) -> None:
        if bool(self.ask) != bool(self.complete):
            raise ValueError(
                f"intent {self.name}: 'ask' and 'complete' go together: a question, and the "
                "sentences its answer completes"
            )
        if any("{answer}" not in sentence for sentence in self.complete):
            raise ValueError(
                f"intent {self.name}: each 'complete' sentence needs {{answer}}, where the "
                "user's answer goes"
            )
        for text in (self.ask, *self.complete):
            try:  # a stray brace would fail each time the intent matches: fail at load
                filled(text, {})
            except (ValueError, IndexError, AttributeError) as error:
                raise ValueError(f"intent {self.name}: {text!r}: {error}") from None


class Food(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A food's safe inside temperature when cooked, for ``{food}``."""

    said: str
    """How the answer names it ("chicken and other poultry")."""
    names: list[str]
    """How the user may say it ("chicken", "chicken breast", "turkey")."""
    fahrenheit: int
    celsius: int
    rest: int = 0
    """Minutes it must rest off the heat at that temperature (whole cuts of red meat)."""


class EmergencyNumber(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whom to call in an emergency in one country."""

    country: str
    """How the answer names the country ("the United Kingdom")."""
    call: str
    """The numbers and what each is for ("999 or 112 for the police, fire or an
    ambulance")."""


class SkillFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    intent: list[Intent] = msgspec.field(default_factory=list)
    units: dict[str, Unit] = msgspec.field(default_factory=dict)
    places: dict[str, str] = msgspec.field(default_factory=dict)
    """Names the time zone database lacks, for ``{place}``: ``japan = "Asia/Tokyo"``."""
    holidays: dict[str, str] = msgspec.field(default_factory=dict)
    """Days of the year by name, for ``{holiday}``: ``christmas = "12-25"``, or a rule for
    one that moves: ``"good friday" = "easter-2"`` (`holidays.date_in`)."""
    lists: dict[str, str] = msgspec.field(default_factory=dict)
    """Names of one list, for ``{list}``: ``grocery = "shopping"``."""
    jokes: list[str] = msgspec.field(default_factory=list)
    """What ``chance.joke`` tells, one at a time, at random."""
    foods: dict[str, Food] = msgspec.field(default_factory=dict)
    """Foods' safe cooking temperatures, for ``{food}``."""
    emergency: dict[str, EmergencyNumber] = msgspec.field(default_factory=dict)
    """Emergency numbers by country, its ISO 3166 code ("GB")."""
    follow_up: list[FollowUp] = msgspec.field(default_factory=list)
    """What the user's next turn in the same conversation may say to go on from a request,
    within ``skills.answer_within`` seconds (`solo_actors.skills.hook`)."""
    filler: list[str] = msgspec.field(default_factory=list)
    """Words that may open or close any sentence and mean nothing to it: the wake word
    when stt keeps it ("jarvis, what time is it"), "hey", "please", "thanks"."""
    heard: dict[str, str] = msgspec.field(default_factory=dict)
    """Words a recogniser writes at the start of a request for others it was said with:
    ``cancelled = "cancel"``. Replaced only at the start, where they mean nothing else;
    further in they may be what the user said ("remind me to check if it is cancelled")."""
    source: str = ""
    """The file it was read from, for error messages (set by `load_matcher`)."""

    def __post_init__(self) -> None:
        unknown = {name: zone for name, zone in self.places.items()
                   if zone not in zone_keys()}  # fmt: skip
        if unknown:
            name, zone = next(iter(unknown.items()))
            raise ValueError(f"places: {name}: {zone!r} is no IANA time zone (e.g. 'Asia/Tokyo')")
        for name, date in self.holidays.items():
            try:
                day_rule(date)
            except ValueError as error:
                raise ValueError(f"holidays: {name}: {error}") from None


class SkillMatch(msgspec.Struct, frozen=True, kw_only=True):
    """What a text asked for: the intent, its slot values, or why it can't be done."""

    intent: str
    slots: dict[str, Any]
    error: str | None = None
    morning: bool = False
    llm_may_answer: bool = False
    open_ended: bool = False
    """The text ends inside a free-text slot ("remind me to call my sister"): words said
    after a pause may still belong to it, so the words so far are no finished command."""
    said: dict[str, str] = msgspec.field(default_factory=dict)
    """Each free slot's words (``text``, ``name``) as the user cased them ("call Mum";
    ``slots`` has them normalised, "call mum"): what a reminder keeps and shows."""
    ask: str = ""
    """The intent's question for a missing part (`Intent.ask`), its slots filled in."""
    completions: tuple[str, ...] = ()
    """The sentences an answer completes (`Intent.complete`), slots filled, ``{answer}``
    left for the answer."""

    def completed(self, answer: str) -> list[str]:
        """The texts ``answer``, said after this match's question, may complete. Said on its
        own, its first word is capitalised as a sentence's is (by Whisper, by a keyboard);
        in the request it completes it is mid-sentence, so "Socks and a toothbrush" puts
        socks on the list. A word capitalised throughout ("TV"), or "I", keeps its case."""
        said = SENTENCE_CAPITAL.sub(lambda first: first.group().lower(), answer.strip())
        said = said.rstrip(".!?")
        return [sentence.replace("{answer}", said) for sentence in self.completions]


MAX_CHARS = 300
"""Longer turns are never skill commands (and free-text slots cost more the longer the
text), so they go straight to the llm."""

JOINTS = (" and then ", " and also ", " then ", " and ")
"""Where a compound request is split, tried in this order."""
MAX_PARTS = 3

MAX_SLOT_WORDS = 8
"""The longest run of words `values_said` reads as one value ("an hour and a half": 4)."""

_GLUED = re.compile(r"\b(\w+)\[(\w+)\]")
_TOKEN = re.compile(r"\{[^{}]+\}|[()\[\]|]|[^\s()\[\]|{}]+|\s+")


@dataclass
class _Compiler:
    kinds: dict[str, SlotKind]
    slots: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Regex group name -> (slot name, kind): a slot may appear in several alternatives."""

    def compile(self, sentence: str) -> re.Pattern[str]:
        # "light[s]": an optional ending glued to its word is that word or the longer one.
        sentence = _GLUED.sub(r"(\1|\1\2)", sentence)
        self.tokens = [t for t in _TOKEN.findall(sentence) if not t.isspace()]
        self.at = 0
        body = self.sequence()
        if self.at != len(self.tokens):
            raise TemplateError(f"unbalanced brackets in {sentence!r}")
        return re.compile(rf"\s*{body}\s*")

    def sequence(self) -> str:
        parts: list[str] = []
        while self.at < len(self.tokens) and self.tokens[self.at] not in (")", "]", "|"):
            parts.append(self.element())
        # Optional parts may vanish, so the spaces around every part are optional too; word
        # boundaries keep "set a timer" from matching "seta timer".
        return r"\s*".join(parts)

    def alternatives(self, close: str) -> str:
        options = [self.sequence()]
        while self.at < len(self.tokens) and self.tokens[self.at] == "|":
            self.at += 1
            options.append(self.sequence())
        if self.at >= len(self.tokens) or self.tokens[self.at] != close:
            raise TemplateError(f"missing {close!r}")
        self.at += 1
        return "(?:" + "|".join(options) + ")"

    def element(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        if token == "(":
            return self.alternatives(")")
        if token == "[":
            return self.alternatives("]") + "?"
        if token.startswith("{"):
            name, _, kind = token[1:-1].partition(":")
            kind = kind or name
            if kind not in self.kinds:
                raise TemplateError(f"unknown slot kind {kind!r} (known: {sorted(self.kinds)})")
            group = f"{name}__{len(self.slots)}"
            self.slots[group] = (name, kind)
            # A slot starts and ends at a word's edge: a unit "h" is never the start of "how".
            # It may end at a possessive ("{day}'s alarm": "tomorrow's alarm").
            return rf"(?<!\S)(?P<{group}>{self.kinds[kind].pattern})(?![^\s'])"
        # A possessive keeps its apostrophe, as `normalise` keeps it in the text.
        word = re.escape(token if token.startswith("'") else normalise(token))
        return rf"\b{word}\b" if token[0].isalnum() and token[-1].isalnum() else word


@dataclass(frozen=True)
class _Sentence:
    intent: Intent
    pattern: re.Pattern[str]
    slots: dict[str, tuple[str, str]]


class Matcher:
    """Every template compiled; `match` finds the intent of a text, or None."""

    def __init__(self, files: Iterable[SkillFile]) -> None:
        files = list(files)
        self.units: dict[str, Unit] = {k: v for f in files for k, v in f.units.items()}
        for key, unit in self.units.items():
            if unit.otherwise and unit.otherwise not in self.units:
                raise TemplateError(f"units.{key}: otherwise = {unit.otherwise!r} is no unit's "
                                    "key (a [units.KEY] table)")  # fmt: skip
            then = self.units.get(unit.then) if unit.then else unit
            if then is None or then.dimension != unit.dimension:
                raise TemplateError(f"units.{key}: then = {unit.then!r} is no unit's key of the "
                                    f"same dimension ({unit.dimension})")  # fmt: skip
        self.intents: list[Intent] = [i for f in files for i in f.intent]
        self.jokes = [joke for f in files for joke in f.jokes]
        self.emergency = {code: number for f in files for code, number in f.emergency.items()}
        fillers = sorted({normalise(w) for f in files for w in f.filler}, key=len, reverse=True)
        alternatives = "|".join(re.escape(w) for w in fillers) or "(?!)"
        self.filler = re.compile(rf"^(?:(?:{alternatives})\b\s*)+|(?:\s*\b(?:{alternatives}))+$")
        self.heard = {normalise(k): normalise(v) for f in files for k, v in f.heard.items()}
        heard = "|".join(re.escape(w) for w in sorted(self.heard, key=len, reverse=True))
        self.heard_opening = re.compile(rf"^(?:{heard or '(?!)'})\b")
        places = {name: zone for f in files for name, zone in f.places.items()}
        holidays = {name: date for f in files for name, date in f.holidays.items()}
        lists = {said: name for f in files for said, name in f.lists.items()}
        foods = {normalise(name): food for f in files for food in f.foods.values()
                 for name in food.names}  # fmt: skip
        self.kinds = {**BASE_KINDS, "math": SlotKind(MATH_PATTERN, parse_expression),
                      "place": place_kind(places), "holiday": holiday_kind(holidays),
                      "list": list_kind(lists), "food": named_kind(foods)}  # fmt: skip
        if self.units:
            self.unit_names = {n: key for key, u in self.units.items() for n in u.names}
            names = sorted(self.unit_names, key=len, reverse=True)
            said = rf"(?:degrees?\s+)?(?:{'|'.join(re.escape(n) for n in names)})"
            self.kinds["unit"] = SlotKind(said, self.unit_of)
        self.sentences = [
            self._compiled(intent, sentence, file.source)
            for file in files
            for intent in file.intent
            for sentence in intent.sentences
        ]
        by_name = {intent.name: intent for intent in self.intents}
        self.follow_ups: dict[str, list[tuple[_Sentence, str]]] = {}
        """Intent name -> the templates of what may follow it, each with the request it means."""
        for file in files:
            for follow in file.follow_up:
                for name in follow.after:
                    if name not in by_name:
                        raise TemplateError(f"{file.source}: follow_up {follow.said!r}: after "
                                            f"names {name!r}, which is no intent")  # fmt: skip
                    compiled = self._compiled(by_name[name], follow.said, file.source)
                    self.follow_ups.setdefault(name, []).append((compiled, follow.means))

    def _compiled(self, intent: Intent, sentence: str, source: str) -> _Sentence:
        compiler = _Compiler(self.kinds)
        try:
            pattern = compiler.compile(sentence)
        except (TemplateError, re.error) as error:
            where = f"{source}: " if source else ""
            raise TemplateError(f"{where}intent {intent.name}: {sentence!r}: {error}") from error
        return _Sentence(intent, pattern, compiler.slots)

    def set_words(self, intent: str) -> str:
        """The ``answer`` of the intent of this name ("" if it has none)."""
        return next((i.answer for i in self.intents if i.name == intent), "")

    def unit_of(self, text: str) -> str:
        name = re.sub(r"^degrees?\s+", "", text)
        return self.unit_names.get(name) or self.unit_names[text]

    def match(self, text: str, said_in: str | None = None) -> SkillMatch | None:
        """The most specific sentence that fits ``text`` with every slot parsed: the one
        that leaves the fewest words to free-text and name slots, the first in file order
        among equals (hassil's rule that the most literal text wins: "forget my reminder to
        buy milk" is reminders.toml's "forget my reminder to {task}", not a memory's "forget
        my {topic}"). With none, the first that fit with a slot refused (a match carrying
        ``error``); else None. A refusal also wins over a later sentence of the same intent,
        or of one that asks for a missing part: "remind me to sleep in minus 5 minutes" is
        a wrong time, not a task "sleep in minus 5 minutes" without one. ``said_in``: the
        words as said, when ``text`` is a part of them (`SkillMatch.said`)."""
        if len(text) > MAX_CHARS:
            return None
        words = self.request_words(text)
        refused: tuple[int, SkillMatch] | None = None
        best: tuple[int, int, _Sentence, re.Match[str], dict[str, Any]] | None = None
        for index, sentence in enumerate(self.sentences):
            found = sentence.pattern.fullmatch(words)
            if found is None:
                continue
            try:
                slots = self.slot_values(sentence, found)
            except NoMatch:
                continue
            except SlotError as error:
                if refused is None:
                    refused = (
                        index,
                        SkillMatch(intent=sentence.intent.name, slots={}, error=str(error)),
                    )
                continue
            free = self.free_words(sentence, found)
            if best is None or free < best[0]:
                best = free, index, sentence, found, slots
            if free == 0:
                break  # nothing fits more closely, and later sentences lose a tie
        if best is None:
            return refused[1] if refused is not None else None
        _, index, sentence, found, slots = best
        intent = sentence.intent
        if (
            refused is not None
            and refused[0] < index
            and (refused[1].intent == intent.name or intent.ask)
        ):
            return refused[1]
        open_ended = any(
            raw is not None and sentence.slots[group][1] == "text"
            and found.end(group) == len(words)
            for group, raw in found.groupdict().items()
        )  # fmt: skip
        said = {
            sentence.slots[group][0]: as_said(said_in or text, raw.strip())
            for group, raw in found.groupdict().items()
            if raw is not None
            and (kind := self.kinds[sentence.slots[group][1]]).free
            and kind.as_said
        }
        return SkillMatch(
            intent=intent.name, slots=slots, morning=intent.morning, said=said,
            llm_may_answer=intent.llm_may_answer, open_ended=open_ended,
            ask=filled(intent.ask, said_back(slots | said)),
            completions=tuple(filled(text, slots | said) for text in intent.complete),
        )  # fmt: skip

    def followed(self, before: SkillMatch, text: str) -> str | None:
        """The request ``text`` stands for, said right after the request ``before``: the
        ``means`` of the first `FollowUp` after its intent that fits ("and in Tokyo?" after
        "what time is it": "what time is it in tokyo"); None if none fits."""
        if len(text) > MAX_CHARS:
            return None
        words = self.request_words(text)
        for sentence, means in self.follow_ups.get(before.intent, []):
            found = sentence.pattern.fullmatch(words)
            if found is not None:
                said = {sentence.slots[group][0]: raw.strip()
                        for group, raw in found.groupdict().items() if raw is not None}  # fmt: skip
                return filled(means, before.slots | before.said | said)
        return None

    def request_words(self, text: str) -> str:
        """``text`` normalised, without filler, its opening as said (``heard``)."""
        words = self.filler.sub("", normalise(text)) or normalise(text)
        return self.heard_opening.sub(lambda found: self.heard[found.group(0)], words)

    def free_words(self, sentence: _Sentence, found: re.Match[str]) -> int:
        """How many of the text's words ``sentence`` leaves to its free slots."""
        return sum(
            len(raw.split())
            for group, raw in found.groupdict().items()
            if raw is not None and self.kinds[sentence.slots[group][1]].free
        )

    def match_all(self, text: str) -> list[SkillMatch]:
        """The matches of ``text``: one, or, when the whole text fits no template, one per
        part of a compound request ("set a timer for 10 minutes and remind me to call my
        sister") if every part fits one; else none. The parts are answered in order. A whole
        that only asks for a missing part yields to parts that ask for none: "remind me to
        call mum at 6 and set a timer for 5 minutes" is two requests, not a reminder "to call
        mum at 6 and set a timer for 5 minutes" waiting to be told when."""
        whole = self.match(text)
        if whole is not None and not whole.ask:
            return [whole]
        words = self.filler.sub("", normalise(text))
        for joint in JOINTS:
            parts = [p for p in words.split(joint) if p]
            if 1 < len(parts) <= MAX_PARTS:
                matches = [self.match(part, said_in=text) for part in parts]
                found = [m for m in matches if m is not None and m.intent != "stop"]
                if len(found) == len(parts) and (whole is None or not any(m.ask for m in found)):
                    return found
        return [] if whole is None else [whole]

    def values_said(self, text: str, kind: str) -> list[Any]:
        """Every value of slot kind ``kind`` that some run of words in ``text`` says ("count
        down ninety seconds for my tea": [90.0] for ``duration``)."""
        words = normalise(text).split()
        slot = self.kinds[kind]
        pattern = re.compile(slot.pattern)
        values = []
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + MAX_SLOT_WORDS) + 1):
                span = " ".join(words[start:end])
                if pattern.fullmatch(span) is None:
                    continue
                try:
                    values.append(slot.parse(span))
                except (NoMatch, SlotError):
                    continue
        return values

    def slot_values(self, sentence: _Sentence, found: re.Match[str]) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        for group, raw in found.groupdict().items():
            if raw is None:
                continue
            name, kind = sentence.slots[group]
            slots[name] = self.kinds[kind].parse(raw.strip())
        return slots


class _Words(str):
    """A slot's words in an ``ask`` or ``complete`` text; ``{task:reminded}`` says a
    reminder's task with the word before it that it needs ("that you are meeting Jo")."""

    def __format__(self, spec: str) -> str:
        if spec == "reminded":
            return reminded(self) if self else ""
        return super().__format__(spec)  # another spec fails at load (`Intent` checks)


class _Said(dict[str, _Words]):
    """Slot values as words; a slot the sentence left out is no words at all."""

    def __missing__(self, key: str) -> _Words:
        return _Words("{answer}" if key == "answer" else "")


def said_back(slots: dict[str, Any]) -> dict[str, Any]:
    """The slots as a question back to the user says them ("call my sister": "call your
    sister")."""
    return {name: in_your_words(value) if isinstance(value, str) else value
            for name, value in slots.items()}  # fmt: skip


def filled(text: str, slots: dict[str, Any]) -> str:
    """``text`` with ``{slot}`` replaced by the slot's words ("" when not said); a slot
    left out leaves no double space ("set a {name} timer": "set a timer")."""
    said = _Said({name: _Words(value) for name, value in slots.items()})
    return " ".join(text.format_map(said).split())


def load_matcher(folder: Path) -> Matcher:
    """A `Matcher` over every ``*.toml`` in ``folder``, in name order."""
    files = []
    for path in sorted(folder.glob("*.toml")):
        try:
            loaded = msgspec.convert(tomllib.loads(path.read_text("utf-8")), SkillFile)
            files.append(msgspec.structs.replace(loaded, source=str(path)))
        except (tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
            raise TemplateError(f"{path}: {error}") from error
    return Matcher(files)
