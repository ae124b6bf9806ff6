"""How far apart cities are (solo_actors/skills/distance.py): the great circle within half
a percent of the published distances (the ellipsoid's), said to three figures, from where
the user is, and places that are no city refused, not guessed."""

from __future__ import annotations

import pytest

from solo_actors.config import Config
from solo_actors.skills.builtin import Answer, SkillBook
from solo_actors.skills.distance import about, great_circle_km
from solo_actors.skills.places import zone_location
from solo_actors.skills.templates import Matcher
from tests.skills.conftest import NOW, a_book


@pytest.mark.parametrize(
    ("here", "there", "published_km"),
    [
        ("Europe/London", "Asia/Tokyo", 9_585),
        ("Europe/London", "Europe/Paris", 343),
        ("America/New_York", "America/Los_Angeles", 3_945),
        ("Australia/Sydney", "Europe/London", 16_990),
    ],
)  # fmt: skip
def test_a_great_circle_is_within_half_a_percent_of_the_published_distance(
    here: str, there: str, published_km: float
) -> None:
    a, b = zone_location(here), zone_location(there)
    assert a is not None and b is not None
    assert great_circle_km(a, b) == pytest.approx(published_km, rel=0.005)
    assert great_circle_km(a, b) == pytest.approx(great_circle_km(b, a))


def test_a_distance_is_said_to_three_figures() -> None:
    assert [about(value) for value in (9559.4, 343.5, 12.3, 0.4, 999.6)] == [
        "9,560", "344", "12", "less than 1", "1,000"]  # fmt: skip


def ask(book: SkillBook, matcher: Matcher, text: str) -> Answer:
    match = matcher.match(text)
    assert match is not None and match.intent.startswith("distance."), (text, match)
    return book.answer(match, NOW)


def test_how_far_a_city_is_from_another_or_from_the_user(
    utc_config: Config, matcher: Matcher
) -> None:
    # The model had said London and Tokyo are about 5,700 kilometres apart.
    london = a_book(utc_config, matcher, timezone="Europe/London")
    assert ask(london, matcher, "How far is Tokyo from London?").text == (
        "Tokyo is about 9,560 kilometres (5,940 miles) from London, as the crow flies."
    )
    assert ask(london, matcher, "what's the distance between paris and berlin").text.startswith(
        "Paris is about 87"
    )
    assert ask(london, matcher, "how far away is Sydney").text == (
        "Sydney is about 17,000 kilometres (10,600 miles) from London, as the crow flies."
    )
    here = a_book(utc_config, matcher, location="48.86, 2.35")
    assert ask(here, matcher, "how far is it to London").text.startswith("London is about 34")
    assert ask(here, matcher, "how far is it to London").text.endswith(
        "from you, as the crow flies."
    )
    assert ask(here, matcher, "how far is it from London").text.startswith("London is about 34")


def test_a_place_that_is_no_city_or_nowhere_known_is_refused(
    utc_config: Config, matcher: Matcher
) -> None:
    london = a_book(utc_config, matcher, timezone="Europe/London")
    # Japan's zone is Tokyo's, but Japan is not where Tokyo is; nor is San Francisco Los
    # Angeles, whose zone the skill files give it.
    for text, place in (("how far is Japan from London", "Japan"),
                        ("how far is San Francisco from New York", "San Francisco")):  # fmt: skip
        answer = ask(london, matcher, text)
        assert answer.refused and f"{place} is not one I know" in answer.text, answer
    nowhere = SkillBook(utc_config.skills, matcher)  # "UTC": a zone of no city
    answer = ask(nowhere, matcher, "how far away is Sydney")
    assert answer.refused and "Set skills.location" in answer.text, answer
    assert matcher.match("how far is the moon from the earth") is None  # the llm's
