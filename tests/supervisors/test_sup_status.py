"""status(): a JSON-encodable tree snapshot that never waits on an actor."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec
import pytest

from supervisors import (
    ActorExitedError,
    ChildSpec,
    NodeStatus,
    SupervisedActor,
    SupFlags,
    supervisor_spec,
)

BLOCK = 30.0
"""Seconds the busy actors of test_status_does_not_wait_for_a_busy_tree block at most."""


class Llm(SupervisedActor):
    def on_receive(self, message: Any) -> Any:
        if isinstance(message, threading.Event):
            message.wait(BLOCK)
        else:
            self.publish_figures(tokens_per_s=float(message), model="tiny")
        return message


def test_status_tree(spec: Any, start_tree: Any) -> None:
    voice = supervisor_spec("voice", SupFlags(), [spec("asr", name="asr")])
    root = start_tree(SupFlags(), [voice, ChildSpec("llm", Llm.start)], name="solo")
    llm = root.which_children()[1].ref
    llm.ask(42)
    status = root.status()
    assert (status.path, status.id, status.type, status.state) == (
        "solo",
        "solo",
        "supervisor",
        "running",
    )
    llm_node = status.find("solo/llm")
    assert llm_node is not None
    assert llm_node.figures == {"tokens_per_s": 42.0, "model": "tiny"}
    assert llm_node.urn == llm.actor_urn
    assert llm_node.uptime is not None and llm_node.uptime >= 0
    assert llm_node.started_at is not None and abs(llm_node.started_at - time.time()) < 60
    asr = status.find("solo/voice/asr")
    assert asr is not None and asr.name == "asr" and asr.state == "running"
    assert status.find("solo/nothing") is None
    decoded = msgspec.json.decode(msgspec.json.encode(status), type=NodeStatus)
    assert decoded == status


def test_status_shows_restarts_last_exit_and_mailbox(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    with pytest.raises(ActorExitedError):
        root.which_children()[0].ref.ask("crash")
    ref = root.which_children()[0].ref
    gate = threading.Event()
    ref.tell(("wait", gate))
    for n in range(3):
        ref.tell(n)
    [node] = root.status().children
    assert node.restarts == 1
    assert node.last_exit is not None and node.last_exit.kind == "crash"
    assert node.mailbox >= 3
    gate.set()


def test_status_does_not_wait_for_a_busy_tree(start_tree: Any) -> None:
    root = start_tree(SupFlags(), [ChildSpec("llm", Llm.start)])
    gate = threading.Event()
    root.which_children()[0].ref.tell(gate)
    # Keep the supervisor itself busy too: a request queued behind a slow one.
    slow_start, starting_now = threading.Event(), threading.Event()

    class SlowStart(SupervisedActor):
        def on_start(self) -> None:
            starting_now.set()
            slow_start.wait(BLOCK)

    starting = threading.Thread(target=root.start_child, args=(ChildSpec("slow", SlowStart.start),))
    starting.start()
    try:
        assert starting_now.wait(BLOCK), "the supervisor never got busy starting the child"
        began = time.monotonic()
        status = root.status()
        # Far below BLOCK, which a status that waited on a busy actor would take, and far
        # above what a loaded machine may hold this thread up for.
        assert time.monotonic() - began < BLOCK / 3
        assert status.children[0].state == "running"
    finally:
        gate.set()
        slow_start.set()
        starting.join()


def test_status_of_a_stopped_root(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    root.stop()
    status = root.status()
    assert status.state == "stopped"
    assert status.last_exit is not None and status.last_exit.kind == "normal"
    assert [c.state for c in status.children] == ["stopped"]
