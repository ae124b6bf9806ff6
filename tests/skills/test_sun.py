"""Sunrise and sunset (solo_actors/skills/sun.py): within two minutes of the almanacs, the
polar day and night, where the user is, and what is said."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest

from solo_actors.config import Config, load_config
from solo_actors.config.loader import ConfigError
from solo_actors.skills.builtin import SkillBook
from solo_actors.skills.places import Location, configured_location, zone_location
from solo_actors.skills.sun import season_start, sun_day
from solo_actors.skills.templates import Matcher
from tests.skills.conftest import NOW, a_book


@pytest.mark.parametrize(
    ("zone", "date", "sunrise", "sunset"),
    [
        ("Europe/London", dt.date(2026, 12, 21), "08:04", "15:54"),
        ("Europe/Paris", dt.date(2026, 6, 21), "05:47", "21:58"),
        ("Europe/Oslo", dt.date(2026, 6, 21), "03:54", "22:44"),  # a zone zone1970.tab merges
        ("Australia/Sydney", dt.date(2026, 12, 21), "05:41", "20:05"),
        ("Asia/Tokyo", dt.date(2026, 12, 7), "06:37", "16:28"),
    ],
)  # fmt: skip
def test_the_times_are_the_almanacs_within_two_minutes(
    zone: str, date: dt.date, sunrise: str, sunset: str
) -> None:
    location = zone_location(zone)
    assert location is not None and location.city == zone.split("/")[1], zone
    day = sun_day(date, location)
    assert day.sunrise is not None and day.sunset is not None
    for epoch, almanac in ((day.sunrise, sunrise), (day.sunset, sunset)):
        local = dt.datetime.fromtimestamp(epoch, zoneinfo.ZoneInfo(zone))
        expected = dt.datetime.combine(date, dt.time.fromisoformat(almanac), local.tzinfo)
        assert abs((local - expected).total_seconds()) <= 120, (zone, local, almanac)


def test_beyond_the_polar_circle_the_sun_may_not_rise_or_set() -> None:
    tromso = Location(69.65, 18.96, "Tromso")
    assert sun_day(dt.date(2026, 12, 21), tromso).sunrise is None
    assert not sun_day(dt.date(2026, 12, 21), tromso).up  # polar night
    assert sun_day(dt.date(2026, 6, 21), tromso).up  # midnight sun


def said(book: SkillBook, matcher: Matcher, text: str) -> str:
    match = matcher.match(text)
    assert match is not None and match.intent.startswith("sun."), (text, match)
    return book.answer(match, NOW).text


CLOCK = r"\d{1,2}:\d{2} [AP]M"


def test_where_the_user_is_comes_from_the_time_zone_and_is_named(
    utc_config: Config, matcher: Matcher
) -> None:
    book = a_book(utc_config, matcher, timezone="Europe/London")
    # NOW is 9:26 PM in London on May 28: the sun has set.
    assert re.fullmatch(r"In London, the sun set at 9:0\d PM today; tomorrow it sets at "
                        r"9:0\d PM\.", said(book, matcher, "when is sunset"))  # fmt: skip
    assert re.fullmatch(r"In London, the sun rises at 4:5\d AM tomorrow\.",
                        said(book, matcher, "what time is sunrise tomorrow"))  # fmt: skip
    assert re.fullmatch(rf"In London, the sun rises at {CLOCK} on Saturday, May 30\.",
                        said(book, matcher, "when does the sun rise on saturday"))  # fmt: skip
    assert re.fullmatch(rf"In London, today has 16 hours and \d+ minutes of daylight: the sun "
                        rf"rises at {CLOCK} and sets at {CLOCK}\.",
                        said(book, matcher, "how much daylight is there today"))  # fmt: skip
    # Elsewhere, in its own time and its own "today" (Friday morning in Tokyo).
    assert re.fullmatch(r"In Tokyo, the sun sets at 6:4\d PM Tokyo time today\.",
                        said(book, matcher, "when does the sun set in tokyo"))  # fmt: skip


def test_a_location_given_is_used_unnamed_and_a_bad_one_is_refused_at_start(
    utc_config: Config, matcher: Matcher
) -> None:
    book = a_book(utc_config, matcher, timezone="Europe/Paris", location="45.76, 4.84")
    assert re.fullmatch(rf"The sun set at {CLOCK} today; tomorrow it sets at {CLOCK}\.",
                        said(book, matcher, "when does the sun go down"))  # fmt: skip
    assert configured_location("Oslo", "") == zone_location("Europe/Oslo")
    for location in ("lyon", "91, 3", "somewhere"):
        with pytest.raises(ConfigError, match=r"skills\.location"):
            load_config("test", environ={"SOLO__SKILLS__LOCATION": location})


def test_nowhere_known_is_said_not_guessed(utc_config: Config, matcher: Matcher) -> None:
    book = a_book(utc_config, matcher)  # "UTC": a zone of no city
    match = matcher.match("when is sunrise")
    assert match is not None
    answer = book.answer(match, NOW)
    assert answer.refused and "Set skills.location" in answer.text, answer


@pytest.mark.parametrize(
    ("season", "southern", "published"),
    [
        ("winter", False, "2026-12-21 20:50"),
        ("spring", False, "2027-03-20 20:25"),
        ("summer", False, "2027-06-21 14:11"),
        ("autumn", False, "2027-09-23 06:02"),
        ("summer", True, "2026-12-21 20:50"),  # the December solstice down under
    ],
)  # fmt: skip
def test_the_seasons_begin_at_the_published_equinoxes_and_solstices_within_ten_minutes(
    season: str, southern: bool, published: str
) -> None:
    after = dt.datetime(2026, 12, 7, tzinfo=dt.UTC).timestamp()
    start, _mark = season_start(season, southern, after)
    expected = dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC).timestamp()
    assert abs(start - expected) <= 600, dt.datetime.fromtimestamp(start, dt.UTC)


def test_the_season_is_the_users_hemispheres(utc_config: Config, matcher: Matcher) -> None:
    # The model had said "There are 30 days until spring starts." on December 7 (103).
    december_7 = dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC).timestamp()
    london = a_book(utc_config, matcher, timezone="Europe/London")
    sydney = a_book(utc_config, matcher, timezone="Australia/Sydney")

    def answer(book: SkillBook, text: str) -> str:
        match = matcher.match(text)
        assert match is not None and match.intent.startswith("sun."), (text, match)
        return book.answer(match, december_7).text

    assert answer(london, "how many days until spring") == (
        "Spring begins at the March equinox, on Saturday, March 20, 2027, in 103 days."
    )
    assert answer(london, "what season is it") == (
        "It's autumn: winter begins at the December solstice, on Monday, December 21, in 14 days."
    )
    assert answer(sydney, "what season is it").startswith("It's spring: summer begins at the ")
    assert answer(london, "what's the longest day of the year").startswith(
        "The longest day is the June solstice, on Monday, June 21, 2027"
    )
    assert matcher.match("when does school start") is None  # the llm's
