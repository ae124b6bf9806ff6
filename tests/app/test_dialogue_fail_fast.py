"""Dialogue fails fast, whatever happens to the llm serving a turn.

A stand-in registered as "llm" (behind the actor boundary: these are the dialogue's rules,
the real llm's deaths are covered by tests/chaos/test_llm_killed.py) dies as a native crash
would, or keeps its mailbox full. The caller of each turn must hear at once, with words
that say what happened: "stopped while answering", "keeps crashing ... solo doctor",
"busy" (never "not running" for a full mailbox).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import supervisors
from solo_actors.dialogue import RUNTIME_CRASHES, DialogueActor, converse
from solo_actors.messages import LLMRequest
from solo_actors.names import DIALOGUE_NAME
from tests.conftest import ConfigFactory

FAST_S = 1.0
"""The issue's bound: a turn fails within 1 s of the death of the llm serving it."""


class CrashingLLM(supervisors.SupervisedActor):
    """Dies by "SIGSEGV" on every request, as a llama.cpp build that crashes here would."""

    def on_receive(self, message: Any) -> None:
        if isinstance(message, LLMRequest):
            self.actor_ref.lifecycle.kill(supervisors.ExitReason("crash", "SIGSEGV (signal 11)"))


class StuckLLM(supervisors.SupervisedActor):
    """Holds its first message until released, so its one-place mailbox fills up."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def on_receive(self, message: Any) -> None:
        self.gate.wait(10)


@pytest.fixture
def dialogue(make_config: ConfigFactory) -> Iterator[None]:
    config = make_config(**{"memory.enabled": False, "dialogue.turn_timeout": 60.0})
    ref = DialogueActor.start(config)
    supervisors.default_registry.register(DIALOGUE_NAME, ref)
    yield
    supervisors.default_registry.unregister(DIALOGUE_NAME, ref)
    ref.stop()


def register_llm(ref: Any) -> None:
    supervisors.default_registry.register("llm", ref)


def test_a_crash_fails_the_turn_at_once_and_repeated_ones_point_at_solo_doctor(
    dialogue: None,
) -> None:
    errors = []
    for attempt in range(RUNTIME_CRASHES):
        llm = CrashingLLM.start()
        register_llm(llm)
        started = time.monotonic()
        done = converse("What is the capital of France?", f"crash-{attempt}", timeout=30)
        assert time.monotonic() - started < FAST_S
        assert done.error is not None
        errors.append(done.error)
        supervisors.default_registry.unregister("llm", llm)
    assert "stopped while answering" in errors[0] and "SIGSEGV" in errors[0]
    assert "solo doctor" not in errors[0]
    assert "keeps crashing on this machine" in errors[-1] and "solo doctor" in errors[-1]


def test_a_full_llm_mailbox_is_busy_never_not_running(dialogue: None) -> None:
    gate = threading.Event()
    llm = StuckLLM.start(gate)
    llm.actor_inbox.set_limit(supervisors.MailboxLimit(capacity=1), "llm")
    register_llm(llm)
    try:
        llm.tell("hold")
        deadline = time.monotonic() + 5
        while llm.lifecycle.mailbox_depth and time.monotonic() < deadline:
            time.sleep(0.01)  # until it holds the gate message, with an empty mailbox
        llm.tell("fills the one place")
        done = converse("Hello?", "busy-1", timeout=30)
        assert done.error is not None
        assert "busy" in done.error and "not running" not in done.error
    finally:
        gate.set()
        supervisors.default_registry.unregister("llm", llm)
        llm.stop()


def test_no_llm_at_all_is_not_running(dialogue: None) -> None:
    done = converse("Hello?", "none-1", timeout=30)
    assert done.error is not None and "not running" in done.error
