"""Hot standby (``ProcessOptions(standby=True)``): a loaded spare process is adopted at
the restart, a spare that dies while waiting is replaced, one that cannot start leaves the
restart to the normal path, and no spare outlives its child or its tree (nor its parent: see
test_sup_isolation_orphans.py).

Adoption is asserted by process id (the restarted child's pid is the one status showed as
the spare), never by wall time; ``bench/bench_isolation.py`` measures the restart times.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from isolated_probe import Probe
from process_checks import child_processes, gone

from supervisors import (
    ChildSpec,
    NodeStatus,
    ProcessOptions,
    RingBufferSink,
    SupervisorRef,
    SupFlags,
    ask,
)

TIMEOUT = 60.0
"""Generous: a loaded machine can take seconds to start a Python process."""

pytestmark = pytest.mark.usefixtures("all_reaped")

Wait = Callable[..., None]


@pytest.fixture
def tree(start_tree: Callable[..., SupervisorRef]) -> Callable[..., SupervisorRef]:
    """``tree(**probe_options)``: a root with one isolated probe that keeps a spare."""

    def start(*, fail_if: str = "", process: ProcessOptions | None = None) -> SupervisorRef:
        probe = ChildSpec(
            "probe",
            Probe.start,
            args=("probe", False, fail_if),
            name="probe",
            shutdown=10.0,
            isolation="process",
            process=process or ProcessOptions(heartbeat=10.0, standby=True),
        )
        return start_tree(SupFlags(intensity=100, period=60), [probe])

    return start


def node(root: SupervisorRef) -> NodeStatus:
    found = root.status().find("root/probe")
    assert found is not None
    return found


def ready_spare(root: SupervisorRef, wait_until: Wait, other_than: int | None = None) -> int:
    """The pid of the probe's spare once one is ready (a new one, given ``other_than``)."""
    wait_until(lambda: node(root).spare_pid not in (None, other_than), timeout=TIMEOUT)
    pid = node(root).spare_pid
    assert pid is not None
    return pid


def probe_pid() -> int:
    return int(ask("probe", ["pid"], timeout=TIMEOUT))


def test_a_restart_adopts_the_ready_spare(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Wait
) -> None:
    nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)
    root = tree(process=ProcessOptions(heartbeat=10.0, standby=True, nice=nice))
    first = probe_pid()
    spare = ready_spare(root, wait_until)
    assert spare != first
    os.kill(first, signal.SIGKILL)
    ring.wait_for(kind="start", child_id="probe", count=2, timeout=TIMEOUT)
    assert probe_pid() == spare  # the spare, not a new process
    status = node(root)
    assert (status.pid, status.restarts, status.figures["adopted"]) == (spare, 1, True)
    # It loaded at a lower priority, and runs at the child's own level once adopted.
    assert ask("probe", ["limits"], timeout=TIMEOUT)[1] == nice
    # One exit, one restart, one start report: as without a standby.
    kinds = [report.kind for report in ring.snapshot() if report.child_id == "probe"]
    assert kinds == ["start", "exit", "restart", "start"]
    assert ready_spare(root, wait_until, other_than=spare) not in (first, spare)


def test_a_spares_timers_wait_for_its_adoption(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Wait
) -> None:
    """A spare gets no mail, its own timers' neither: what its ``on_start`` scheduled (the
    llm's warm-up) runs once it is adopted, not beside the live child."""
    root = tree()
    first = probe_pid()
    wait_until(lambda: ask("probe", ["timer"], timeout=TIMEOUT) is not None, timeout=TIMEOUT)
    spare = ready_spare(root, wait_until)
    time.sleep(1.0)  # the spare waits, started, its timer due
    os.kill(first, signal.SIGKILL)
    ring.wait_for(kind="start", child_id="probe", count=2, timeout=TIMEOUT)
    assert probe_pid() == spare
    wait_until(lambda: ask("probe", ["timer"], timeout=TIMEOUT) is not None, timeout=TIMEOUT)
    assert ask("probe", ["timer"], timeout=TIMEOUT) >= 1.0  # held until the adoption


def test_a_spare_that_dies_while_waiting_is_replaced_without_a_report(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Wait
) -> None:
    root = tree()
    child = probe_pid()
    spare = ready_spare(root, wait_until)
    reports = len(ring.snapshot())
    os.kill(spare, signal.SIGKILL)
    replacement = ready_spare(root, wait_until, other_than=spare)
    assert gone(spare)
    assert len(ring.snapshot()) == reports  # no exit, restart or start report
    assert (node(root).pid, node(root).restarts) == (child, 0)
    assert replacement != child


def test_a_spare_that_cannot_start_leaves_the_restart_to_the_normal_path(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Wait, tmp_path: Path
) -> None:
    missing_model = tmp_path / "model-gone"
    root = tree(fail_if=str(missing_model))
    child = probe_pid()
    spare = ready_spare(root, wait_until)
    missing_model.touch()  # every process started from now on fails in on_start
    os.kill(spare, signal.SIGKILL)
    wait_until(lambda: gone(spare), timeout=TIMEOUT)
    time.sleep(3.0)  # the replacements fail, backing off (1 s, 2 s, ...) without a spin
    assert node(root).spare_pid is None
    assert [r.kind for r in ring.snapshot() if r.child_id == "probe"] == ["start"]
    os.kill(child, signal.SIGKILL)
    # No spare to adopt: the normal start, whose failure is reported as always.
    (error,) = ring.wait_for(kind="start_error", child_id="probe", count=1, timeout=TIMEOUT)
    assert error.reason is not None and "probe refuses to start" in str(error.reason)
    missing_model.unlink()  # the model is back: a retry starts the child
    wait_until(lambda: node(root).state == "running", timeout=TIMEOUT)
    ready_spare(root, wait_until)  # and the standby recovers once spares start again


def test_terminate_child_and_shutdown_stop_the_spare(
    tree: Callable[..., SupervisorRef], wait_until: Wait
) -> None:
    root = tree()
    child = probe_pid()
    spare = ready_spare(root, wait_until)
    root.terminate_child("probe")
    assert gone(child) and gone(spare)
    assert child_processes() == []
    root.restart_child("probe")  # a new child, and a new spare for it
    spares = [ready_spare(root, wait_until), probe_pid()]
    root.stop(timeout=TIMEOUT)
    assert all(gone(pid) for pid in spares)
    assert child_processes() == []


def test_no_zombie_and_no_leak_across_many_adopted_restarts(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Wait
) -> None:
    root = tree()
    probe_pid()
    spare = ready_spare(root, wait_until)
    me = psutil.Process()
    threads, fds = threading.active_count(), me.num_fds()
    for round_ in range(1, 9):
        os.kill(probe_pid(), signal.SIGKILL)
        ring.wait_for(kind="start", child_id="probe", count=round_ + 1, timeout=TIMEOUT)
        assert probe_pid() == spare
        spare = ready_spare(root, wait_until, other_than=spare)
    # A killed incarnation's reader and stand-in threads end a moment after its restart is
    # reported (they announce the exit, then return): wait for them.
    wait_until(
        lambda: threading.active_count() <= threads and me.num_fds() <= fds,
        timeout=TIMEOUT,
        what=f"threads back to {threads} and descriptors to {fds}",
    )
    children = child_processes()
    assert sorted(c.pid for c in children) == sorted([probe_pid(), spare])  # no leftover
    assert all(c.status() != psutil.STATUS_ZOMBIE for c in children)


def test_a_standby_is_off_by_default_and_validated() -> None:
    assert ProcessOptions().standby is False
    with pytest.raises(ValueError, match="standby"):
        ProcessOptions(standby="yes")  # type: ignore[arg-type]
