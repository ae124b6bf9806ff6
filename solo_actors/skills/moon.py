"""The moon's phases, worked out offline: when the next full or new moon is, and the phase now
(the ``moon.*`` intents of ``config/skills/moon.toml``).

The times are those of Meeus, *Astronomical Algorithms* (2nd ed.), chapter 49: the mean
phase from the lunation number, corrected by the periodic terms of the Sun's and the Moon's
anomalies, the Moon's argument of latitude and its node, to within a few minutes over
centuries. The terms below 0.0002 days (17 seconds) are left out. Meeus's times are
Terrestrial Time, `DELTA_T` ahead of UTC. The model knows no date, and said "The next full
moon is on July 20, 2023.".
"""

from __future__ import annotations

import math
from typing import Literal

Phase = Literal["new", "full"]

SYNODIC_MONTH = 29.530588861
"""Mean days from one new moon to the next."""
J2000_NEW_MOON = 2451550.09766
"""The Julian ephemeris day of the mean new moon of 6 January 2000 (lunation 0)."""
UNIX_EPOCH_JD = 2440587.5
DELTA_T = 69.0
"""Seconds Terrestrial Time is ahead of UTC, near enough for this century's minutes."""

# The periodic terms (Meeus, table in chapter 49): each term's argument as multiples of
# (M, M', F, Ω), the power of E (the Earth's eccentricity factor) it carries, and its
# coefficient in days at a new moon and at a full moon. The arguments are the same for both.
_TERMS: tuple[tuple[tuple[int, int, int, int], int, float, float], ...] = (
    ((0, 1, 0, 0), 0, -0.40720, -0.40614), ((1, 0, 0, 0), 1, 0.17241, 0.17302),
    ((0, 2, 0, 0), 0, 0.01608, 0.01614), ((0, 0, 2, 0), 0, 0.01039, 0.01043),
    ((-1, 1, 0, 0), 1, 0.00739, 0.00734), ((1, 1, 0, 0), 1, -0.00514, -0.00515),
    ((2, 0, 0, 0), 2, 0.00208, 0.00209), ((0, 1, -2, 0), 0, -0.00111, -0.00111),
    ((0, 1, 2, 0), 0, -0.00057, -0.00057), ((1, 2, 0, 0), 1, 0.00056, 0.00056),
    ((0, 3, 0, 0), 0, -0.00042, -0.00042), ((1, 0, 2, 0), 1, 0.00042, 0.00042),
    ((1, 0, -2, 0), 1, 0.00038, 0.00038), ((-1, 2, 0, 0), 1, -0.00024, -0.00024),
    ((0, 0, 0, 1), 0, -0.00017, -0.00017),
)  # fmt: skip


def phase_time(lunation: int, phase: Phase) -> float:
    """The epoch seconds of lunation `lunation`'s new or full moon (lunation 0: the new
    moon of 6 January 2000)."""
    k = lunation + (0.5 if phase == "full" else 0.0)
    t = k / 1236.85  # Julian centuries from J2000
    jde = (J2000_NEW_MOON + SYNODIC_MONTH * k + 0.00015437 * t**2 - 0.000000150 * t**3
           + 0.00000000073 * t**4)  # fmt: skip
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    sun = math.radians(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    moon = math.radians(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3
                        - 0.000000058 * t**4)  # fmt: skip
    latitude = math.radians(160.7108 + 390.67050284 * k - 0.0016118 * t**2
                            - 0.00000227 * t**3 + 0.000000011 * t**4)  # fmt: skip
    node = math.radians(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    for (a, b, c, d), power, at_new, at_full in _TERMS:
        argument = a * sun + b * moon + c * latitude + d * node
        jde += (at_full if phase == "full" else at_new) * e**power * math.sin(argument)
    return (jde - UNIX_EPOCH_JD) * 86400.0 - DELTA_T


def lunation_before(epoch: float) -> int:
    """The lunation whose new moon is the last at or before `epoch` seconds."""
    days = epoch / 86400.0 + UNIX_EPOCH_JD - J2000_NEW_MOON
    lunation = math.floor(days / SYNODIC_MONTH)
    # The true new moon is up to about 14 hours from the mean one: step to the right side.
    while phase_time(lunation, "new") > epoch:
        lunation -= 1
    while phase_time(lunation + 1, "new") <= epoch:
        lunation += 1
    return lunation


def next_phase(phase: Phase, epoch: float) -> float:
    """The epoch seconds of the first new or full moon after `epoch`."""
    lunation = lunation_before(epoch)
    for candidate in (lunation, lunation + 1, lunation + 2):
        at = phase_time(candidate, phase)
        if at > epoch:
            return at
    raise AssertionError("a new and a full moon come within every two lunations")


PHASE_NAMES = (
    (0.03, "new"), (0.22, "a waxing crescent"), (0.28, "at its first quarter"),
    (0.47, "a waxing gibbous"), (0.53, "full"), (0.72, "a waning gibbous"),
    (0.78, "at its last quarter"), (0.97, "a waning crescent"), (1.0, "new"),
)  # fmt: skip
"""The phase by the share of the lunation gone: each name up to its share."""


def phase_name(epoch: float) -> str:
    """How the moon is at `epoch`, after "The moon is": "a waxing crescent", "full", "at its
    last quarter" ..."""
    lunation = lunation_before(epoch)
    start, end = phase_time(lunation, "new"), phase_time(lunation + 1, "new")
    share = (epoch - start) / (end - start)
    return next(name for upto, name in PHASE_NAMES if share <= upto)
