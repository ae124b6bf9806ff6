"""The moon's phases against eclipses, whose times are known to the minute: a solar eclipse
comes at a new moon, a lunar one at a full moon."""

from __future__ import annotations

import datetime as dt

import pytest

from solo_actors.skills.builtin import SkillBook
from solo_actors.skills.moon import next_phase, phase_name
from solo_actors.skills.templates import Matcher
from tests.skills.conftest import NOW


def epoch(*when: int) -> float:
    return dt.datetime(*when, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("phase", "after", "at"),
    [
        ("new", epoch(2017, 8, 1), epoch(2017, 8, 21, 18, 30)),  # the US total solar eclipse
        ("new", epoch(2024, 4, 1), epoch(2024, 4, 8, 18, 21)),  # the North American one
        ("full", epoch(2022, 11, 1), epoch(2022, 11, 8, 11, 2)),  # a total lunar eclipse
        ("full", epoch(2025, 3, 1), epoch(2025, 3, 14, 6, 55)),  # and another
        ("full", epoch(1999, 7, 1), epoch(1999, 7, 28, 11, 25)),  # a partial one, last century
    ],
)  # fmt: skip
def test_a_new_or_full_moon_comes_within_two_minutes_of_its_eclipse(
    phase: str, after: float, at: float
) -> None:
    assert abs(next_phase(phase, after) - at) < 120  # type: ignore[arg-type]


def test_the_phase_between_them() -> None:
    assert phase_name(epoch(2024, 4, 8, 18, 21)) == "new"
    assert phase_name(epoch(2024, 4, 12)) == "a waxing crescent"
    assert phase_name(epoch(2025, 3, 14, 6, 55)) == "full"
    assert phase_name(epoch(2025, 3, 18)) == "a waning gibbous"


def test_asked_the_book_says_when_in_local_time(book: SkillBook, matcher: Matcher) -> None:
    # Thursday 2026-05-28 20:26:40 UTC: the next full moon is on 31 May, at 08:46 UTC.
    asked = matcher.match("when is the next full moon")
    assert asked is not None
    answer = book.answer(asked, NOW).text
    assert answer.startswith("The next full moon is at "), answer
    assert answer.endswith(", in 3 days."), answer
    phase = matcher.match("what phase is the moon in")
    assert phase is not None
    assert book.answer(phase, NOW).text.startswith("The moon is a waxing gibbous. The next full")
