"""Days of the year Solo knows by name or date: "How many days until Christmas?", "When is
Halloween?", "How many days until December 25?".

A skill file's ``[holidays]`` table names each day and its month and day, ``"christmas" =
"12-25"``; a user adds their own the same way (``"mum's birthday" = "05-03"``). A day that
moves is a rule: ``"good friday" = "easter-2"`` (days from Easter Sunday), ``"thanksgiving"
= "11-thu-4"`` (the 4th Thursday of November), ``"memorial day" = "05-mon-last"``. A date
said as a month and a day ("december 25th", "the 4th of july", "25 dec") is a day of the
year too, without a name.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import string
from collections.abc import Callable, Mapping

import msgspec

from solo_actors.skills.words import DATE, MONTHS, SlotKind, month_and_day, normalise

MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
FROM_EASTER = re.compile(r"easter(?:([+-])(\d{1,2}))?")
NTH_WEEKDAY = re.compile(r"(\d{2})-(mon|tue|wed|thu|fri|sat|sun)-([1-5]|last)")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FORMS = ("write it as MM-DD ('12-25'), easter or easter+N / easter-N (days from Easter "
         "Sunday: 'easter-2'), or MM-DAY-N (the Nth weekday of a month: '11-thu-4', "
         "'05-mon-last')")  # fmt: skip


def date_in(when: str, year: int) -> dt.date | None:
    """The day ``when`` names in ``year`` (`Holiday.when`); None where it has none (29
    February outside a leap year, a fifth Monday). A ValueError naming the forms for text
    that is none of them."""
    if found := MONTH_DAY.fullmatch(when):
        try:
            return dt.date(year, int(found[1]), int(found[2]))
        except ValueError:
            return None
    if found := FROM_EASTER.fullmatch(when):
        offset = int(found[2] or 0) * (-1 if found[1] == "-" else 1)
        return easter_sunday(year) + dt.timedelta(days=offset)
    if found := NTH_WEEKDAY.fullmatch(when):
        month, weekday = int(found[1]), WEEKDAY_KEYS.index(found[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{when!r} names no month: {FORMS}")
        length = calendar.monthrange(year, month)[1]
        matching = [date for day in range(1, length + 1)
                    if (date := dt.date(year, month, day)).weekday() == weekday]  # fmt: skip
        if found[3] == "last":
            return matching[-1]
        nth = int(found[3])
        return matching[nth - 1] if nth <= len(matching) else None
    raise ValueError(f"{when!r} is no day of the year: {FORMS}")


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday in ``year`` (the Gregorian computus, as Meeus gives it)."""
    golden = year % 19
    century, of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    correction = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_centuries - correction + 15) % 30
    quarters, year_rest = divmod(of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * quarters - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return dt.date(year, month, day + 1)


class Holiday(msgspec.Struct, frozen=True):
    """A day of the year as said ("christmas", "easter", "december 25th") and when it falls;
    ``named``: a day known by its name, not a date."""

    said: str
    when: str
    """ "12-25"; or a day that moves: "easter-2" (days from Easter Sunday: Good Friday),
    "11-thu-4" (the 4th Thursday of November), "05-mon-last" (`date_in`)."""
    named: bool = True

    @property
    def name(self) -> str:
        """ "Christmas", "New Year's Eve"; a date as "December 25"."""
        if not self.named:
            month, day = month_day(self.when)
            return f"{MONTHS[month - 1].capitalize()} {day}"
        return string.capwords(self.said)

    def next_date(self, today: dt.date) -> dt.date:
        """Its day this year, or next year once that has passed."""
        return nearest(lambda year: date_in(self.when, year), today)

    def last_date(self, today: dt.date) -> dt.date:
        """Its last day up to today."""
        return nearest(lambda year: date_in(self.when, year), today, after=False)


def nearest(on: Callable[[int], dt.date | None], today: dt.date, *, after: bool = True) -> dt.date:
    """The first day ``on`` gives, year by year, from today on (or, with ``after`` False, the
    last one up to today): a 29 February waits for the next leap year."""
    year, step = today.year, 1 if after else -1
    while True:
        date = on(year)
        if date is not None and (date >= today if after else date <= today):
            return date
        year += step


def next_on(month: int, day: int, today: dt.date, *, after: bool = True) -> dt.date:
    """The date of ``month`` and ``day`` this year, or next year once it has passed (a 29
    February in the next leap year); with ``after`` False, the last one up to today."""
    return nearest(lambda year: date_in(f"{month:02d}-{day:02d}", year), today, after=after)


def month_day(text: str) -> tuple[int, int]:
    """(12, 25) of "12-25"; a ValueError naming the fix for anything else."""
    found = MONTH_DAY.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is no month and day: write it as MM-DD, e.g. '12-25'")
    month, day = int(found[1]), int(found[2])
    dt.date(2024, month, day)  # a leap year: 02-29 is a day, 02-30 raises ValueError
    return month, day


def day_rule(text: str) -> str:
    """``text`` if it names a day of the year in one of the forms of `date_in`; a ValueError
    naming the fix for anything else."""
    if MONTH_DAY.fullmatch(text):
        month_day(text)
    else:
        date_in(text, 2024)
    return text


def dated(text: str) -> Holiday:
    """The day of the year of a date said as a month and a day (`words.month_and_day`)."""
    month, day = month_and_day(text)
    return Holiday(text, f"{month:02d}-{day:02d}", named=False)


def holiday_kind(names: Mapping[str, str]) -> SlotKind:
    """The ``{holiday}`` slot kind: a name of ``names`` (said name -> when, as
    `Holiday.when`), or a date said as a month and a day."""
    known = {normalise(name): day_rule(when) for name, when in names.items()}

    def parse(text: str) -> Holiday:
        said = re.sub(r"^the\s+", "", text)  # "the new year"
        if said in known:
            return Holiday(said, known[said])
        return dated(text)

    # The names, longest first ("christmas eve" before "christmas").
    alternatives = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
    names_pattern = rf"(?:the\s+)?(?:{alternatives})|" if alternatives else ""
    return SlotKind(rf"{names_pattern}{DATE}", parse)
