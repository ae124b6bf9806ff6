"""Starting and stopping trees: order, start errors, nesting, root exit."""

from __future__ import annotations

from typing import Any

import pykka
import pytest

from supervisors import (
    NORMAL,
    ChildSpec,
    RingBufferSink,
    StartError,
    SupervisedActor,
    SupFlags,
    start_supervisor,
    supervisor_spec,
)


def test_children_start_in_order_and_stop_in_reverse(
    spec: Any, start_tree: Any, events: Any
) -> None:
    root = start_tree(SupFlags(), [spec("a"), spec("b"), spec("c")])
    assert events.of("start") == ["a", "b", "c"]
    assert [c.id for c in root.which_children()] == ["a", "b", "c"]
    assert root.stop(timeout=10) is True
    assert events.of("stop") == ["c", "b", "a"]
    # The stop's reply comes before the exit is marked done (Lifecycle._announce): wait.
    assert root.wait(10) == NORMAL


def test_start_is_synchronous(start_tree: Any) -> None:
    ready: list[str] = []

    class Slow(SupervisedActor):
        def __init__(self, child_id: str) -> None:
            super().__init__()
            self.child_id = child_id

        def on_start(self) -> None:
            # Sees every earlier sibling started.
            ready.append(f"{self.child_id} after {len(ready)}")

    start_tree(SupFlags(), [ChildSpec(i, Slow.start, args=(i,)) for i in "abc"])
    assert ready == ["a after 0", "b after 1", "c after 2"]


def test_start_error_rolls_back_in_reverse_and_names_child(
    spec: Any, events: Any, ring: RingBufferSink
) -> None:
    children = [spec("a"), spec("b"), spec("bad", fail_start=True), spec("d")]
    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), children, name="top", sinks=[ring])
    assert info.value.child_id == "bad"
    assert "bad refuses to start" in info.value.reason.detail
    assert "RuntimeError" in info.value.traceback
    assert events.of("start") == ["a", "b"]
    assert events.of("stop") == ["b", "a"]
    kinds = [(r.kind, r.child_id) for r in ring.snapshot()]
    assert kinds == [
        ("start", "a"),
        ("start", "b"),
        ("start_error", "bad"),
        ("shutdown", "b"),
        ("shutdown", "a"),
    ]


def test_factory_that_raises_or_returns_junk_is_a_start_error(spec: Any) -> None:
    def broken() -> Any:
        raise ImportError("missing model")

    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), [ChildSpec("x", broken)])
    assert "missing model" in info.value.reason.detail
    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), [ChildSpec("y", lambda: "not a ref")])
    assert "not a SupervisedRef" in info.value.reason.detail
    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), [ChildSpec("z", pykka.ThreadingActor.start)])
    assert "not a SupervisedRef" in info.value.reason.detail  # and it was stopped


def test_nested_start_error_fails_the_whole_tree(spec: Any, events: Any) -> None:
    inner = supervisor_spec("inner", SupFlags(), [spec("i1"), spec("i2", fail_start=True)])
    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), [spec("a"), inner, spec("z")])
    assert info.value.child_id == "inner"
    assert "i2" in info.value.reason.detail
    assert events.of("stop") == ["i1", "a"]


def test_nested_paths_in_reports_and_status(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    voice = supervisor_spec("voice", SupFlags(), [spec("asr"), spec("tts")])
    root = start_tree(SupFlags(), [spec("log"), voice], name="solo")
    assert root.path == "solo"
    assert [r.path for r in ring.snapshot(kind="start")] == [
        "solo/log",
        "solo/voice/asr",
        "solo/voice/tts",
        "solo/voice",
    ]
    status = root.status()
    assert [n.path for n in status.children] == ["solo/log", "solo/voice"]
    voice_node = status.find("solo/voice")
    assert voice_node is not None
    assert voice_node.type == "supervisor"
    assert [n.path for n in voice_node.children] == ["solo/voice/asr", "solo/voice/tts"]


def test_nested_shutdown_is_depth_first_reverse(spec: Any, start_tree: Any, events: Any) -> None:
    inner = supervisor_spec("inner", SupFlags(), [spec("i1"), spec("i2")])
    root = start_tree(SupFlags(), [spec("a"), inner, spec("z")])
    root.stop()
    assert events.of("stop") == ["z", "i2", "i1", "a"]


def test_shutdown_kills_a_child_that_overruns_its_time(
    spec: Any, start_tree: Any, ring: RingBufferSink, wait_until: Any
) -> None:
    import threading

    gate = threading.Event()
    root = start_tree(SupFlags(), [spec("stuck", shutdown=0.05), spec("ok")])
    stuck = root.which_children()[0].ref
    stuck.tell(("wait", gate))
    # Stuck on the gate before the stop: else, on a busy machine, the stop could come first.
    wait_until(lambda: stuck.lifecycle.mailbox_depth == 0)
    root.stop()
    reasons = {r.child_id: r.reason for r in ring.snapshot(kind="shutdown")}
    assert reasons["stuck"] is not None and reasons["stuck"].kind == "killed"
    assert reasons["ok"] is not None and reasons["ok"].kind == "shutdown"
    gate.set()  # release the abandoned thread


def test_brutal_kill_skips_on_stop(spec: Any, start_tree: Any, events: Any) -> None:
    root = start_tree(SupFlags(), [spec("a", shutdown="brutal_kill")])
    root.stop()
    assert events.of("stop") == []


def test_default_shutdown_is_otps(spec: Any) -> None:
    assert spec("w").shutdown_policy == 5.0
    assert spec("s", type="supervisor").shutdown_policy == "infinity"
    assert supervisor_spec("s", SupFlags()).shutdown_policy == "infinity"
    assert spec("k", shutdown="brutal_kill").shutdown_policy == "brutal_kill"


def test_invalid_specs_and_flags_are_rejected(spec: Any) -> None:
    with pytest.raises(ValueError):
        ChildSpec("", lambda: None)
    with pytest.raises(ValueError):
        ChildSpec("a/b", lambda: None)
    with pytest.raises(ValueError):
        ChildSpec("a", lambda: None, shutdown=-1)
    with pytest.raises(ValueError):
        ChildSpec("a", lambda: None, heartbeat=0)
    with pytest.raises(ValueError):
        SupFlags(intensity=-1)
    with pytest.raises(ValueError):
        SupFlags(period=0)
    with pytest.raises(ValueError):
        start_supervisor(SupFlags(), [spec("a"), spec("a")])
    with pytest.raises(ValueError):
        start_supervisor(SupFlags("simple_one_for_one"), [spec("a"), spec("b")])
