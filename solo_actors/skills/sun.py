"""Sunrise and sunset, offline: "When is sunset?", "What time is sunrise in Tokyo tomorrow?".

The times come from the sunrise equation (the NOAA/Meeus low-precision solar position: the
sun's mean anomaly, its equation of centre, the equation of time and its declination), with
the sun's upper edge on a horizon lowered 0.833° by refraction. They are within a minute or
two of the almanacs' outside the polar circles, where the sun may not rise or set at all.

Where the user is comes from ``skills.location``: "latitude, longitude" in degrees (north
and east positive), or a city of the time zone database ("lyon" is not one; "paris" is).
Left empty, it is the main city of Solo's time zone ("Europe/Paris": Paris), whose
coordinates the zone database's ``zone.tab`` and ``zone1970.tab`` carry (in the `tzdata`
package, else the system's): the answer then names that city, since the user may live hours
of driving away, where the sun rises minutes earlier or later.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import math
import re
from pathlib import Path
from typing import Literal

import msgspec

from solo_actors.skills.dates import spoken_clock, spoken_date
from solo_actors.skills.places import city_of, system_zone, zone_cities
from solo_actors.skills.words import normalise, spoken_duration

HORIZON = -0.833
"""The sun's centre, in degrees, when its upper edge meets the horizon (refraction and its
radius): what almanacs call sunrise and sunset."""
J2000 = 2451545.0
"""The Julian day of 2000-01-01 12:00 UTC."""
UNIX_EPOCH_JD = 2440587.5
ZONE_TABLES = ("zone1970.tab", "zone.tab")
"""``zone.tab`` has a row for every country's zones ("Europe/Oslo"), which ``zone1970.tab``
merges into one ("Europe/Berlin"); it wins where both have a zone."""
SYSTEM_ZONEINFO = Path("/usr/share/zoneinfo")
_COORDINATES = re.compile(r"([+-]\d{4,6})([+-]\d{5,7})")
_LAT_LON = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*[, ]\s*([+-]?\d+(?:\.\d+)?)\s*")


class Location(msgspec.Struct, frozen=True):
    """Where the sun is asked about: its coordinates, and the city a reply names ("" when
    the user gave the coordinates themselves)."""

    latitude: float
    longitude: float
    city: str = ""


class SunDay(msgspec.Struct, frozen=True):
    """A day's sunrise and sunset (epoch seconds); None where the sun does not cross the
    horizon that day, and then ``up`` says whether it stays up (midnight sun) or down."""

    sunrise: float | None
    sunset: float | None
    up: bool = False


def sun_day(date: dt.date, location: Location) -> SunDay:
    """Sunrise and sunset on ``date`` (the local calendar day around its solar noon)."""
    # Days from J2000 to the date's noon at this longitude (east positive).
    days = date.toordinal() - dt.date(2000, 1, 1).toordinal() - location.longitude / 360
    anomaly = math.radians((357.5291 + 0.98560028 * days) % 360)
    centre = (1.9148 * math.sin(anomaly) + 0.0200 * math.sin(2 * anomaly)
              + 0.0003 * math.sin(3 * anomaly))  # fmt: skip
    ecliptic = math.radians((math.degrees(anomaly) + centre + 180 + 102.9372) % 360)
    transit = J2000 + days + 0.0053 * math.sin(anomaly) - 0.0069 * math.sin(2 * ecliptic)
    declination = math.asin(math.sin(ecliptic) * math.sin(math.radians(23.4397)))
    latitude = math.radians(location.latitude)
    cos_hour = (math.sin(math.radians(HORIZON)) - math.sin(latitude) * math.sin(declination)) / (
        math.cos(latitude) * math.cos(declination)
    )
    if cos_hour > 1:
        return SunDay(None, None, up=False)  # polar night
    if cos_hour < -1:
        return SunDay(None, None, up=True)  # midnight sun
    half_day = math.degrees(math.acos(cos_hour)) / 360
    return SunDay(_epoch(transit - half_day), _epoch(transit + half_day))


def _epoch(julian_day: float) -> float:
    return (julian_day - UNIX_EPOCH_JD) * 86400


@functools.cache
def zone_coordinates() -> dict[str, tuple[float, float]]:
    """Each zone key's main city's latitude and longitude, from the zone tables."""
    places: dict[str, tuple[float, float]] = {}
    for table in ZONE_TABLES:
        try:
            text = (importlib.resources.files("tzdata.zoneinfo") / table).read_text()
        except (ModuleNotFoundError, FileNotFoundError):
            text = (SYSTEM_ZONEINFO / table).read_text()
        for line in text.splitlines():
            fields = line.split("\t")
            if len(fields) >= 3 and (found := _COORDINATES.fullmatch(fields[1])):
                places[fields[2]] = (_degrees(found[1]), _degrees(found[2]))
    return places


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
    """Where ``skills.location`` says the user is, or else the main city of ``zone`` (the
    configured time zone, or the system's); None if neither says. A ValueError naming the
    forms for a location that is neither."""
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


SunAsked = Literal["sunrise", "sunset", "daylight"]
NOWHERE = ("I don't know where you are, so I can't work out the sun's times. Set skills.location "
           "in Solo's config: 'latitude, longitude', or a city such as 'paris'.")  # fmt: skip


def sun_answer(asked: SunAsked, location: Location, zone: dt.tzinfo | None, date: dt.date,
               now: float, *, in_place: bool = False) -> str:  # fmt: skip
    """ "In London, the sun sets at 3:53 PM today.", "The sun rose at 8:03 AM today; tomorrow
    it rises at 8:04 AM.", "In Tromso the sun does not rise today.", "Today has 7 hours and 50
    minutes of daylight: ..."; times in ``zone`` (None: the system's), and, ``in_place``, said
    to be the place's own ("4:27 PM Tokyo time")."""
    where = f"In {location.city}, " if location.city else ""
    today = dt.datetime.fromtimestamp(now, zone).date()
    when = _day_said(date, today)
    day = sun_day(date, location)

    def clock(epoch: float) -> str:
        said = spoken_clock(dt.datetime.fromtimestamp(epoch, zone))
        return f"{said} {location.city} time" if in_place else said

    if day.sunrise is None or day.sunset is None:
        stays = "the sun does not set: it stays up all day" if day.up else (
            "the sun does not rise: it stays below the horizon all day")  # fmt: skip
        return _sentence(f"{where}{stays} {when}")
    if asked == "daylight":
        length = spoken_duration(round((day.sunset - day.sunrise) / 60) * 60)
        return _sentence(f"{where}{when} has {length} of daylight: the sun rises at "
                         f"{clock(day.sunrise)} and sets at {clock(day.sunset)}")  # fmt: skip
    moment = day.sunrise if asked == "sunrise" else day.sunset
    rises = "rises" if asked == "sunrise" else "sets"
    if moment > now or date != today:
        return _sentence(f"{where}the sun {rises} at {clock(moment)} {when}")
    # Already past today: when it was, and when it is next.
    tomorrow = sun_day(date + dt.timedelta(days=1), location)
    again = tomorrow.sunrise if asked == "sunrise" else tomorrow.sunset
    past = "rose" if asked == "sunrise" else "set"
    said = f"{where}the sun {past} at {clock(moment)} today"
    if again is not None:
        said += f"; tomorrow it {rises} at {clock(again)}"
    return _sentence(said)


def _day_said(date: dt.date, today: dt.date) -> str:
    if date == today:
        return "today"
    if date == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"on {spoken_date(date)}"


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}."
