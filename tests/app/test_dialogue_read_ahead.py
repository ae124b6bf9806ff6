"""The dialogue actor's reading ahead does not wait for a recall it can guess.

Stand-ins registered as "memory" (holding each recall until the test lets it answer) and
"llm" (keeping the prompts it is asked to read ahead) sit behind the actor boundary; the
real llm's reading ahead is covered by tests/app/test_memory_turns.py and
tests/voice/test_voice_streaming.py. A turn whose earlier words were read ahead has its
next words read at once, with the memories the earlier words recalled, while their own
recall is still out; they are read again only when that recall finds other memories.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import supervisors
from solo_actors.dialogue import DialogueActor
from solo_actors.messages import LLMPrefill, Memories, MemoryItem, Recall, TurnAhead
from solo_actors.names import DIALOGUE_NAME, LLM_NAME, MEMORY_NAME
from tests.conftest import ConfigFactory, wait_for

DOG = MemoryItem(memory_id="m-dog", text="The user said: My dog is Rex.", similarity=0.6,
                 kind="told", user_id=None, conversation_id="earlier", meta={}, at=1.0)  # fmt: skip
CAT = MemoryItem(memory_id="m-cat", text="The user said: My cat is Tom.", similarity=0.5,
                 kind="told", user_id=None, conversation_id="earlier", meta={}, at=2.0)  # fmt: skip


@dataclass
class Recalls:
    """What the memory stand-in recalls for a text, and the gate each recall waits at."""

    found: dict[str, list[MemoryItem]]
    answers: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    asked: list[str] = field(default_factory=list)


class HeldMemory(supervisors.SupervisedActor):
    def __init__(self, recalls: Recalls) -> None:
        super().__init__()
        self.recalls = recalls

    def on_receive(self, message: Any) -> Any:
        if not isinstance(message, Recall):
            return None
        self.recalls.asked.append(message.query)
        assert self.recalls.answers.acquire(timeout=30), "the test never let the recall answer"
        return Memories(items=self.recalls.found.get(message.query, []))


class ReadAhead(supervisors.SupervisedActor):
    def __init__(self, prompts: list[str]) -> None:
        super().__init__()
        self.prompts = prompts

    def on_receive(self, message: Any) -> None:
        if isinstance(message, LLMPrefill):
            self.prompts.append(message.prompt)


@dataclass
class Stage:
    recalls: Recalls
    prompts: list[str]


@pytest.fixture
def stage(make_config: ConfigFactory) -> Iterator[Stage]:
    stage = Stage(Recalls(found={}), [])
    config = make_config(**{"memory.enabled": True, "dialogue.recall_timeout": 60.0})
    actors = {MEMORY_NAME: HeldMemory.start(stage.recalls),
              LLM_NAME: ReadAhead.start(stage.prompts),
              DIALOGUE_NAME: DialogueActor.start(config)}  # fmt: skip
    for name, ref in actors.items():
        supervisors.default_registry.register(name, ref)
    yield stage
    stage.recalls.answers.release(10)  # no stand-in left holding a recall
    for name, ref in actors.items():
        supervisors.default_registry.unregister(name, ref)
        ref.stop()


def read(stage: Stage, count: int, what: str) -> str:
    """The ``count``-th prompt read ahead, once it came."""
    wait_for(lambda: len(stage.prompts) >= count, what, timeout=30)
    return stage.prompts[count - 1]


def ahead(text: str, *, speaking: bool, turn_id: str = "t1") -> None:
    supervisors.tell(DIALOGUE_NAME, TurnAhead(turn_id=turn_id, conversation_id="c", text=text,
                                              speaking=speaking))  # fmt: skip


def test_newer_words_are_read_before_their_recall_answers(stage: Stage) -> None:
    first, whole, more = "what is my dog", "what is my dog called", "what is my dog and my cat"
    stage.recalls.found = {first: [DOG], whole: [DOG], more: [DOG, CAT]}
    stage.recalls.answers.release()
    ahead(first, speaking=True)  # no earlier words: recalled, then read
    assert DOG.text in read(stage, 1, "the words so far to be read") and first in stage.prompts[0]

    ahead(whole, speaking=False)  # the pause: read with the dog at once, recall held
    at_pause = read(stage, 2, "the pause's words to be read while their recall is held")
    assert DOG.text in at_pause and whole in at_pause
    wait_for(lambda: stage.recalls.asked == [first, whole], "the pause's recall to be asked")
    stage.recalls.answers.release()  # it recalls the dog again: nothing more to read

    ahead(more, speaking=False)  # the user went on; this recall finds the cat as well
    read(stage, 3, "the newer words to be read with the earlier memories")
    assert stage.prompts[2].count("The user said") == 1, stage.prompts[2]
    stage.recalls.answers.release()
    again = read(stage, 4, "the newer words to be read again with the memories they recall")
    assert DOG.text in again and CAT.text in again and more in again

    ahead("who painted the mona lisa", speaking=False, turn_id="t2")  # no earlier words
    stage.recalls.answers.release()
    read(stage, 5, "another turn's words")
    assert len(stage.prompts) == 5, "the pause whose recall agreed was read once, not twice"
