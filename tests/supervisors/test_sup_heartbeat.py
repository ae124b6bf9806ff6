"""Hung children: no message taken for ``heartbeat`` s while mail waits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from supervisors import HUNG, ActorExitedError, RingBufferSink, SupFlags

HEARTBEAT = 0.5
"""The children's deadline: long enough that a thread a loaded machine holds up for a moment
while mail waits is not taken for hung (every mail an actor gets waits until it is taken)."""

WAIT = 10.0
"""Seconds to wait for what must happen."""


def test_hung_child_is_reported_killed_and_restarted(
    spec: Any, start_tree: Any, ring: RingBufferSink, wait_until: Any
) -> None:
    root = start_tree(SupFlags(), [spec("llm", heartbeat=HEARTBEAT, name="llm")])
    old = root.which_children()[0].ref
    gate = threading.Event()
    old.tell(("wait", gate))
    try:
        # Stuck on the gate before the ask: else both messages wait, not one.
        wait_until(lambda: old.lifecycle.mailbox_depth == 0, what="the child took the gate")
        waiting = old.ask("are you there", block=False)
        [hung] = ring.wait_for(kind="hung", timeout=WAIT)
        assert hung.child_id == "llm" and hung.reason == HUNG
        assert "1 waiting" in hung.context
        with pytest.raises(ActorExitedError) as info:
            waiting.get(timeout=WAIT)
        assert info.value.reason == HUNG
        ring.wait_for(kind="start", count=2, timeout=WAIT)
        exits = ring.snapshot(kind="exit")
        assert [r.reason for r in exits] == [HUNG]
        new = root.which_children()[0].ref
        assert new is not old and new.ask("x") == ("llm", "x")
        assert root.status().children[0].last_exit == HUNG
    finally:
        gate.set()  # the abandoned thread finishes its message and ends


def test_busy_child_with_empty_mailbox_is_not_hung(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(), [spec("busy", heartbeat=HEARTBEAT)])
    ref = root.which_children()[0].ref
    gate = threading.Event()
    ref.tell(("wait", gate))
    time.sleep(2 * HEARTBEAT)  # two deadlines without mail waiting
    gate.set()
    assert ref.ask("x") == ("busy", "x")
    assert ring.snapshot(kind="hung") == []


def test_idle_child_that_gets_mail_is_not_hung(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(), [spec("idle", heartbeat=HEARTBEAT)])
    ref = root.which_children()[0].ref
    time.sleep(1.5 * HEARTBEAT)  # idle for longer than its deadline
    for n in range(50):
        assert ref.ask(n) == ("idle", n)
    time.sleep(HEARTBEAT)
    assert ring.snapshot(kind="hung") == []
