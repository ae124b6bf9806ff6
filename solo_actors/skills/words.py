"""Reading numbers, durations, clock times and days out of spoken English.

Each slot kind of a sentence template is a `SlotKind`: a regular expression that finds the
words the kind may span (so a template compiles to one regex), and a parser that turns
those words into a value. A parser raises `NoMatch` when the words are not really of its
kind (the template then does not match) and `SlotError` when they are but the value is
wrong ("minus five minutes", "25:61"): the intent matched, and the user is told why it
can't be done. Input is normalised first (`normalise`), so the patterns see lower-case
words separated by single spaces.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import msgspec

ONES = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
FRACTIONS = {"half": 0.5, "quarter": 0.25}
NEGATIVE = ("minus", "negative")
EXTRA = ("more", "extra", "another")
"""Words a duration may carry that add nothing to it ("5 more minutes", "another minute")."""
DIGITS = r"\d+(?:\.\d+)?"
NUMBER_WORD = "|".join(sorted([*ONES, *SCALES], key=len, reverse=True))
_WORDS = rf"(?:{NUMBER_WORD})(?:\s+(?:and\s+)?(?:{NUMBER_WORD}))*"
NUMBER = rf"(?:{DIGITS}|{_WORDS}(?:\s+point(?:\s+(?:{NUMBER_WORD}))+)?)"
"""Digits, or number words ("twenty five", "one hundred and five", "two point five")."""

UNIT_SECONDS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "s": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
    "day": 86400, "days": 86400, "week": 604800, "weeks": 604800,
    "month": 2_592_000, "months": 2_592_000, "year": 31_536_000, "years": 31_536_000,
}  # fmt: skip
TIME_UNIT = "|".join(sorted(UNIT_SECONDS, key=len, reverse=True))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "how's": "how is", "it's": "it is",
    "that's": "that is", "there's": "there is", "i'm": "i am", "let's": "let us",
    "you're": "you are", "o'clock": "oclock", "o clock": "oclock", "a.m.": "am",
    "p.m.": "pm", "a m": "am", "p m": "pm", "%": " percent", "°": " degrees ", "&": " and ",
    "+": " plus ", "\u00d7": " times ", "÷": " divided by ",
}  # fmt: skip


def _whole(key: str) -> str:
    """``key`` as a regex that matches only whole words ("a m" is not in "a minute")."""
    before = r"(?<!\w)" if key[0].isalnum() else ""
    after = r"(?!\w)" if key[-1].isalnum() else ""
    return before + re.escape(key) + after


_CONTRACTION = re.compile("|".join(_whole(k) for k in sorted(CONTRACTIONS, key=len, reverse=True)))
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_PUNCTUATION = re.compile(r"[!?,;\"“”$£€]|\.(?!\d)|(?<!\w)'|'(?!\w)")
_HYPHEN = re.compile(r"(?<=[a-z0-9])-(?=[a-z])")


YOUR_WORDS = {
    "i am": "you are", "i was": "you were", "i": "you", "me": "you", "my": "your",
    "mine": "yours", "myself": "yourself",
}  # fmt: skip
"""The user's words said back to them: "remind me to call my sister": "... call your sister"."""
_MINE = re.compile(
    "|".join(_whole(k) for k in sorted(YOUR_WORDS, key=len, reverse=True)), re.IGNORECASE
)


def in_your_words(text: str) -> str:
    """``text`` (words, as said or normalised) as said back to the user who said it."""
    return _MINE.sub(lambda m: YOUR_WORDS[m.group(0).lower()], text)


CLAUSE_OPENERS = frozenset(("you", "we", "he", "she", "they", "it", "there"))
COPULAS = frozenset(("is", "are", "was", "were"))
DETERMINERS = frozenset(("the", "a", "an", "your", "our", "his", "her", "their", "this"))


def reminded(task: str) -> str:
    """A reminder's task (normalised words) said back with the word before it that it
    needs: "to call your sister", "that you are meeting jo", "about the dentist". The
    templates take "to", "that" and "about" alike, so the task's own shape decides."""
    said = in_your_words(task)
    words = said.lower().split()
    if words[:1] and (words[0] in CLAUSE_OPENERS or COPULAS & set(words)):
        return f"that {said}"
    return f"about {said}" if words[:1] and words[0] in DETERMINERS else f"to {said}"


REPEATING = re.compile(
    r"\b(?:every|each)\s+(?:other\s+|single\s+)?(?:day|morning|afternoon|evening|night|week|"
    r"weekday|weekend|month|year|hour|(?:mon|tues|wednes|thurs|fri|satur|sun)day)s?\b|"
    r"\b(?:daily|weekly|monthly|nightly|hourly|yearly|annually)\b"
)
"""Words asking for something again and again: left in a reminder's task, no ``{repeat}``
slot took them ("every other day", "every hour"), so the reminder is refused, not set once."""


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, contractions spelled out, punctuation
    gone except what numbers and clock times need (``7:30``, ``2.5``, operators)."""
    text = text.lower().strip()
    text = _THOUSANDS.sub("", text)
    text = _CONTRACTION.sub(lambda m: CONTRACTIONS[m.group(0)], text)
    text = _HYPHEN.sub(" ", text)
    text = _PUNCTUATION.sub(" ", text)
    text = _DIGIT_LETTER.sub(" ", text)
    return " ".join(text.split())


def spoken_and(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def spoken_duration(seconds: float) -> str:
    """ "1 hour and 30 minutes", "8 minutes and 12 seconds", "45 seconds"."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "hour"), (minutes, "minute"), (secs if not hours else 0, "second")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    if not words:
        return "less than a second"
    return spoken_and(words)


def as_said(text: str, words: str) -> str:
    """``words`` (normalised, from ``text``) as ``text`` said them: the same run of words
    with its case and punctuation ("call Mum", "email Dr. Lee"); where a contraction was
    spelled out ("I'm meeting Jo": "i am meeting jo"), each word in the case ``text`` last
    gave it ("I am meeting Jo": not the capital of a sentence's first word). Words that
    normalising split ("bluefish42": "bluefish 42") are given back whole."""
    pattern = r"[\W_]*".join(re.escape(word) for word in words.split())
    for found in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE):
        if normalise(found.group(0)) == words:
            return found.group(0)
    cased = {word.lower(): word for word in re.findall(r"[^\W_]+", text)}
    return " ".join(cased.get(word, word) for word in words.split())


class NoMatch(Exception):
    """The words are not of the slot's kind: the template does not match."""


class SlotError(Exception):
    """The words are of the slot's kind but the value is wrong; the message says why, in
    words fit to be spoken."""


def number_from_words(words: list[str]) -> float:
    """The value of number words or digits ("twenty five", "1.5", "two point five",
    "a hundred"); `NoMatch` for anything else."""
    if not words:
        raise NoMatch("no number")
    if "point" in words:
        at = words.index("point")
        digits = [ONES.get(w) for w in words[at + 1 :]]
        if not digits or any(d is None or d > 9 for d in digits):
            raise NoMatch("bad decimals")
        return number_from_words(words[:at]) + float("0." + "".join(str(d) for d in digits))
    total, current, seen = 0.0, 0.0, False
    for word in words:
        if word == "and" and seen:
            continue
        if word in ("a", "an") and not seen:
            current, seen = 1.0, True
        elif re.fullmatch(DIGITS, word):
            current += float(word)
            seen = True
        elif word in ONES:
            current += ONES[word]
            seen = True
        elif word == "hundred":
            current = max(current, 1.0) * 100
            seen = True
        elif word in SCALES:
            total += max(current, 1.0) * SCALES[word]
            current, seen = 0.0, True
        else:
            raise NoMatch(f"not a number word: {word}")
    return total + current


def parse_number(text: str) -> float:
    words = text.split()
    sign = -1.0 if words and words[0] in NEGATIVE else 1.0
    return sign * number_from_words(words[1:] if sign < 0 else words)


def quantity(words: list[str]) -> float:
    """How many of a unit the words before it say: "10", "an", "half an", "one and a
    half", "a quarter of an"."""
    words = [w for w in words if w != "of" and w not in EXTRA]
    while words and words[0] in ("and", "in"):
        words = words[1:]
    fraction_at = next((i for i, w in enumerate(words) if w in FRACTIONS), None)
    if fraction_at is None:
        return number_from_words(words) if words else 1.0
    head = words[:fraction_at]
    while head and head[-1] in ("a", "an", "and"):
        head = head[:-1]
    if any(w not in ("a", "an") for w in words[fraction_at + 1 :]):
        raise NoMatch("words after a fraction")
    return (number_from_words(head) if head else 0.0) + FRACTIONS[words[fraction_at]]


def amount_kind() -> SlotKind:
    """A number of something, with the fractions people say with it: "3 and a half",
    "half a", "a quarter of an" (of a unit after it: "3 and a half hours in minutes")."""
    number = BASE_KINDS["number"].pattern
    fraction = r"(?:half|quarter)"
    said = rf"{number}(?:\s+and\s+a\s+{fraction})?|(?:a\s+)?{fraction}(?:\s+(?:of\s+)?an?)?"

    def parse(text: str) -> float:
        words = text.split()
        return quantity(words) if any(w in FRACTIONS for w in words) else parse_number(text)

    return SlotKind(rf"(?:{said})", parse)


def parse_duration(text: str) -> float:
    """Seconds in "5 minutes", "an hour and a half", "1 hour 30 minutes", "half an hour"."""
    words = text.split()
    if any(w in NEGATIVE for w in words):
        raise SlotError("a negative length of time makes no sense")
    if words == ["second"]:  # "cancel the second timer": an ordinal, not a length
        raise NoMatch("an ordinal")
    seconds, unit = 0.0, 0.0
    pending: list[str] = []
    for word in words:
        if word in UNIT_SECONDS:
            unit = UNIT_SECONDS[word]
            seconds += quantity(pending) * unit
            pending = []
        else:
            pending.append(word)
    if pending:  # "... and a half" after the last unit
        rest = [w for w in pending if w not in ("and", "a", "an")]
        if rest != ["half"] or not unit:
            raise NoMatch("words after the last unit")
        seconds += unit / 2
    return seconds


class ClockTime(msgspec.Struct, frozen=True):
    """A time of day as said: ``meridiem`` is None when the hour could be morning or evening
    ("at 7"), else the hour is on the 24-hour clock."""

    hour: int
    minute: int
    meridiem: bool = True

    def __str__(self) -> str:
        hour = f"{self.hour:02d}" if self.meridiem else str(self.hour)
        return f"{hour}:{self.minute:02d}"


MORNING = ("am", "in the morning")
EVENING = ("pm", "in the afternoon", "in the evening", "at night", "tonight")
SUFFIXES = (*MORNING, *EVENING, "oclock")
_SUFFIX = "|".join(s.replace(" ", r"\s+") for s in SUFFIXES)
CLOCK = (
    rf"(?:noon|midday|midnight|(?:(?:half|(?:a\s+)?quarter|{NUMBER})\s+(?:minutes?\s+)?"
    rf"(?:past|to|after)\s+)?(?:\d{{1,2}}(?:[:.]|\s+)\d{{2}}|\d{{1,4}}|(?:{NUMBER_WORD})(?:\s+(?:{NUMBER_WORD})){{0,3}})"
    rf"(?:\s+(?:{_SUFFIX}))*)"
)


def parse_clock(text: str) -> ClockTime:
    """ "7", "7 am", "7:30", "seven thirty pm", "half past six", "quarter to eight", "noon"."""
    if text in ("noon", "midday"):
        return ClockTime(12, 0)
    if text == "midnight":
        return ClockTime(0, 0)
    meridiem = None
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if text.endswith(" " + suffix):
            text = text[: -len(suffix) - 1]
            meridiem = "am" if suffix in MORNING else "pm" if suffix in EVENING else meridiem
    offset = 0
    relative = re.fullmatch(r"(.+?)\s+(?:minutes?\s+)?(past|to|after)\s+(.+)", text)
    if relative:
        amount, direction, text = relative.groups()
        amount = amount.removeprefix("a ")
        named = {"half": 30, "quarter": 15}
        offset = named[amount] if amount in named else int(parse_number(amount))
        offset = -offset if direction == "to" else offset
    # "7:30"; "7.30" as Britons write it; "7 30" as Whisper sometimes writes "seven thirty"
    if re.fullmatch(r"\d+(?:[:.]|\s+)\d{2}", text):
        hour_text, minute_text = re.split(r"[:.]|\s+", text)
        hour, minute = int(hour_text), int(minute_text)
        if len(hour_text) == 2 and hour_text.startswith("0") and hour:
            # "07:00" is the 24-hour clock (and how a ClockTime writes itself): the morning.
            meridiem = meridiem or "am"
    elif text.isdigit():
        value = int(text)
        hour, minute = (value // 100, value % 100) if len(text) >= 3 else (value, 0)
    else:
        words = text.split()
        hour = int(number_from_words(words[:1]))
        rest = words[1:]
        minute = 0
        if rest:
            if rest[0] == "oh":
                rest = rest[1:]
            minute = int(number_from_words(rest))
    if not 0 <= hour <= 23 or not 0 <= minute <= 59 or (meridiem and not 1 <= hour <= 12):
        raise SlotError(f"{text} is not a time of day")
    hour, minute = divmod(hour * 60 + minute + offset, 60)
    hour %= 24
    if meridiem == "pm" and hour < 12:
        return ClockTime(hour + 12, minute)
    if meridiem == "am" and hour == 12:
        return ClockTime(0, minute)
    return ClockTime(hour, minute, meridiem is not None or hour > 12 or hour == 0)


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip
MONTH_NUMBERS = {name: number for number, name in enumerate(MONTHS, 1)} | {
    name[:3]: number for number, name in enumerate(MONTHS, 1) if name != "may"
} | {"sept": 9}  # fmt: skip
"""A month's name, or its short form ("dec"), to its number."""
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
ORDINAL_DAYS = {word: day for day, word in enumerate(_UNITS, 1)} | {
    word: day for day, word in enumerate(
        ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
         "seventeenth", "eighteenth", "nineteenth", "twentieth"), 10)
} | {f"twenty {word}": 20 + day for day, word in enumerate(_UNITS, 1)} | {
    "thirtieth": 30, "thirty first": 31,
}  # fmt: skip
"""A day of the month said as an ordinal word ("twenty fifth"); stt mostly writes "25th"."""
_MONTH = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
# stt writes "25th", and `words.normalise` parts it from the number ("25 th").
_ORDINALS = "|".join(sorted(ORDINAL_DAYS, key=len, reverse=True))
_DAY = rf"\d{{1,2}}(?:\s*(?:st|nd|rd|th))?|{_ORDINALS}"
DATE = rf"(?:the\s+)?(?:(?:{_MONTH})\s+(?:the\s+)?(?:{_DAY})|(?:{_DAY})\s+(?:of\s+)?(?:{_MONTH}))"
"""A date as a month and a day: "december 25th", "dec the 25th", "the 4th of july"."""
_DATE_PARTS = re.compile(
    rf"(?:the\s+)?(?:(?P<month>{_MONTH})\s+(?:the\s+)?(?P<day>{_DAY})"
    rf"|(?P<day2>{_DAY})\s+(?:of\s+)?(?P<month2>{_MONTH}))"
)


def day_number(said: str) -> int:
    """A day of the month said as digits ("25", "25 th") or as an ordinal word ("twenty
    fifth")."""
    return ORDINAL_DAYS.get(said) or int(re.sub(r"\D", "", said))


def month_and_day(text: str) -> tuple[int, int]:
    """(12, 25) of a date said as a month and a day ("december 25th", "the 4th of july");
    `NoMatch` for other words, or a day the month has not ("february 30th")."""
    found = _DATE_PARTS.fullmatch(text)
    if found is None:
        raise NoMatch(f"no date in {text!r}")
    month = MONTH_NUMBERS[found["month"] or found["month2"]]
    day = day_number(found["day"] or found["day2"])
    try:
        dt.date(2024, month, day)  # a leap year: 29 February is a day
    except ValueError:
        raise NoMatch(f"{MONTHS[month - 1]} has no day {day}") from None
    return month, day


_ON_THE = r"(?:on\s+)?the\s+"
DAY_OF_MONTH = rf"{_ON_THE}(?:{_DAY})"
"""A day of the month alone: "on the 15th", "the first"; the coming one (`of_month`)."""


def of_month(day: str) -> int | None:
    """15 for a day `parse_day` read as a day of the month alone ("the 15th"); else None."""
    if re.fullmatch(DAY_OF_MONTH, day) is None:
        return None
    return day_number(re.sub(rf"^{_ON_THE}", "", day))


PARTS_OF_DAY = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm"}
DAY = (
    r"(?:tonight|this\s+(?:morning|afternoon|evening)|(?:(?:today|tomorrow|"
    rf"(?:the\s+)?day\s+after\s+tomorrow|(?:(?:on|next|this)\s+)?(?:{'|'.join(WEEKDAYS)})"
    rf"|(?:on\s+)?{DATE}|{DAY_OF_MONTH})"
    rf"(?:\s+(?:in\s+the\s+)?(?:{'|'.join(PARTS_OF_DAY)}))?))"
)


def parse_day(text: str) -> str:
    """A day as "today", "tomorrow", "day after tomorrow", a weekday's name or a date
    ("december 25" for "on the 25th of dec"), followed by a part of the day when one was
    said ("tomorrow morning", "friday in the evening": "friday evening"). Each reads back
    as itself: a question's completion ("remind me {day} to {answer}") says it again."""
    text = re.sub(r"\s+in\s+the(?=\s+\S+$)", "", text)
    said, part = day_and_part(re.sub(r"^on\s+", "", text))
    if re.fullmatch(DATE, said):  # a date, or no day at all ("february 30th": NoMatch)
        month, day = month_and_day(said)
        return f"{MONTHS[month - 1]} {day}" + (f" {text.split()[-1]}" if part else "")
    if (number := of_month(said)) is not None:  # "the 15th", made a date by `SkillBook`
        if not 1 <= number <= 31:
            raise SlotError(f"no month has a {ordinal(number)}")
        return f"the {ordinal(number)}" + (f" {text.split()[-1]}" if part else "")
    words = [w for w in text.split() if w not in ("on", "next", "this", "the")]
    if words == ["tonight"]:
        return "today night"
    if words[0] in PARTS_OF_DAY:  # "this evening"
        words = ["today", *words]
    return " ".join(words)


def ordinal(number: int) -> str:
    """ "1st", "2nd", "11th", "23rd"."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def calendar_day(day: str) -> tuple[int, int] | None:
    """(12, 25) for a day `parse_day` read as a date ("december 25"); None for any other."""
    try:
        return month_and_day(day)
    except NoMatch:
        return None


def day_and_part(day: str) -> tuple[str, str | None]:
    """("tomorrow", "am") for "tomorrow morning"; (day, None) without a part of the day."""
    *name, last = day.split()
    if last in PARTS_OF_DAY and name:
        return " ".join(name), PARTS_OF_DAY[last]
    return day, None


_PART = rf"(?:\s+(?:in\s+the\s+)?(?:{'|'.join(PARTS_OF_DAY)}))?"
REPEAT = (
    rf"(?:(?:(?:every|each)\s+(?:single\s+)?day|everyday|daily){_PART}"
    rf"|(?:every|each)\s+(?:{'|'.join(PARTS_OF_DAY)})"
    rf"|(?:(?:every|each)\s+(?:week\s*day|work\s*day|working\s+day)|(?:on\s+)?weekdays"
    rf"|week\s*day|work\s*day){_PART}"  # "a weekday alarm"
    rf"|(?:every\s+weekend|(?:on\s+|at\s+)?weekends){_PART}"
    rf"|(?:(?:every|each)\s+(?:{'|'.join(WEEKDAYS)})|(?:on\s+)?(?:{'|'.join(WEEKDAYS)})s){_PART}"
    rf"|(?:every\s+week|weekly){_PART}"
    # A day of the month: "on the 1st of every month", "every month on the 15th".
    rf"|(?:on\s+)?(?:the\s+)?(?:{_DAY})\s+of\s+(?:every|each|the)\s+month{_PART}"
    rf"|(?:(?:every|each)\s+month|monthly)\s+on\s+the\s+(?:{_DAY}){_PART})"
)


_MONTHLY = re.compile(rf"\b({_DAY})\s+of\s+(?:every|each|the)\s+month|\bon\s+the\s+({_DAY})\b")
"""The day of the month in a monthly ``{repeat}``."""

REPEAT_RULES = {
    "day": "daily", "everyday": "daily", "week": "weekly", "weekday": "weekdays",
    "week day": "weekdays", "workday": "weekdays", "work day": "weekdays",
    "working day": "weekdays", "weekend": "weekends",
}  # fmt: skip
"""The words of a ``{repeat}`` (less "every", "on") that name a rule otherwise."""


def parse_repeat(text: str) -> str:
    """When something comes again, as `SkillItem.repeats` names it ("daily", "weekdays",
    "weekends", a weekday's name, "monthly-15"; "weekly": the first time's weekday), then a
    part of the day when one was said ("every morning": "daily morning")."""
    if (monthly := _MONTHLY.search(text)) is not None:  # "on the 1st of every month"
        day = day_number(monthly[1] or monthly[2])
        if not 1 <= day <= 31:
            raise SlotError(f"no month has a {ordinal(day)}")
        last = text.split()[-1]
        return f"monthly-{day} {last}" if last in PARTS_OF_DAY else f"monthly-{day}"
    words = [w for w in text.split() if w not in ("every", "each", "single", "on", "at", "in",
                                                  "the")]  # fmt: skip
    if not words or words[0] in PARTS_OF_DAY:  # "every morning"
        words = ["daily", *words]
    part = words[-1:] if words[-1] in PARTS_OF_DAY else []
    rule = " ".join(words[: len(words) - len(part)])
    rule = REPEAT_RULES.get(rule, rule)
    rule = rule.removesuffix("s") if rule.removesuffix("s") in WEEKDAYS else rule  # "mondays"
    return " ".join([rule, *part])


@dataclass(frozen=True)
class SlotKind:
    """What a ``{slot:kind}`` in a template may span (``pattern``) and what it means."""

    pattern: str
    parse: Callable[[str], object]
    free: bool = False
    """Any words at all (free text, a name): a sentence that leaves fewer words to such
    slots is the more specific one, and wins (`templates.Matcher.match`)."""
    as_said: bool = True
    """A free slot's words are kept as the user cased them (`SkillMatch.said`); False where
    the parsed value is what Solo says back (a list's name: "grocery" is "shopping")."""


def duration_kind() -> SlotKind:
    sign = rf"(?:(?:{'|'.join(NEGATIVE)})\s+)?"
    # One word per repetition (no NUMBER inside, itself a repetition): nested repetitions
    # backtrack exponentially on "one one one ... banana".
    word = rf"(?:{DIGITS}|{NUMBER_WORD}|point|half|quarter|a|an|and|of|{'|'.join(EXTRA)})"
    part = rf"{sign}(?:{word}\s+)*(?:{TIME_UNIT})"
    tail = r"(?:\s+and\s+a\s+half)?"
    # "in" joins parts as "and" does: Whisper tiny writes "1 hour in 15 minutes" for "1 hour
    # and 15 minutes" (bench_skills.py --heard), and a length of time means nothing else.
    return SlotKind(rf"{part}(?:\s+(?:(?:and|in)\s+)?{part})*{tail}", parse_duration)


TENS = frozenset(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"))
"""The number words a unit may follow within one number ("twenty five")."""


def numbers_kind() -> SlotKind:
    """Two or more numbers in a row ("4, 8 and 15", "twenty five thirty and forty"): the
    commas are gone by then (`normalise`), so `parse_numbers` tells where one ends."""
    sign = rf"(?:(?:{'|'.join(NEGATIVE)})\s+)?"
    # One word per repetition, as in `duration_kind`.
    word = rf"(?:{DIGITS}|{NUMBER_WORD}|and|point|{'|'.join(NEGATIVE)})"
    return SlotKind(rf"{sign}(?:{DIGITS}|{NUMBER_WORD})(?:\s+{word})+", parse_numbers)


def parse_numbers(text: str) -> list[float]:
    """The numbers said one after another. Number words make one number as long as they
    read as one ("twenty five", "two hundred and five", "three thousand"); any other word
    after them starts the next ("four eight" is 4 and 8), as does each run of digits."""
    numbers: list[float] = []
    current: list[str] = []

    def close() -> None:
        while current and current[-1] in ("and", "point"):
            current.pop()  # "... hundred and" before a digit: the "and" joined two numbers
        if current:
            numbers.append(parse_number(" ".join(current)))
            current.clear()

    for word in text.split():
        last = current[-1] if current else ""
        if re.fullmatch(DIGITS, word):
            sign = -1.0 if last in NEGATIVE else 1.0
            if sign < 0:
                current.pop()
            close()
            numbers.append(sign * float(word))
        elif current and _goes_on(last, word, current):
            current.append(word)
        elif word == "and":
            close()
        else:
            close()
            current.append(word)
    close()
    if len(numbers) < 2:
        raise NoMatch("fewer than two numbers")
    return numbers


def _goes_on(last: str, word: str, current: list[str]) -> bool:
    """Whether number word `word` continues the number `current` ends with `last`."""
    if last in NEGATIVE:
        return word in ONES or word in SCALES
    if "point" in current:  # decimals are digits one by one: "two point five three"
        return word in ONES and ONES[word] <= 9
    if word == "point":
        return True
    if word in SCALES:
        return last in ONES or (last in SCALES and SCALES[word] > SCALES[last])
    if word == "and":
        return last in SCALES
    if word in ONES and ONES[word] <= 9:
        return last in TENS or last in SCALES or last == "and"
    if word in ONES:  # ten to nineteen, the tens
        return last in SCALES or last == "and"
    return False


NAMELESS = frozenset(
    ("the", "my", "a", "an", "that", "this", "it", "one", "on", "in", "for", "to", "else")
)
"""Words that name nothing: a free-text slot made only of them did not catch a name."""


def text_kind(text: str) -> str:
    """Free text, but never only words that name nothing ("check the timer": no name)."""
    if all(word in NAMELESS for word in text.split()):
        raise NoMatch("only words that name nothing")
    return text


DAY_WORDS = frozenset(("day", "today", "tomorrow", "tonight", *WEEKDAYS))
"""Words that name a day, never a timer or alarm: "cancel tomorrow's alarm", "how many hours
are left in the day"."""


def name_kind(text: str) -> str:
    """A short name ("pasta", "the eggs"): up to three words, no digits, not a day."""
    if any(c.isdigit() for c in text):
        raise NoMatch("a name has no digits")
    day = text.removeprefix("the ").removesuffix("'s")
    if day in DAY_WORDS or day.removesuffix("s") in DAY_WORDS:
        raise NoMatch("a day is no name")
    return text_kind(text)


def word_kind(text: str) -> str:
    """One word to spell or count the letters of, not one that points at another ("spell
    it", "spell that")."""
    if text in NAMELESS or text in ("again", "out", "back", "please"):
        raise NoMatch("a word that names no word")
    return text


def named_kind(known: Mapping[str, object]) -> SlotKind:
    """A slot kind that is one of `known`'s names (normalised, longest first: "ground
    chicken" before "chicken"), meaning its value."""
    names = "|".join(re.escape(name) for name in sorted(known, key=len, reverse=True))
    return SlotKind(names or "(?!)", known.__getitem__)


def list_kind(aliases: dict[str, str]) -> SlotKind:
    """The ``{list}`` slot kind: a list's name, one to three words before "list" ("shopping",
    "packing"), as its alias in the skill files says it ("grocery": "shopping")."""
    known = {normalise(said): name for said, name in aliases.items()}

    def parse(text: str) -> str:
        name = text_kind(text)
        if name.split()[0] in LIST_DETERMINERS:
            # "the the shopping list list", an answer put into "... to the {answer} list":
            # the completion without its own "the ... list" fits instead.
            raise NoMatch("a list's name starts with no determiner")
        return known.get(name, name)

    return SlotKind(r"[^\W\d_]+(?:\s+[^\W\d_]+){0,2}?", parse, free=True, as_said=False)


LIST_DETERMINERS = frozenset(("the", "my", "our", "your", "a", "an", "this", "that"))


def parse_letter(text: str) -> str:
    """One letter of the alphabet, as said in "how many r's" ("r's", "rs", "r")."""
    return text[0]


def parse_month(text: str) -> int:
    """A month's number: "february" (or "feb") is 2."""
    return MONTH_NUMBERS[text]


SEASONS = {"spring": "spring", "summer": "summer", "autumn": "autumn", "fall": "autumn",
           "winter": "winter"}  # fmt: skip
"""A season as said, and the one it is ("fall": autumn)."""

BASE_KINDS: dict[str, SlotKind] = {
    "number": SlotKind(rf"(?:(?:{'|'.join(NEGATIVE)})\s+)?(?:{NUMBER}|a|an)", parse_number),
    "duration": duration_kind(),
    "time": SlotKind(CLOCK, parse_clock),
    "letter": SlotKind(r"[a-z](?:'s|s)?", parse_letter),
    "month": SlotKind("|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)), parse_month),
    "word": SlotKind(r"[^\W\d_]+(?:'[^\W\d_]+)?", word_kind, free=True),
    "day": SlotKind(DAY, parse_day),
    "repeat": SlotKind(REPEAT, parse_repeat),
    "text": SlotKind(r"\S.*?", text_kind, free=True),
    "name": SlotKind(r"\S+(?:\s\S+){0,2}?", name_kind, free=True),
    "season": SlotKind("|".join(SEASONS), SEASONS.__getitem__),
    "part_of_day": SlotKind("|".join(PARTS_OF_DAY), str),
    "weekdays": SlotKind(rf"(?:{'|'.join(WEEKDAYS)})s", lambda said: said.removesuffix("s")),
    "numbers": numbers_kind(),
}
BASE_KINDS["amount"] = amount_kind()
"""Slot kinds every template may use; `templates` adds the ones built from data (units,
arithmetic)."""
