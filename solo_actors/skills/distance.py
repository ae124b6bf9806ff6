"""How far apart two cities are, as the crow flies: "How far is Tokyo from London?", "How
far away is Paris?" (from where the user is, `places.configured_location`).

The cities are those of the time zone database, whose ``zone.tab`` carries each one's
coordinates (`places.zone_location`); the distance is the great circle between them on a
sphere of the Earth's mean radius (the haversine formula), within half a percent of the
geodesic on the ellipsoid. A place the skill files name that is no such city (a country,
"japan"; a city given the zone of another, "san francisco") is not measured: its zone's
city is not where it is.
"""

from __future__ import annotations

import math

from solo_actors.skills.places import Location

EARTH_RADIUS_KM = 6371.0088
"""The Earth's mean radius (IUGG)."""
KM_PER_MILE = 1.609344
SIGNIFICANT_FIGURES = 3
"""A distance is said to three figures ("about 9,560 kilometres"): the cities are points,
and the places people mean by them are kilometres wide."""


def great_circle_km(a: Location, b: Location) -> float:
    """The distance between ``a`` and ``b`` over the Earth's surface, in kilometres."""
    lat_a, lat_b = math.radians(a.latitude), math.radians(b.latitude)
    d_lat, d_lon = lat_b - lat_a, math.radians(b.longitude - a.longitude)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def about(value: float) -> str:
    """``value`` to `SIGNIFICANT_FIGURES` figures, with thousands separated: "9,560"."""
    if value < 1:
        return "less than 1"
    digits = SIGNIFICANT_FIGURES - 1 - math.floor(math.log10(value))
    return f"{round(value, min(digits, 0)):,.0f}"


def distance_said(there: str, where: Location, here: str, origin: Location) -> str:
    """ "Tokyo is about 9,560 kilometres (5,940 miles) from London, as the crow flies."."""
    km = great_circle_km(origin, where)
    if km < 1:
        return f"That's the same place: {there}."
    miles = km / KM_PER_MILE
    return (f"{there} is about {about(km)} kilometres ({about(miles)} miles) from {here}, "
            "as the crow flies.")  # fmt: skip
