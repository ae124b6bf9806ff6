"""The default isolation end to end: llm, stt, tts and wake each in their own process.

The `test` profile runs them in-process for speed; here the tree runs with the isolation of
the shipped default profile (the rest of the test profile kept: small model, temp var/),
so a text turn streams its tokens from the llm process through the parent to the caller,
a cancel reaches a generation in another process, and a segfault there is a restart.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

import supervisors
from solo_actors.config import load_config
from solo_actors.dialogue import converse
from solo_actors.messages import Interrupt, LLMCancel, LLMDone, LLMRequest, LLMToken
from solo_actors.runtime.app import start_tree
from solo_actors.runtime.ids import new_id
from tests.conftest import ConfigFactory
from tests.llm.conftest import collector  # noqa: F401  (a fixture: a registered receiver)

ISOLATED = ("solo/llm", "solo/voice/stt", "solo/voice/tts", "solo/voice/wake")
TIMEOUT = 120.0


@pytest.fixture
def tree(make_config: ConfigFactory) -> Iterator[supervisors.SupervisorRef]:
    shipped = load_config(environ={}).isolation
    assert {name for name, how in shipped.items() if how.mode == "process"} >= {
        "llm",
        "stt",
        "tts",
        "wake",
    }
    config = msgspec.structs.replace(
        make_config(**{"dialogue.turn_timeout": TIMEOUT}), isolation=shipped
    )
    root = start_tree(config)
    yield root
    root.stop()


def pid_of(root: supervisors.SupervisorRef, path: str) -> int:
    node = root.status().find(path)
    assert node is not None and node.state == "running", node
    assert node.pid is not None
    return node.pid


def test_the_model_actors_run_in_their_own_processes(tree: supervisors.SupervisorRef) -> None:
    pids = {path: pid_of(tree, path) for path in ISOLATED}
    assert os.getpid() not in pids.values()
    assert len(set(pids.values())) == len(ISOLATED)
    assert pid_of(tree, "solo/dialogue") == os.getpid()
    llm = tree.status().find("solo/llm")
    assert llm is not None and llm.figures["model"]  # published in the child, shown here


def test_a_text_turn_streams_through_the_isolated_llm(tree: supervisors.SupervisorRef) -> None:
    streamed: list[Any] = []
    done = converse("Say hello in one short sentence.", "iso-1", on_message=streamed.append)
    tokens = [m for m in streamed if isinstance(m, LLMToken)]
    assert done.error is None, done.error
    assert tokens and "".join(t.text for t in tokens).strip() == done.reply.strip()


@pytest.mark.parametrize("how", ["cancel", "interrupt"])
def test_a_cancel_stops_a_generation_in_the_llm_process(
    tree: supervisors.SupervisorRef,
    collector: tuple[str, queue.Queue[Any]],  # noqa: F811  (the imported fixture)
    how: str,
) -> None:
    name, heard = collector
    request = LLMRequest(
        prompt="Count from one to one thousand in words, one number per line.",
        reply_to=name,
        max_tokens=600,
        temperature=0.0,
        turn_id=new_id(),
    )
    supervisors.tell("llm", request)
    first = heard.get(timeout=TIMEOUT)
    assert isinstance(first, LLMToken)
    # The llm's mailbox acts on a cancel as it is put, on the child's reader thread: it
    # does not wait behind the generation that holds the actor's thread.
    stop = (
        LLMCancel(request_id=request.request_id)
        if how == "cancel"
        else Interrupt(turn_id=request.turn_id)
    )
    supervisors.tell("llm", stop)
    deadline = time.monotonic() + TIMEOUT
    while not isinstance(message := heard.get(timeout=TIMEOUT), LLMDone):
        assert time.monotonic() < deadline
    assert message.finish_reason == "cancelled"
    assert message.completion_tokens < 600


def test_a_segfault_in_the_llm_process_is_a_restart(tree: supervisors.SupervisorRef) -> None:
    old = pid_of(tree, "solo/llm")
    os.kill(old, signal.SIGSEGV)
    deadline = time.monotonic() + TIMEOUT
    while True:
        node = tree.status().find("solo/llm")
        assert node is not None
        if node.state == "running" and node.pid not in (None, old):
            break
        assert time.monotonic() < deadline, "the llm was not restarted"
        time.sleep(0.05)
    assert node.restarts == 1
    assert node.last_exit is not None and node.last_exit.detail.startswith("SIGSEGV")
    assert node.figures["process_start_s"] > 0
    done = converse("Say hello again.", "iso-2")
    assert done.error is None, done.error
