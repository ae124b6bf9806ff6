"""The utterance set (utterances.toml): intent accuracy >= 97 %, slot accuracy >= 95 %, and
no ordinary question taken by a skill. Failures are printed so a new phrasing that breaks
an old one is easy to find."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from solo_actors.skills.actor import (
    AGAIN,
    FROM_BIRTH,
    MODEL,
    UNTIL_BIRTHDAY,
    WHY_DECLINED,
)
from solo_actors.skills.builtin import SAID_AGAIN, SkillBook
from solo_actors.skills.lists import ListBook
from solo_actors.skills.memories import MemorySkills
from solo_actors.skills.speaking_rate import SpeakingRateSkills
from solo_actors.skills.templates import Matcher, SkillMatch
from solo_actors.skills.volume import VolumeSkills, change_asked
from tests.skills.conftest import NOW

DATA = tomllib.loads((Path(__file__).parent / "utterances.toml").read_text("utf-8"))
POSITIVES: list[dict[str, Any]] = DATA["positives"]
NEGATIVES: list[str] = DATA["negatives"]


def impossible_volume(match: SkillMatch) -> bool:
    """A volume intent asking for a level that no volume has ("200 percent")."""
    if not VolumeSkills(timeout=1).answers(match):
        return False
    try:
        change_asked(match)
    except ValueError:
        return True
    return False


def same(expected: object, got: object) -> bool:
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(float(expected), float(got), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, list) and isinstance(got, list):  # a list of numbers
        return len(expected) == len(got) and all(map(same, expected, got))
    # A holiday or a food is compared by how it is said.
    return str(expected) == str(getattr(got, "said", got))


def test_the_set_is_big_enough() -> None:
    assert len(POSITIVES) >= 150 and len(NEGATIVES) >= 100


def test_intent_and_slot_accuracy(matcher: Matcher, book: SkillBook) -> None:
    intent_misses, slot_misses, refusal_misses = [], [], []
    for case in POSITIVES:
        match = matcher.match(case["text"])
        if match is None or match.intent != case["intent"]:
            intent_misses.append((case["text"], case["intent"], match))
            continue
        # The memory intents (the user's birthday and age too) are answered by asking the
        # memory actor, the volume ones the speaker, the speaking-rate ones tts, "what model
        # are you?" the config, the repeats, "another one" and "why not?" the last turn, the
        # lists the user's lists, not the book (tests/app/test_memory_turns.py,
        # tests/api/test_volume.py, tests/wyoming/test_speaking_rate.py,
        # tests/skills/test_skills_actor.py, tests/skills/test_lists.py).
        answered_here = not (MemorySkills(timeout=1).answers(match)
                             or match.intent in (*SAID_AGAIN, AGAIN, WHY_DECLINED, MODEL,
                                                 UNTIL_BIRTHDAY, *FROM_BIRTH)
                             or VolumeSkills(timeout=1).answers(match)
                             or SpeakingRateSkills(timeout=1).answers(match)
                             or ListBook.answers(match))  # fmt: skip
        refused = match.error is not None or (
            book.answer(match, NOW).refused if answered_here else impossible_volume(match)
        )
        if refused != case.get("refused", False):
            refusal_misses.append((case["text"], match))
        if match.error is not None:
            continue  # a refused slot has no value to compare
        expected = case.get("slots", {})
        if set(expected) != set(match.slots) or not all(
            same(value, match.slots[name]) for name, value in expected.items()
        ):
            slot_misses.append((case["text"], expected, match.slots))
    for miss in intent_misses + slot_misses + refusal_misses:
        print("MISS", miss)
    intent_accuracy = 1 - len(intent_misses) / len(POSITIVES)
    slot_accuracy = 1 - len(slot_misses) / (len(POSITIVES) - len(intent_misses))
    print(f"intent accuracy {intent_accuracy:.3f}, slot accuracy {slot_accuracy:.3f}")
    assert intent_accuracy >= 0.97, intent_misses
    assert slot_accuracy >= 0.95, slot_misses
    assert not refusal_misses, refusal_misses


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_questions_reach_the_llm(matcher: Matcher, text: str) -> None:
    assert matcher.match_all(text) == []


@pytest.mark.parametrize(
    ("text", "intents"),
    [("set a timer for 10 minutes and remind me to call my sister in an hour",
      ["timer.set", "reminder.set"]),
     ("set a pasta timer for 10 minutes and an egg timer for 5 minutes",
      ["timer.set", "timer.set"]),
     ("what time is it and what's the date", ["time.now", "time.date"]),
     # The whole fits "remind me to {task}" (which asks when), the parts are whole requests.
     ("remind me to call Mum at 6 and set a timer for 5 minutes",
      ["reminder.set", "timer.set"]),
     # A task with "and" in it stays one task.
     ("remind me to buy bread and milk", ["reminder.ask_when"]),
     ("remind me to call mum and set a timer", ["reminder.ask_when"])],
)  # fmt: skip
def test_compound_requests_are_split(matcher: Matcher, text: str, intents: list[str]) -> None:
    assert [m.intent for m in matcher.match_all(text)] == intents


def test_a_compound_request_with_a_part_no_skill_does_goes_to_the_llm(matcher: Matcher) -> None:
    assert matcher.match_all("set a timer for 5 minutes and tell me a story") == []
