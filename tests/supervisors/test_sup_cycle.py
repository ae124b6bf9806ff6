"""cycle_child: an operator's restart counts in restarts, never in restart intensity."""

from __future__ import annotations

from typing import Any

import pytest

from supervisors import (
    ChildSpec,
    RingBufferSink,
    SupervisedActor,
    SupervisorError,
    SupFlags,
    start_supervisor,
)


class Worker(SupervisedActor):
    def on_receive(self, message: Any) -> Any:
        return message


def test_operator_restarts_never_exhaust_the_intensity() -> None:
    sink = RingBufferSink()
    flags = SupFlags("one_for_all", intensity=1, period=60.0)
    root = start_supervisor(
        flags, [ChildSpec("a", Worker.start), ChildSpec("b", Worker.start)], name="op", sinks=[sink]
    )
    try:
        before = {info.id: info.ref for info in root.which_children()}
        for _ in range(5):  # far past intensity 1
            root.cycle_child("a")
        after = {info.id: info.ref for info in root.which_children()}
        assert root.exit_reason is None
        assert after["a"] is not before["a"] and after["b"] is before["b"]  # no one_for_all
        node = root.status().find("op/a")
        assert node is not None and node.restarts == 5 and node.state == "running"
        restarts = [r for r in sink.snapshot() if r.kind == "restart"]
        assert [r.context for r in restarts] == ["operator"] * 5
    finally:
        root.stop()


def test_cycle_starts_a_stopped_child_and_refuses_unknown_ones() -> None:
    root = start_supervisor(SupFlags(), [ChildSpec("a", Worker.start)], name="op2")
    try:
        root.terminate_child("a")
        ref = root.cycle_child("a")
        assert ref is not None and ref.ask("ping", timeout=5) == "ping"
        with pytest.raises(SupervisorError):
            root.cycle_child("nobody")
    finally:
        root.stop()
