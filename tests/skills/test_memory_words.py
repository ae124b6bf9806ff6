"""Which memories "forget what I told you about ..." may take: those that name one of the
topic's words (solo_actors/skills/memories.py); the memory actor's part is in
tests/app/test_memory_turns.py."""

from __future__ import annotations

import pytest

from solo_actors.skills.memories import topic_words


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
