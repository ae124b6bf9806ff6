"""Sunrise and sunset, offline: "When is sunset?", "What time is sunrise in Tokyo tomorrow?";
and the seasons, from the equinoxes and solstices: "How many days until spring?".

The times come from the sunrise equation (the NOAA/Meeus low-precision solar position: the
sun's mean anomaly, its equation of centre, the equation of time and its declination), with
the sun's upper edge on a horizon lowered 0.833° by refraction. They are within a minute or
two of the almanacs' outside the polar circles, where the sun may not rise or set at all.

Where the user is comes from ``skills.location`` (`places.configured_location`):
"latitude, longitude" in degrees (north and east positive), or a city of the time zone
database ("lyon" is not one; "paris" is). Left empty, it is the main city of Solo's time
zone ("Europe/Paris": Paris), whose coordinates the zone database's ``zone.tab`` and
``zone1970.tab`` carry: the answer then names that city, since the user may live hours of
driving away, where the sun rises minutes earlier or later.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import msgspec

from solo_actors.skills.dates import spoken_clock, spoken_date
from solo_actors.skills.places import Location
from solo_actors.skills.words import spoken_duration

HORIZON = -0.833
"""The sun's centre, in degrees, when its upper edge meets the horizon (refraction and its
radius): what almanacs call sunrise and sunset."""
J2000 = 2451545.0
"""The Julian day of 2000-01-01 12:00 UTC."""
UNIX_EPOCH_JD = 2440587.5


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
    ecliptic = math.radians(sun_longitude(_epoch(J2000 + days)))
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


SEASON_STARTS = {"spring": 0.0, "summer": 90.0, "autumn": 180.0, "winter": 270.0}
"""The sun's ecliptic longitude, in degrees, at which each season begins in the northern
hemisphere (the equinoxes and solstices), in the seasons' turn; the southern hemisphere's
are 180 degrees on."""
SEASON_MARKS = {0.0: "the March equinox", 90.0: "the June solstice",
                180.0: "the September equinox", 270.0: "the December solstice"}  # fmt: skip


def sun_longitude(epoch: float) -> float:
    """The sun's apparent ecliptic longitude at ``epoch``, in degrees: the Astronomical
    Almanac's low-precision formula, within 0.01 degree (a quarter of an hour of the sun's
    motion) this century. Its mean longitude moves faster than its anomaly (the perihelion
    precesses): a form with one rate for both drifts 0.46 degree, half a day, by 2026."""
    days = epoch / 86400 + UNIX_EPOCH_JD - J2000
    mean = 280.460 + 0.9856474 * days
    anomaly = math.radians(357.528 + 0.9856003 * days)
    return (mean + 1.915 * math.sin(anomaly) + 0.020 * math.sin(2 * anomaly)) % 360


def next_longitude(degrees: float, after: float) -> float:
    """The first instant after ``after`` (epoch seconds) at which the sun's longitude is
    ``degrees``: found day by day, then halved to a minute."""
    start = sun_longitude(after)
    wanted = (degrees - start) % 360 or 360.0

    def reached(epoch: float) -> bool:
        return (sun_longitude(epoch) - start) % 360 >= wanted

    low, high = after, after + 86400
    while not reached(high):
        low, high = high, high + 86400
    while high - low > 60:
        middle = (low + high) / 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return high


def season_start(season: str, southern: bool, after: float) -> tuple[float, str]:
    """When ``season`` next begins after ``after`` (epoch seconds), and the equinox or
    solstice that begins it ("the March equinox"): in the southern hemisphere spring begins
    at the September equinox."""
    longitude = (SEASON_STARTS[season] + (180 if southern else 0)) % 360
    return next_longitude(longitude, after), SEASON_MARKS[longitude]


def season_now(southern: bool, now: float) -> str:
    """The season at ``now``: the one that begins again last, a year after it began."""
    return max(SEASON_STARTS, key=lambda season: season_start(season, southern, now)[0])


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
