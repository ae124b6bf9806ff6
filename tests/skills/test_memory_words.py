"""Which memories "forget what I told you about ..." may take: those that name one of the
topic's words (solo_actors/skills/memories.py); and which make a question about the user
("Where did I park my car?") the llm's. The memory actor's part is in
tests/app/test_memory_turns.py."""

from __future__ import annotations

import pytest

from solo_actors.config import REPO_ROOT
from solo_actors.messages import UserTurn
from solo_actors.skills.memories import (
    QUESTION_WORDS,
    MemorySkills,
    name_told,
    share_a_word,
    topic_words,
)
from solo_actors.skills.templates import load_matcher


@pytest.mark.parametrize(
    ("topic", "memory", "shared"),
    [
        ("my sister", "My sister is called Ana.", {"sister"}),
        ("my sisters", "My sister lives in Lisbon.", {"sister"}),
        ("my locker code is 4512", "My locker code is 4512.", {"locker", "code", "4512"}),
        ("the spare key", "The spare key is under the blue pot.", {"spare", "key"}),
        # A contraction's pieces and small words are no topic: "I'm tired" is not about
        # being vegetarian, nor "my cat" about the dog.
        ("I'm tired", "I'm vegetarian.", set()),
        ("my cat", "My dog is Rex.", set()),
    ],
)
def test_a_memory_is_about_a_topic_when_they_share_a_word(
    topic: str, memory: str, shared: set[str]
) -> None:
    assert topic_words(topic) & topic_words(memory) == shared


@pytest.mark.parametrize(
    ("question", "memory", "about"),
    [
        ("Where did I park my car?", "I parked on level 3.", True),  # "park" begins "parked"
        ("Where are my keys?", "The spare key is under the blue pot.", True),
        ("When is my dentist appointment?", "My dentist is Dr. Lee.", True),
        # The question's own words are not what it asks after, nor three letters a start.
        ("Where is my card?", "Where I live is Lyon.", False),
        ("What is my car's colour?", "My cardigan is blue.", False),
        ("Who is my doctor?", "My sister is called Ana.", False),
    ],
)
def test_a_memory_is_near_a_question_when_a_word_is_shared_or_begins_another(
    question: str, memory: str, about: bool
) -> None:
    assert share_a_word(topic_words(question) - QUESTION_WORDS, topic_words(memory)) is about


def test_what_to_remember_is_said_back_as_written() -> None:
    match = load_matcher(REPO_ROOT / "config" / "skills").match(
        "Remember that my wifi password is bluefish42."
    )
    assert match is not None and match.said == {"fact": "my wifi password is bluefish42"}


def test_nothing_is_said_to_be_remembered_with_memory_off() -> None:
    match = load_matcher(REPO_ROOT / "config" / "skills").match("remember that my bike is blue")
    assert match is not None and match.intent == "memory.remember", match
    answer = MemorySkills(timeout=1, keeping=None).answer(
        match, UserTurn(conversation_id="c", text="x", source="text")
    )
    assert answer.refused and "memory is off" in answer.text, answer


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("Call me Alex.", "Alex"),
        ("My name is Bob Smith.", "Bob Smith"),
        ("call me sam", "Sam"),
        # Words after "call me" that start something else are no name: the llm answers.
        ("Call me in 5 minutes.", None),
        ("call me tomorrow", None),
        ("Call me back.", None),
    ],
)
def test_a_name_told_is_found_and_a_call_is_not_one(said: str, name: str | None) -> None:
    assert name_told(said) == name
    match = load_matcher(REPO_ROOT / "config" / "skills").match(said)
    if match is None:  # no template takes it: the llm's, as a call that is no name should be
        assert name is None, said
        return
    assert match.intent == "memory.told", match
    answer = MemorySkills(timeout=1, keeping=None).answer(
        match, UserTurn(conversation_id="c", text=said, source="text")
    )
    assert answer.to_llm if name is None else "memory is off" in answer.text, answer
