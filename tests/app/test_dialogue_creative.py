"""A request for something made up (a story, a poem, ideas) is sampled, so asking again
brings a new one; every other turn stays greedy (and cached).

The rule, with a stand-in registered as "llm" that answers each request with the temperature
it was asked at (behind the actor boundary); then the real test model, asked for a story
three times: greedy and cached, it told the same one each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import supervisors
from solo_actors.dialogue import DialogueActor, converse
from solo_actors.messages import LLMDone, LLMRequest
from solo_actors.names import DIALOGUE_NAME, LLM_NAME
from tests.api.apikit import RunningApi, running_assistant
from tests.conftest import ConfigFactory


class TemperatureLLM(supervisors.SupervisedActor):
    """Replies with the temperature each request asked for ("None": the configured one)."""

    def on_receive(self, message: Any) -> None:
        if isinstance(message, LLMRequest) and message.reply_to:
            said = LLMDone.whole_text(message.request_id, str(message.temperature),
                                      turn_id=message.turn_id, times=message.times)  # fmt: skip
            supervisors.tell(message.reply_to, said)


@pytest.fixture
def dialogue(make_config: ConfigFactory) -> Iterator[None]:
    config = make_config(**{"memory.enabled": False})
    refs = {DIALOGUE_NAME: DialogueActor.start(config), LLM_NAME: TemperatureLLM.start()}
    for name, ref in refs.items():
        supervisors.default_registry.register(name, ref)
    yield
    for name, ref in refs.items():
        supervisors.default_registry.unregister(name, ref)
        ref.stop()


@pytest.mark.parametrize(
    ("text", "temperature"),
    [("Tell me a short story about a dragon.", "0.7"),
     ("Write a poem about the sea.", "0.7"),
     ("Tell me a joke about cats.", "0.7"),
     ("Can you suggest a name for my cat?", "0.7"),
     ("Any ideas for a birthday present?", "0.7"),
     ("What is the capital of France?", "None"),
     ("How many legs does a spider have?", "None"),
     ("What's the history of the short story?", "0.7")],  # a word, not a meaning: sampled
)  # fmt: skip
def test_made_up_things_are_sampled_and_the_rest_is_greedy(
    dialogue: None, text: str, temperature: str
) -> None:
    done = converse(text, "creative", timeout=30)
    assert done.error is None and done.reply == temperature, done


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path_factory.mktemp("creative") / "var")


def test_a_story_asked_again_is_a_new_one(assistant: RunningApi) -> None:
    stories = set()
    for attempt in range(3):
        asked = assistant.post("/ask", scope="control", json={
            "text": "Tell me a story about a dragon.", "conversation_id": f"story-{attempt}",
        })  # fmt: skip
        assert asked.status_code == 200, asked.text
        assert asked.json()["reply"].strip(), asked.json()
        stories.add(asked.json()["reply"])
    # Greedy and cached, the three were one story; sampled, two alike would be a marvel.
    assert len(stories) == 3, stories
