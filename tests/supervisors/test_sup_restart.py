"""Restart policy: restart types, strategies, intensity, escalation, backoff."""

from __future__ import annotations

import time
from typing import Any

import pytest

from supervisors import (
    ESCALATED,
    KILLED,
    ActorExitedError,
    Backoff,
    ChildSpec,
    RingBufferSink,
    SupervisedActor,
    SupFlags,
    ask,
    start_supervisor,
    supervisor_spec,
    whereis,
)

WAIT = 10.0
"""Seconds to wait for what must happen (a loaded machine can hold a thread up)."""


def crash(root: Any, child_id: str) -> None:
    """Crash a child by ``ask`` (returns once its supervisor has the exit)."""
    ref = next(c.ref for c in root.which_children() if c.id == child_id)
    with pytest.raises(ActorExitedError):
        ref.ask("crash")


def refs(root: Any) -> dict[str, Any]:
    return {c.id: c.ref for c in root.which_children()}


def test_ask_crash_restarts_child_and_caller_gets_reason(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(), [spec("a", name="a")])
    old = whereis("a")
    with pytest.raises(ActorExitedError) as info:
        ask("a", "crash")
    assert info.value.reason.kind == "crash"
    assert "a crashed" in info.value.reason.detail
    assert isinstance(info.value.__cause__, RuntimeError)
    new = refs(root)["a"]
    assert new is not None and new is not old and new.is_alive()
    assert ask("a", "hi") == ("a", "hi")
    exit_report = ring.snapshot(kind="exit")[-1]
    assert exit_report.reason == info.value.reason
    assert "RuntimeError: a crashed" in exit_report.traceback
    assert ring.snapshot(kind="restart")[-1].restarts == 1


def test_tell_crash_restarts_child(spec: Any, start_tree: Any, ring: RingBufferSink) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    old = refs(root)["a"]
    old.tell("crash")
    assert ring.wait_for(kind="start", child_id="a", count=2, timeout=WAIT)
    assert refs(root)["a"] is not old


def test_permanent_child_is_restarted_after_normal_exit(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("p")])
    old = refs(root)["p"]
    old.ask("normal")
    old.wait(WAIT)
    new = refs(root)["p"]
    assert new is not None and new is not old


def test_transient_child_exiting_normal_is_not_restarted(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(), [spec("t", restart="transient")])
    old = refs(root)["t"]
    old.ask("normal")
    old.wait(WAIT)
    [info] = root.which_children()
    assert (info.id, info.ref, info.state) == ("t", None, "stopped")
    assert ring.snapshot(kind="restart") == []
    assert root.count_children().specs == 1


def test_transient_child_is_restarted_after_crash(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("t", restart="transient")])
    old = refs(root)["t"]
    crash(root, "t")
    assert refs(root)["t"] not in (None, old)


def test_temporary_child_is_never_restarted_and_dropped(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("tmp", restart="temporary"), spec("p")])
    crash(root, "tmp")
    assert [c.id for c in root.which_children()] == ["p"]


def test_one_for_all_restarts_all_in_order_and_drops_temporaries(
    spec: Any, start_tree: Any, events: Any, ring: RingBufferSink
) -> None:
    children = [spec("a"), spec("tmp", restart="temporary"), spec("b"), spec("c")]
    root = start_tree(SupFlags("one_for_all"), children)
    before = refs(root)
    events.clear()
    ring.clear()
    crash(root, "b")
    after = refs(root)
    assert list(after) == ["a", "b", "c"]
    assert all(after[k] is not before[k] for k in after)
    assert events.of("stop") == ["c", "tmp", "a"]
    assert events.of("start") == ["a", "b", "c"]
    assert [(r.kind, r.child_id) for r in ring.snapshot()] == [
        ("exit", "b"),
        ("restart", "b"),
        ("shutdown", "c"),
        ("shutdown", "tmp"),
        ("shutdown", "a"),
        ("start", "a"),
        ("start", "b"),
        ("start", "c"),
    ]


def test_rest_for_one_restarts_later_siblings_in_order(
    spec: Any, start_tree: Any, events: Any
) -> None:
    root = start_tree(SupFlags("rest_for_one"), [spec("a"), spec("b"), spec("c"), spec("d")])
    before = refs(root)
    events.clear()
    crash(root, "b")
    after = refs(root)
    assert after["a"] is before["a"]
    assert all(after[k] is not before[k] for k in "bcd")
    assert events.of("stop") == ["d", "c"]
    assert events.of("start") == ["b", "c", "d"]


def test_one_for_one_leaves_siblings_alone(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a"), spec("b")])
    before = refs(root)
    crash(root, "b")
    after = refs(root)
    assert after["a"] is before["a"] and after["b"] is not before["b"]


def test_intensity_exceeded_escalates_at_root(
    spec: Any, start_tree: Any, events: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(intensity=2, period=60), [spec("a"), spec("b")])
    crash(root, "b")
    crash(root, "b")
    events.clear()
    crash(root, "b")  # third restart in the period: more than 2
    assert root.wait(WAIT) == ESCALATED
    assert events.of("stop") == ["a"]
    [escalation] = ring.snapshot(kind="escalation")
    assert escalation.child_id == "b"
    assert escalation.reason is not None and escalation.reason.kind == "crash"
    assert escalation.context == "reached_max_restart_intensity"
    assert ring.snapshot()[-1].kind == "shutdown"


def test_intensity_window_slides(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(intensity=1, period=0.05), [spec("a")])
    crash(root, "a")
    # The restart's time is taken when the supervisor handles the exit, which may be later
    # than the crash's reply: wait for it, so the sleep puts a full period between restarts.
    assert refs(root)["a"] is not None
    time.sleep(0.06)
    crash(root, "a")
    assert root.is_alive()


def test_intensity_zero_escalates_on_first_restart(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(intensity=0), [spec("a")])
    crash(root, "a")
    assert root.wait(WAIT) == ESCALATED


def test_nested_escalation_goes_up_exactly_one_level(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    inner = supervisor_spec("inner", SupFlags(intensity=1, period=60), [spec("w", name="w")])
    root = start_tree(SupFlags(intensity=1, period=60), [inner, spec("x")], name="top")
    old_inner = refs(root)["inner"]

    def crash_w() -> None:
        # Between a crash and its restart the name resolves to nothing: wait.
        with pytest.raises(ActorExitedError):
            whereis("w", timeout=WAIT).ask("crash", timeout=WAIT)

    crash_w()  # inner restarts w: 1 restart, allowed
    crash_w()  # inner's second restart: inner gives up
    assert old_inner.wait(WAIT) == ESCALATED
    ring.wait_for(kind="start", child_id="inner", count=2, timeout=WAIT)
    [escalation] = ring.snapshot(kind="escalation")
    assert escalation.supervisor == "top/inner"
    exits = [r for r in ring.snapshot(kind="exit") if r.child_id == "inner"]
    assert [r.reason for r in exits] == [ESCALATED]
    assert root.is_alive()
    assert refs(root)["inner"] not in (None, old_inner)
    assert whereis("w", timeout=WAIT).ask("hi", timeout=WAIT) == ("w", "hi")
    # The root's own budget is now spent: the next exhaustion reaches it.
    crash_w()
    crash_w()
    assert root.wait(WAIT) == ESCALATED
    assert [r.supervisor for r in ring.snapshot(kind="escalation")] == [
        "top/inner",
        "top/inner",
        "top",
    ]


def test_transient_supervisor_is_not_restarted_after_escalation(spec: Any, start_tree: Any) -> None:
    # OTP: escalation is exit reason shutdown, a normal reason for transient.
    inner = supervisor_spec(
        "inner", SupFlags(intensity=0), [spec("w", name="w")], restart="transient"
    )
    root = start_tree(SupFlags(), [inner])
    old_inner = refs(root)["inner"]
    with pytest.raises(ActorExitedError):
        ask("w", "crash")
    assert old_inner.wait(WAIT) == ESCALATED
    [info] = root.which_children()
    assert info.state == "stopped"
    assert root.is_alive()


class Flaky(SupervisedActor):
    """Fails to start while ``failures`` has tokens left."""

    def __init__(self, failures: list[int]) -> None:
        super().__init__()
        self.failures = failures

    def on_start(self) -> None:
        if self.failures:
            self.failures.pop()
            raise RuntimeError("not yet")


def test_failed_restart_is_retried_and_counts_towards_intensity(
    start_tree: Any, ring: RingBufferSink
) -> None:
    failures: list[int] = []
    root = start_tree(
        SupFlags(intensity=5, period=60), [ChildSpec("f", Flaky.start, args=(failures,))]
    )
    failures.extend([1, 2])
    refs(root)["f"].lifecycle.kill()
    assert ring.wait_for(kind="start", child_id="f", count=2, timeout=WAIT)
    assert len(ring.snapshot(kind="start_error")) == 2
    assert [r.restarts for r in ring.snapshot(kind="restart")] == [1, 2, 3]
    assert root.is_alive()


def test_restart_that_keeps_failing_escalates(start_tree: Any, ring: RingBufferSink) -> None:
    failures: list[int] = []
    root = start_tree(
        SupFlags(intensity=3, period=60), [ChildSpec("f", Flaky.start, args=(failures,))]
    )
    failures.extend(range(100))
    refs(root)["f"].lifecycle.kill()
    assert root.wait(WAIT) == ESCALATED
    assert len(ring.snapshot(kind="start_error")) == 3


def test_backoff_delays_restarts_exponentially(
    start_tree: Any, spec: Any, ring: RingBufferSink
) -> None:
    backoff = Backoff(min=0.05, max=1.0, jitter=0.0)
    root = start_tree(SupFlags(intensity=10, backoff=backoff), [spec("a")])
    delays = []
    for n in (1, 2):
        crash_at = time.monotonic()
        crash(root, "a")
        assert [c.state for c in root.which_children()] == ["restarting"]
        started = ring.wait_for(kind="start", child_id="a", count=n + 1, timeout=WAIT)[-1]
        delays.append(started.monotonic - crash_at)
    assert delays[0] >= 0.05
    assert 0.1 <= delays[1] < 1.0
    assert [r.context for r in ring.snapshot(kind="restart")] == [
        "one_for_one, in 0.050s",
        "one_for_one, in 0.100s",
    ]


def test_terminate_child_cancels_a_delayed_restart(start_tree: Any, spec: Any) -> None:
    backoff = Backoff(min=0.05, max=0.05, jitter=0.0)
    root = start_tree(SupFlags(), [spec("a", backoff=backoff)])
    crash(root, "a")
    root.terminate_child("a")
    time.sleep(0.08)
    assert [(c.state, c.ref) for c in root.which_children()] == [("stopped", None)]


def test_backoff_delay() -> None:
    backoff = Backoff(min=0.1, max=1.0, jitter=0.5)
    assert backoff.delay(0, rand=lambda: 0.5) == pytest.approx(0.1)
    assert backoff.delay(3, rand=lambda: 0.5) == pytest.approx(0.8)
    assert backoff.delay(10, rand=lambda: 0.5) == pytest.approx(1.0)
    assert backoff.delay(10, rand=lambda: 0.0) == pytest.approx(0.5)
    assert backoff.delay(10_000, rand=lambda: 1.0) == pytest.approx(1.5)
    with pytest.raises(ValueError):
        Backoff(min=2, max=1)


def test_killed_supervisor_still_stops_its_children(
    spec: Any, events: Any, wait_until: Any
) -> None:
    root = start_supervisor(SupFlags(), [spec("a"), spec("b")])
    root.lifecycle.kill()
    assert root.wait(0) == KILLED
    # The abandoned supervisor thread wakes up and stops its children.
    wait_until(lambda: events.of("stop") == ["b", "a"])
