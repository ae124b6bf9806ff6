"""Which finished turns become long-term memories (`solo_actors.remembered`), by the shipped
rules in config/remember.toml."""

from __future__ import annotations

import pytest

from solo_actors.config import REPO_ROOT, load_config
from solo_actors.remembered import TurnSorter, memory_of, turn_sorter


@pytest.fixture(scope="module")
def sorter() -> TurnSorter:
    return turn_sorter(REPO_ROOT / load_config("test").dialogue.remember_rules)


TOLD = [
    "My sister is called Ana.",
    "I'm vegetarian.",
    "The spare key is under the blue pot.",
    "Hey Solo, my dog is called Rex.",
    "Please remember this: my dog is called Rex.",
    "Can you remember that my car is the blue one?",  # asks, but to keep something
    "Don't forget my mother's birthday is on the 3rd of May",
    "I work from home on Fridays",
    "we're going to Lisbon next week",
    "Remember my wife doesn't eat fish.",
    "Call me Bob.",  # "call" opens requests, "call me" a name
    "Hey Solo, call me Captain.",
]

ASKED = [
    "What is the capital of France?",
    "what's my sister's name",
    "How many legs does a spider have?",
    "Is it going to rain tomorrow",
    "Do you remember my sister's name?",  # "remember", but a question
    "Okay, so why is the sky blue",
    "Tell me a joke.",
    "Explain photosynthesis in one sentence.",
    "Set a timer for ten minutes.",
    "Turn off the lights",
    "Call my sister.",
    "Let's play a game.",
    "The capital of Peru is?",  # a statement's shape, a question's mark
]

SMALL_TALK = ["Thanks!", "thank you", "OK.", "Hey Solo.", "Good night.", "um", ""]


@pytest.mark.parametrize("said", TOLD)
def test_what_the_user_tells_is_remembered_in_their_words(sorter: TurnSorter, said: str) -> None:
    memory = memory_of("told", said, "Okay.", "c", tells=sorter.tells(said))
    assert memory is not None and memory.text == f"The user said: {said}"
    assert memory.kind == "told" and memory.meta == {"said": said}


@pytest.mark.parametrize("said", ASKED + SMALL_TALK)
def test_questions_requests_and_small_talk_leave_no_memory(sorter: TurnSorter, said: str) -> None:
    reply = "I can't check that offline."
    assert memory_of("told", said, reply, "c", tells=sorter.tells(said)) is None


def test_exchanges_keep_every_turn_with_its_reply(sorter: TurnSorter) -> None:
    asked = "What is the capital of France?"
    kept = memory_of("exchanges", asked, "Paris.", "c", tells=sorter.tells(asked))
    assert kept is not None and kept.kind == "exchange"
    assert kept.text == "User said: What is the capital of France?\nSolo replied: Paris."
