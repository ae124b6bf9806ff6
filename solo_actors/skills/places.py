"""Places whose time Solo can tell: every city of the IANA time zone database, by name, and
how their clocks differ and change ("how many hours ahead is Tokyo", "when do the clocks go
back"), from the zone database's own rules; where those cities are, and where the user is.

"What time is it in Tokyo?" needs no network: the zone database that ships with Python (or
the `tzdata` package) names ~600 cities, and ``America/Argentina/Buenos_Aires`` is said
"buenos aires". A skill file may add names the database lacks (countries, "new york city")
in its ``[places]`` table: ``japan = "Asia/Tokyo"``. A place not known is no match at all,
so the turn goes to the llm, which says it can't check; the skill never guesses a zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
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


ABBREVIATIONS = frozenset(("uk", "us", "usa", "la", "nyc", "uae", "utc", "gmt"))
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


def offset_said(seconds: float) -> str:
    """ "UTC+5:30", "UTC-4", "UTC+0": an offset from UTC as clocks are labelled."""
    hours, minutes = divmod(round(abs(seconds)) // 60, 60)
    sign = "-" if seconds < 0 else "+"
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def clock_label(zone_key: str, epoch: float) -> str:
    """ "GMT, UTC+0", "IST, UTC+5:30", "UTC+4": how a zone's clocks are labelled at
    ``epoch``, its abbreviation where it has one (some zones' are only an offset, "+04")."""
    zone = zoneinfo.ZoneInfo(zone_key)
    offset = offset_said(offset_at(zone, epoch))
    abbreviation = dt.datetime.fromtimestamp(epoch, zone).tzname() or ""
    named = abbreviation and abbreviation[0] not in "+-" and abbreviation != "UTC"
    return f"{abbreviation}, {offset}" if named else offset


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


ZONE_TABLES = ("zone1970.tab", "zone.tab")
"""``zone.tab`` has a row for every country's zones ("Europe/Oslo"), which ``zone1970.tab``
merges into one ("Europe/Berlin"); it wins where both have a zone."""
SYSTEM_ZONEINFO = Path("/usr/share/zoneinfo")
_COORDINATES = re.compile(r"([+-]\d{4,6})([+-]\d{5,7})")
_LAT_LON = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*[, ]\s*([+-]?\d+(?:\.\d+)?)\s*")


class Location(msgspec.Struct, frozen=True):
    """A point on the Earth (the user's, a city's): its coordinates in degrees (north and
    east positive), and the city a reply names ("" when the user gave the coordinates
    themselves)."""

    latitude: float
    longitude: float
    city: str = ""


def _zone_rows(table: str) -> list[list[str]]:
    """The rows of a zone table (``zone.tab``: country code, coordinates, zone key), from
    the tzdata package or else the system's zoneinfo."""
    try:
        text = (importlib.resources.files("tzdata.zoneinfo") / table).read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        text = (SYSTEM_ZONEINFO / table).read_text()
    return [line.split("\t") for line in text.splitlines() if not line.startswith("#")]


@functools.cache
def zone_coordinates() -> dict[str, tuple[float, float]]:
    """Each zone key's main city's latitude and longitude, from the zone tables."""
    places: dict[str, tuple[float, float]] = {}
    for table in ZONE_TABLES:
        for fields in _zone_rows(table):
            if len(fields) >= 3 and (found := _COORDINATES.fullmatch(fields[1])):
                places[fields[2]] = (_degrees(found[1]), _degrees(found[2]))
    return places


@functools.cache
def zone_countries() -> dict[str, str]:
    """Each zone key's country, as its ISO 3166 code ("Europe/London": "GB"), from
    ``zone.tab``, which names one country per zone."""
    return {fields[2]: fields[0] for fields in _zone_rows("zone.tab") if len(fields) >= 3}


def _degrees(iso6709: str) -> float:
    """+4852 (48°52'), -07400 (-74°00'), +404251 (40°42'51'') in degrees."""
    sign, digits = (-1 if iso6709[0] == "-" else 1), iso6709[1:]
    whole = 2 if len(digits) in (4, 6) else 3
    degrees, rest = int(digits[:whole]), digits[whole:]
    minutes, seconds = int(rest[:2]), int(rest[2:] or 0)
    return sign * (degrees + minutes / 60 + seconds / 3600)


def zone_location(zone: str) -> Location | None:
    """The main city of zone key ``zone`` ("Europe/Paris": Paris), None if it has none."""
    coordinates = zone_coordinates().get(zone)
    if coordinates is None:
        return None
    return Location(*coordinates, city=city_of(zone))


def configured_location(location: str, zone: str) -> Location | None:
    """Where ``skills.location`` says the user is ("latitude, longitude", or a city of the
    zone database), or else the main city of ``zone`` (the configured time zone, or the
    system's); None if neither says. A ValueError naming the forms for a location that is
    neither."""
    if not location.strip():
        return zone_location(zone or system_zone())
    if found := _LAT_LON.fullmatch(location):
        latitude, longitude = float(found[1]), float(found[2])
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError(f"skills.location {location!r}: latitude must be within -90..90 "
                             "and longitude within -180..180")  # fmt: skip
        return Location(latitude, longitude)
    city = zone_cities().get(normalise(location))
    place = zone_location(city) if city else None
    if place is None:
        raise ValueError(
            f"skills.location {location!r} is neither 'latitude, longitude' (e.g. '45.76, "
            "4.84') nor a city of the time zone database (e.g. 'paris')"
        )
    return place
