"""Bounded mailboxes: past a child's ``MailboxLimit`` the policy decides who loses, counted.

Each test blocks the child on a gate (``("wait", event)``) so mail piles up behind it, then
checks what the senders got, what the child handled once released, and what ``status()``
counts. Control mail (a stop, a supervisor's shutdown) is never refused.
"""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest

from supervisors import (
    ActorExitedError,
    BusyError,
    ChildSpec,
    Fault,
    InjectedFault,
    MailboxLimit,
    SupFlags,
    ask,
    faults,
    tell,
)

WAIT = 10.0
"""Seconds to wait for what the released child must do (a loaded machine can hold it up)."""


def blocked(root: Any, child_id: str = "worker") -> tuple[Any, threading.Event]:
    """The running child, stuck on a gate until the test sets it."""
    ref = root.which_children()[0].ref
    gate = threading.Event()
    ref.tell(("wait", gate))
    return ref, gate


def wait_empty(ref: Any, wait_until: Any) -> None:
    """Until the child took the gate message (the mailbox is empty again)."""
    wait_until(lambda: ref.lifecycle.mailbox_depth == 0)


def test_reject_refuses_new_asks_and_tells_with_the_actor_name_and_depth(
    spec: Any, start_tree: Any, wait_until: Any
) -> None:
    limit = MailboxLimit(capacity=3, policy="reject")
    root = start_tree(SupFlags(), [spec("worker", name="worker", mailbox=limit)])
    ref, gate = blocked(root)
    try:
        wait_empty(ref, wait_until)
        accepted = [ref.ask(n, block=False) for n in range(3)]
        refused = ref.ask(99, block=False)
        with pytest.raises(BusyError) as info:
            refused.get(timeout=1)
        assert info.value.actor == "worker" and info.value.depth == 3
        assert "worker is busy: 3 messages waiting" in str(info.value)
        with pytest.raises(BusyError):
            tell("worker", "a tell")  # by name: a BusyError, not a NoProcError
        with pytest.raises(BusyError):
            ask("worker", "an ask", timeout=1)
        node = root.status().find("root/worker")
        assert node is not None
        assert node.mailbox_limit == limit and node.mailbox_overflow == 3
        assert node.mailbox == 3
    finally:
        gate.set()
    assert [future.get(timeout=WAIT) for future in accepted] == [("worker", n) for n in range(3)]
    assert ask("worker", "again", timeout=WAIT) == ("worker", "again")  # not busy any more


def test_drop_oldest_keeps_the_newest_and_answers_a_dropped_ask(
    spec: Any, start_tree: Any, wait_until: Any
) -> None:
    limit = MailboxLimit(capacity=2, policy="drop_oldest")
    root = start_tree(SupFlags(), [spec("worker", mailbox=limit)])
    ref, gate = blocked(root)
    try:
        wait_empty(ref, wait_until)
        oldest = ref.ask("frame 0", block=False)
        for n in range(1, 5):
            ref.tell(f"frame {n}")  # never raises: older frames make room
        with pytest.raises(BusyError) as info:
            oldest.get(timeout=1)
        assert info.value.policy == "drop_oldest" and "dropped" in str(info.value)
        node = root.status().find("root/worker")
        assert node is not None and node.mailbox_overflow == 3 and node.mailbox == 2
    finally:
        gate.set()
    # Only the two newest frames were left to handle, in order.
    assert ref.ask("last", timeout=WAIT) == ("worker", "last")


def test_a_full_mailbox_still_takes_its_supervisors_shutdown(
    spec: Any, start_tree: Any, wait_until: Any
) -> None:
    limit = MailboxLimit(capacity=1, policy="reject")
    root = start_tree(SupFlags(), [spec("worker", mailbox=limit)])
    ref, gate = blocked(root)
    wait_empty(ref, wait_until)
    waiting = ref.ask("queued", block=False)
    stopping = threading.Thread(target=root.terminate_child, args=("worker",))
    stopping.start()
    stop = ref.ask(pykka.messages._ActorStop(), block=False)  # pykka's stop, past the limit
    # The shutdown must be requested while "queued" waits: a loaded machine can run the
    # gate first, and the worker would then answer "queued" before any shutdown.
    wait_until(lambda: ref.lifecycle.exit_request is not None, timeout=5)
    gate.set()
    stopping.join(WAIT)
    assert not stopping.is_alive()
    assert ref.lifecycle.wait(WAIT) is not None
    assert stop.get(timeout=WAIT) is None  # queued past the limit and answered, not refused
    with pytest.raises(ActorExitedError):  # queued before the shutdown: answered, never hung
        waiting.get(timeout=WAIT)


def test_a_bad_limit_is_refused_when_the_spec_is_built() -> None:
    with pytest.raises(ValueError, match="capacity"):
        MailboxLimit(capacity=0)
    with pytest.raises(ValueError, match="policy"):
        MailboxLimit(capacity=1, policy="drop_newest")  # type: ignore[arg-type]


def test_unbounded_by_default(spec: Any, start_tree: Any, wait_until: Any) -> None:
    root = start_tree(SupFlags(), [spec("worker")])
    ref, gate = blocked(root)
    try:
        futures = [ref.ask(n, block=False) for n in range(500)]
    finally:
        gate.set()
    assert [future.get(timeout=WAIT) for future in futures][-1] == ("worker", 499)
    node = root.status().find("root/worker")
    assert node is not None and node.mailbox_limit is None and node.mailbox_overflow == 0


def test_a_fault_crashes_or_hangs_an_actor_only_when_injection_is_on(
    spec: Any, start_tree: Any, ring: Any
) -> None:
    root = start_tree(SupFlags(intensity=5), [spec("worker", name="worker")])
    assert ask("worker", Fault("raise"), timeout=WAIT) is None  # off: ignored, answered
    faults.enable()
    try:
        with pytest.raises(InjectedFault):
            try:
                ask("worker", Fault("raise", label="#1"), timeout=WAIT)
            except pykka.ActorDeadError as error:
                assert "#1" in str(error.__cause__)
                raise error.__cause__ from None  # type: ignore[misc]
        [exit_report] = ring.wait_for(kind="exit", timeout=WAIT)
        assert "InjectedFault" in str(exit_report.reason)
        ring.wait_for(kind="start", count=2, timeout=WAIT)
        assert ask("worker", Fault("noop"), timeout=WAIT) is None
    finally:
        faults.enable(False)
    assert root.status().find("root/worker").restarts == 1  # type: ignore[union-attr]


def test_spec_carries_the_limit_as_data() -> None:
    limit = MailboxLimit(8, "drop_oldest")
    spec = ChildSpec("frames", print, mailbox=limit)
    assert spec.mailbox == limit
