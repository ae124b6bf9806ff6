"""Registered names follow restarts; NoProcError when nobody holds a name."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from supervisors import (
    AlreadyRegisteredError,
    NoProcError,
    Registry,
    RingBufferSink,
    StartError,
    SupervisedActor,
    SupFlags,
    ask,
    start_supervisor,
    tell,
    whereis,
)


def test_name_finds_the_restarted_actor(spec: Any, start_tree: Any, ring: RingBufferSink) -> None:
    start_tree(SupFlags(), [spec("asr", name="asr")])
    first = whereis("asr")
    assert first is not None
    tell("asr", "crash")
    first.wait(10)
    second = whereis("asr", timeout=10)
    assert second is not None and second is not first
    assert ask("asr", "hello") == ("asr", "hello")
    assert ring.snapshot(kind="start")[-1].child_name == "asr"


def test_unknown_or_stopped_names_raise_noproc(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a", name="a")])
    with pytest.raises(NoProcError):
        ask("nobody", "x")
    with pytest.raises(NoProcError):
        tell("nobody", "x")
    assert whereis("nobody") is None
    root.terminate_child("a")
    assert whereis("a") is None
    with pytest.raises(NoProcError) as info:
        ask("a", "x")
    assert info.value.name == "a"
    assert whereis("a", timeout=0.01) is None


def test_name_conflict_is_a_start_error(spec: Any) -> None:
    with pytest.raises(StartError) as info:
        start_supervisor(SupFlags(), [spec("a", name="same"), spec("b", name="same")])
    assert info.value.child_id == "b"
    assert "AlreadyRegisteredError" in info.value.reason.detail


def test_whereis_waits_for_a_registration() -> None:
    registry = Registry()
    ref = SupervisedActor.start()
    timer = threading.Timer(0.02, registry.register, args=("late", ref))
    timer.start()
    assert registry.whereis("late", timeout=10) is ref
    timer.join()
    other = SupervisedActor.start()
    with pytest.raises(AlreadyRegisteredError):
        registry.register("late", other)
    assert registry.names() == ["late"]
    ref.stop()
    # A dead holder no longer counts, and no longer blocks the name.
    assert registry.whereis("late") is None
    assert registry.names() == []
    registry.register("late", other)
    other.stop()


def test_separate_registry_per_tree(spec: Any) -> None:
    registry = Registry()
    root = start_supervisor(SupFlags(), [spec("a", name="a")], registry=registry)
    assert whereis("a") is None
    assert registry.ask("a", "x") == ("a", "x")
    root.stop()
