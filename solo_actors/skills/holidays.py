"""Days of the year Solo knows by name or date: "How many days until Christmas?", "When is
Halloween?", "How many days until December 25?".

A skill file's ``[holidays]`` table names each day and its month and day, ``"christmas" =
"12-25"``; a user adds their own the same way (``"mum's birthday" = "05-03"``). Only days
on the same date every year: one that moves (Easter, Thanksgiving) is not known, so the turn
goes to the llm. A date said as a month and a day ("december 25th", "the 4th of july",
"25 dec") is a day of the year too, without a name.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping

import msgspec

from solo_actors.skills.words import DATE, MONTHS, SlotKind, month_and_day, normalise

MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


class Holiday(msgspec.Struct, frozen=True):
    """A day of the year as said ("christmas", "december 25th") and when it falls;
    ``named``: a day known by its name, not a date."""

    said: str
    month: int
    day: int
    named: bool = True

    @property
    def name(self) -> str:
        """ "Christmas", "New Year's Eve"; a date as "December 25"."""
        if not self.named:
            return f"{MONTHS[self.month - 1].capitalize()} {self.day}"
        return string.capwords(self.said)

    def next_date(self, today: dt.date) -> dt.date:
        return next_on(self.month, self.day, today)


def next_on(month: int, day: int, today: dt.date, *, after: bool = True) -> dt.date:
    """The date of ``month`` and ``day`` this year, or next year once it has passed (a 29
    February in the next leap year); with ``after`` False, the last one up to today."""
    year, step = today.year, 1 if after else -1
    while True:
        try:
            date = dt.date(year, month, day)
        except ValueError:  # 29 February, not a leap year
            date = None
        if date is not None and (date >= today if after else date <= today):
            return date
        year += step


def month_day(text: str) -> tuple[int, int]:
    """("12", "25") of "12-25"; a ValueError naming the fix for anything else."""
    found = MONTH_DAY.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is no month and day: write it as MM-DD, e.g. '12-25'")
    month, day = int(found[1]), int(found[2])
    dt.date(2024, month, day)  # a leap year: 02-29 is a day, 02-30 raises ValueError
    return month, day


def dated(text: str) -> Holiday:
    """The day of the year of a date said as a month and a day (`words.month_and_day`)."""
    return Holiday(text, *month_and_day(text), named=False)


def holiday_kind(names: Mapping[str, str]) -> SlotKind:
    """The ``{holiday}`` slot kind: a name of ``names`` (said name -> "MM-DD"), or a date
    said as a month and a day."""
    known = {normalise(name): month_day(date) for name, date in names.items()}

    def parse(text: str) -> Holiday:
        said = re.sub(r"^the\s+", "", text)  # "the new year"
        if said in known:
            return Holiday(said, *known[said])
        return dated(text)

    # The names, longest first ("christmas eve" before "christmas").
    alternatives = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
    names_pattern = rf"(?:the\s+)?(?:{alternatives})|" if alternatives else ""
    return SlotKind(rf"{names_pattern}{DATE}", parse)
