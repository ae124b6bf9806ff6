"""Places whose time Solo can tell: every city of the IANA time zone database, by name, and
how their clocks differ and change ("how many hours ahead is Tokyo", "when do the clocks go
back"), from the zone database's own rules.

"What time is it in Tokyo?" needs no network: the zone database that ships with Python (or
the `tzdata` package) names ~600 cities, and ``America/Argentina/Buenos_Aires`` is said
"buenos aires". A skill file may add names the database lacks (countries, "new york city")
in its ``[places]`` table: ``japan = "Asia/Tokyo"``. A place not known is no match at all,
so the turn goes to the llm, which says it can't check; the skill never guesses a zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

import msgspec

from solo_actors.skills.words import NoMatch, SlotKind, normalise

REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe",
           "Indian", "Pacific")  # fmt: skip
"""Zone keys under these name a city ("Europe/Paris"); the others are legacy aliases
("US/Eastern", "GB") or offsets ("Etc/GMT+5"), not places anyone says."""


class Place(msgspec.Struct, frozen=True):
    """A place as said ("new york") and its zone key ("America/New_York")."""

    said: str
    zone: str

    def __str__(self) -> str:
        return self.said

    @property
    def name(self) -> str:
        """How it is written in a reply: "New York", "Buenos Aires", "the UK"."""
        return " ".join(
            word.upper() if word in ABBREVIATIONS else word if word in LOWER else word.title()
            for word in self.said.split()
        )


ABBREVIATIONS = frozenset(("uk", "us", "usa", "la", "nyc", "uae"))
LOWER = frozenset(("the", "de", "of", "es"))


@functools.cache
def zone_keys() -> frozenset[str]:
    """Every zone key there is (the database is read once: it walks a folder of files)."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def zone_cities() -> dict[str, str]:
    """Every city of the zone database by its said name: {"new york": "America/New_York"}."""
    cities: dict[str, str] = {}
    for key in sorted(zone_keys()):
        if key.split("/")[0] in REGIONS:
            cities.setdefault(normalise(key.rsplit("/", 1)[-1].replace("_", " ")), key)
    return cities


def place_kind(aliases: Mapping[str, str]) -> SlotKind:
    """The ``{place}`` slot kind: a city of the zone database, or a name in ``aliases``
    (said name -> zone key, from the skill files)."""
    known = {**zone_cities(), **{normalise(name): zone for name, zone in aliases.items()}}

    def parse(text: str) -> Place:
        for said in (text, re.sub(r"^the\s+", "", text)):  # "the uk", "the hague"
            if said in known:
                return Place(said, known[said])
        raise NoMatch(f"no time zone for {text!r}")

    # One to four words, the fewest first ("japan" of "japan right now"), looked up, not
    # compiled into the pattern: an alternation of ~650 names takes long to compile.
    return SlotKind(r"[a-z]+(?:\s+[a-z]+){0,3}?", parse)


def system_zone() -> str:
    """The system's zone key ("Europe/Paris"), or "" where it cannot be told."""
    if (key := os.environ.get("TZ", "").lstrip(":")) and "/" in key:
        return key
    try:
        return Path("/etc/timezone").read_text().strip()
    except OSError:
        pass
    target = os.path.realpath("/etc/localtime")
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""


def city_of(zone: str) -> str:
    """The city a zone key names ("America/New_York": "New York"); "" for one that names
    none ("UTC", "Etc/GMT+5")."""
    region, _, city = zone.rpartition("/")
    return city.replace("_", " ") if region.split("/")[0] in REGIONS else ""


def offset_at(zone: dt.tzinfo | None, epoch: float) -> float:
    """Seconds ``zone`` (None: the system's) is ahead of UTC at ``epoch``."""
    offset = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def next_clock_change(zone: dt.tzinfo | None, after: float, days: int = 400) -> float | None:
    """The first instant after ``after``, within ``days``, at which ``zone``'s offset from UTC
    changes (to the second); None if it keeps one offset. Day by day, then halving the day:
    zoneinfo has no public list of its transitions."""
    start = offset_at(zone, after)
    for day in range(1, days + 1):
        if offset_at(zone, after + day * 86400) != start:
            low, high = after + (day - 1) * 86400, after + day * 86400
            while high - low > 1:
                middle = (low + high) / 2
                low, high = (middle, high) if offset_at(zone, middle) == start else (low, middle)
            # The change is at a whole second, in (low, high], which is at most 1 s long.
            return math.floor(low) + 1
    return None
