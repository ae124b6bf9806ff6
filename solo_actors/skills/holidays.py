"""Days of the year Solo knows by name: "How many days until Christmas?", "When is Halloween?".

A skill file's ``[holidays]`` table names each day and its month and day, ``"christmas" =
"12-25"``; a user adds their own the same way (``"mum's birthday" = "05-03"``). Only days
on the same date every year: one that moves (Easter, Thanksgiving) is not known, so the turn
goes to the llm.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping

import msgspec

from solo_actors.skills.words import NoMatch, SlotKind, normalise

MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


class Holiday(msgspec.Struct, frozen=True):
    """A day of the year as said ("christmas") and when it falls."""

    said: str
    month: int
    day: int

    @property
    def name(self) -> str:
        """ "Christmas", "New Year's Eve"."""
        return string.capwords(self.said)

    def next_date(self, today: dt.date) -> dt.date:
        """Its date this year, or next year once it has passed (a 29 February in the next
        leap year)."""
        year = today.year
        while True:
            try:
                date = dt.date(year, self.month, self.day)
            except ValueError:  # 29 February, not a leap year
                date = None
            if date is not None and date >= today:
                return date
            year += 1


def month_day(text: str) -> tuple[int, int]:
    """("12", "25") of "12-25"; a ValueError naming the fix for anything else."""
    found = MONTH_DAY.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is no month and day: write it as MM-DD, e.g. '12-25'")
    month, day = int(found[1]), int(found[2])
    dt.date(2024, month, day)  # a leap year: 02-29 is a day, 02-30 raises ValueError
    return month, day


def holiday_kind(names: Mapping[str, str]) -> SlotKind:
    """The ``{holiday}`` slot kind: a name of ``names`` (said name -> "MM-DD")."""
    known = {normalise(name): month_day(date) for name, date in names.items()}

    def parse(text: str) -> Holiday:
        said = re.sub(r"^the\s+", "", text)  # "the new year"
        if said not in known:
            raise NoMatch(f"no day of the year called {text!r}")
        return Holiday(said, *known[said])

    # The names, longest first ("christmas eve" before "christmas"); none: nothing matches.
    alternatives = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
    return SlotKind(rf"(?:the\s+)?(?:{alternatives or '(?!)'})", parse)
