"""Dynamic children (OTP's start/terminate/restart/delete_child) and simple_one_for_one."""

from __future__ import annotations

from typing import Any

import pytest

from supervisors import (
    ActorExitedError,
    Backoff,
    ChildCounts,
    RingBufferSink,
    StartError,
    SupervisorError,
    SupFlags,
    supervisor_spec,
)


def codes(call: Any) -> str:
    with pytest.raises(SupervisorError) as info:
        call()
    return info.value.code


def test_start_child_appends_and_refuses_duplicates(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    ref = root.start_child(spec("b"))
    assert ref.ask("hi") == ("b", "hi")
    assert [c.id for c in root.which_children()] == ["a", "b"]
    assert ring.snapshot(kind="start")[-1].context == "dynamic"
    assert codes(lambda: root.start_child(spec("b"))) == "already_started"
    root.terminate_child("b")
    assert codes(lambda: root.start_child(spec("b"))) == "already_present"
    assert codes(lambda: root.start_child(("not", "a", "spec"))) == "bad_start_spec"


def test_start_child_failure_is_not_kept(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    with pytest.raises(StartError) as info:
        root.start_child(spec("bad", fail_start=True))
    assert info.value.child_id == "bad"
    assert [c.id for c in root.which_children()] == ["a"]


def test_terminate_restart_delete(spec: Any, start_tree: Any, events: Any) -> None:
    root = start_tree(SupFlags(), [spec("a"), spec("b")])
    assert codes(lambda: root.restart_child("a")) == "running"
    assert codes(lambda: root.delete_child("a")) == "running"
    root.terminate_child("a")
    assert events.of("stop") == ["a"]
    first = root.which_children()[0]
    assert (first.id, first.state, first.ref) == ("a", "stopped", None)
    assert root.count_children() == ChildCounts(specs=2, active=1, supervisors=0, workers=2)
    ref = root.restart_child("a")
    assert ref.ask("x") == ("a", "x")
    root.terminate_child("a")
    root.delete_child("a")
    assert [c.id for c in root.which_children()] == ["b"]
    assert codes(lambda: root.terminate_child("a")) == "not_found"
    assert codes(lambda: root.restart_child("a")) == "not_found"
    assert codes(lambda: root.delete_child("a")) == "not_found"


def test_terminated_child_is_not_restarted_by_its_supervisor(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("a")])
    ref = root.which_children()[0].ref
    root.terminate_child("a")
    assert ref.wait(0).kind == "shutdown"
    assert root.which_children()[0].state == "stopped"


def test_terminating_a_temporary_child_drops_its_spec(spec: Any, start_tree: Any) -> None:
    root = start_tree(SupFlags(), [spec("t", restart="temporary")])
    root.terminate_child("t")
    assert root.which_children() == []


def test_one_for_all_also_restarts_stopped_siblings(spec: Any, start_tree: Any) -> None:
    # OTP quirk, kept: a one_for_all restart starts every child in the list.
    root = start_tree(SupFlags("one_for_all"), [spec("a"), spec("b")])
    root.terminate_child("a")
    with pytest.raises(ActorExitedError):
        root.which_children()[1].ref.ask("crash")
    assert [c.state for c in root.which_children()] == ["running", "running"]


def test_count_children_by_type(spec: Any, start_tree: Any) -> None:
    root = start_tree(
        SupFlags(), [spec("a"), supervisor_spec("s", SupFlags(), [spec("x")]), spec("b")]
    )
    assert root.count_children() == ChildCounts(specs=3, active=3, supervisors=1, workers=2)


def test_simple_one_for_one(spec: Any, start_tree: Any, events: Any) -> None:
    root = start_tree(SupFlags("simple_one_for_one", intensity=5), [spec("conn")])
    assert root.which_children() == []
    one = root.start_child(("one",))
    two = root.start_child(("two",))
    assert one.ask("hi") == ("conn", "hi", "one")
    assert two.ask("hi") == ("conn", "hi", "two")
    infos = root.which_children()
    assert [(i.id, i.ref) for i in infos] == [(None, one), (None, two)]
    assert root.count_children() == ChildCounts(specs=1, active=2, supervisors=0, workers=2)
    # A crashed child comes back with the same arguments.
    with pytest.raises(ActorExitedError):
        one.ask("crash")
    [new_one, same_two] = [i.ref for i in root.which_children()]
    assert same_two is two and new_one is not one
    assert new_one.ask("hi") == ("conn", "hi", "one")
    # Terminated by ref, and then gone.
    root.terminate_child(two)
    assert [i.ref for i in root.which_children()] == [new_one]
    # Terminating a child that is already dead is ok, as OTP's (child_adm_simple).
    assert root.terminate_child(two) is None
    assert codes(lambda: root.terminate_child("conn")) == "simple_one_for_one"
    assert codes(lambda: root.restart_child("conn")) == "simple_one_for_one"
    assert codes(lambda: root.delete_child("conn")) == "simple_one_for_one"
    assert codes(lambda: root.start_child(spec("other"))) == "bad_start_spec"


def test_simple_one_for_one_drops_children_that_are_not_restarted(
    spec: Any, start_tree: Any
) -> None:
    root = start_tree(SupFlags("simple_one_for_one"), [spec("job", restart="transient")])
    job = root.start_child(("j",))
    job.ask("normal")
    job.wait(10)  # it exits after its reply: a loaded machine may take a moment
    assert root.which_children() == []


def test_terminating_a_dynamic_child_that_already_died_is_ok(spec: Any, start_tree: Any) -> None:
    """OTP's supervisor_SUITE child_adm_simple: a dead pid is terminated already (ok), a
    live one that is no child is not_found."""
    root = start_tree(SupFlags("simple_one_for_one"), [spec("job", restart="temporary")])
    job = root.start_child(("j",))
    with pytest.raises(ActorExitedError):
        job.ask("crash")  # died by itself; the supervisor heard before this error came
    assert root.which_children() == []
    assert root.terminate_child(job) is None
    stranger_spec = spec("stranger")
    stranger = stranger_spec.start(*stranger_spec.args)
    try:
        assert codes(lambda: root.terminate_child(stranger)) == "not_found"
    finally:
        stranger.stop()


def test_terminating_a_dynamic_child_waiting_for_its_restart_removes_it(
    spec: Any, start_tree: Any
) -> None:
    """Named by its dead incarnation, as OTP finds a restarting child by its old pid: the
    pending restart is cancelled."""
    backoff = Backoff(min=60, max=60)  # the restart waits far longer than the test
    root = start_tree(SupFlags("simple_one_for_one", intensity=5, backoff=backoff), [spec("w")])
    worker = root.start_child(("w",))
    with pytest.raises(ActorExitedError):
        worker.ask("crash")
    assert [info.state for info in root.which_children()] == ["restarting"]
    assert root.terminate_child(worker) is None
    assert root.which_children() == []


def test_simple_one_for_one_stops_children_together(
    spec: Any, start_tree: Any, events: Any
) -> None:
    root = start_tree(SupFlags("simple_one_for_one"), [spec("w")])
    for n in range(5):
        root.start_child((n,))
    root.stop()
    assert events.of("stop") == ["w"] * 5
