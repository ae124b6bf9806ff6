"""Process-isolated children: messages both ways, every kind of exit, stop and kill.

The child is `isolated_probe.Probe`, run with ``isolation="process"``; a local "witness"
actor stands for the parent-side actors an isolated one talks to.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import psutil
import pytest
from isolated_probe import Probe
from process_checks import child_processes, gone

from supervisors import (
    KILLED,
    NOPROC,
    ActorExitedError,
    ChildSpec,
    Down,
    ExitReason,
    MonitorRef,
    MsgspecCodec,
    ProcessOptions,
    RemoteError,
    RequestFailedError,
    RingBufferSink,
    StartError,
    SupervisedActor,
    SupervisorRef,
    SupFlags,
    ask,
    monitor,
    tell,
    whereis,
)

TIMEOUT = 30.0
"""Generous: a loaded machine can take seconds to start a Python process."""

pytestmark = pytest.mark.usefixtures("all_reaped")


class Witness(SupervisedActor):
    """Records what isolated children tell it; answers asks with ``["witnessed", x]``."""

    def __init__(self, heard: queue.Queue[Any]) -> None:
        super().__init__()
        self.heard = heard

    def on_receive(self, message: Any) -> Any:
        self.heard.put(message)
        return ["witnessed", message]


@pytest.fixture
def heard() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def tree(
    start_tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> Callable[..., SupervisorRef]:
    """``tree(**probe_spec_options)``: a root with the witness, the ``extra`` children and
    an isolated probe, started in that order."""

    def start(
        *,
        flags: SupFlags | None = None,
        process: ProcessOptions | None = None,
        extra: Sequence[ChildSpec] = (),
        **options: Any,
    ) -> SupervisorRef:
        options.setdefault("shutdown", 10.0)
        probe = ChildSpec(
            "probe",
            Probe.start,
            args=(options.pop("label", "probe"), options.pop("fail_start", False)),
            name="probe",
            isolation="process",
            process=process or ProcessOptions(heartbeat=10.0),
            **options,
        )
        witness = ChildSpec("witness", Witness.start, args=(heard,), name="witness")
        return start_tree(flags or SupFlags(intensity=10, period=60), [witness, *extra, probe])

    return start


def probe_pid() -> int:
    return int(ask("probe", ["pid"], timeout=TIMEOUT))


def restarted_pid(old: int) -> int:
    """The pid of the probe's next incarnation (waiting for the restart).

    The killed incarnation can still be registered for a moment after its death is seen
    (as in OTP, a name looked up may be a process just gone): an ask that reaches it is
    answered with its exit, and is asked again of the next one."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        ref = whereis("probe", timeout=TIMEOUT)
        assert ref is not None, "the probe was not restarted"
        try:
            pid = probe_pid()
            break
        except ActorExitedError:
            assert time.monotonic() < deadline, "the killed probe stayed registered"
            time.sleep(0.01)
    assert pid != old
    return pid


def exit_report(ring: RingBufferSink) -> Any:
    (report,) = ring.wait_for(kind="exit", child_id="probe", count=1, timeout=TIMEOUT)
    return report


# -- messages ----------------------------------------------------------------------------


def test_a_contained_request_fails_alone_across_the_pipe(
    tree: Callable[..., SupervisorRef], wait_until: Callable[..., None]
) -> None:
    root = tree()
    pid = probe_pid()
    with pytest.raises(RequestFailedError) as info:
        ask("probe", "no such day", timeout=TIMEOUT)
    assert info.value.request == "str" and "Probe" in info.value.actor, info.value.actor
    assert str(info.value).endswith("failed on a str: ValueError: no such day"), info.value
    cause = info.value.__cause__
    assert isinstance(cause, RemoteError) and cause.type_name == "ValueError"
    assert "raise ValueError(message)" in cause.remote_traceback
    assert probe_pid() == pid  # the same process, still serving

    def failed() -> object:
        node = root.status().find("root/probe")
        assert node is not None and node.restarts == 0
        return node.figures.get("requests_failed")

    # Counted in the child: the figure comes with its next beat.
    wait_until(lambda: failed() == 1, timeout=TIMEOUT, what="requests_failed to be 1")


def test_tell_and_ask_reach_the_child_in_its_process(tree: Callable[..., SupervisorRef]) -> None:
    root = tree()
    pid = probe_pid()
    assert pid != os.getpid()
    assert ask("probe", ["echo", "hello"], timeout=TIMEOUT) == "hello"
    tell("probe", ["figure", 7])
    assert ask("probe", ["echo", 1], timeout=TIMEOUT) == 1  # in order: the figure is set
    node = root.status().find("root/probe")
    assert node is not None and node.pid == pid and node.state == "running"
    assert root.status().find("root/witness").pid == os.getpid()  # type: ignore[union-attr]
    assert whereis("probe").pid == pid  # type: ignore[union-attr]
    # ps and top name the process after its child, not "python".
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "probe"


def test_the_child_tells_and_asks_names_in_the_parent(
    tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    tree()
    tell("probe", ["tell", "witness", "from the child"])
    assert heard.get(timeout=TIMEOUT) == "from the child"
    assert ask("probe", ["ask", "witness", 42], timeout=TIMEOUT) == ["witnessed", 42]
    assert heard.get(timeout=TIMEOUT) == 42


def test_an_ask_to_a_missing_parent_name_fails_in_the_child(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    tree()
    with pytest.raises(ActorExitedError) as caught:
        ask("probe", ["ask", "nobody", 1], timeout=TIMEOUT)
    assert "NoProcError" in caught.value.reason.detail  # the child crashed on the noproc
    assert "nobody" in exit_report(ring).traceback


def test_a_message_the_codec_cannot_carry_fails_at_the_sender(
    tree: Callable[..., SupervisorRef],
) -> None:
    tree()
    with pytest.raises(TypeError, match="cannot encode"):
        tell("probe", object())
    with pytest.raises(TypeError, match="cannot encode"):
        ask("probe", ["echo", object()], timeout=TIMEOUT)
    with pytest.raises(Exception, match="cannot encode the reply"):
        ask("probe", ["bad_reply"], timeout=TIMEOUT)
    assert ask("probe", ["echo", "still here"], timeout=TIMEOUT) == "still here"


@pytest.mark.parametrize(
    "data",
    [b"\xa2\xff\xfe", b"\xc1", b"\x92\x01", b""],
    ids=["not-utf8", "reserved-byte", "truncated", "empty"],
)
def test_malformed_bytes_raise_one_family_of_decode_errors(data: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        MsgspecCodec().decode(data)


def test_a_proxy_is_refused_with_a_clear_error(tree: Callable[..., SupervisorRef]) -> None:
    tree()
    ref = whereis("probe")
    assert ref is not None
    with pytest.raises(TypeError, match="its own process"):
        ref.proxy()


# -- exits, each with its reason -------------------------------------------------------


def test_an_exception_in_the_child_is_a_crash_with_its_traceback(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    tree()
    pid = probe_pid()
    with pytest.raises(ActorExitedError) as caught:
        ask("probe", ["raise", "boom"], timeout=TIMEOUT)
    assert caught.value.reason == ExitReason("crash", "ValueError: boom")
    assert "isolated_probe.py" in str(caught.value.__cause__.remote_traceback)  # type: ignore[union-attr]
    report = exit_report(ring)
    assert report.reason == ExitReason("crash", "ValueError: boom")
    assert "raise ValueError(text)" in report.traceback
    (restart,) = ring.wait_for(kind="restart", child_id="probe", count=1, timeout=TIMEOUT)
    assert restart.reason == report.reason
    restarted_pid(pid)
    assert gone(pid)


@pytest.mark.parametrize(
    ("command", "signal_name"), [(["segv"], "SIGSEGV"), (["abort"], "SIGABRT")]
)
def test_a_native_crash_is_a_crash_naming_the_signal(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, command: list[str], signal_name: str
) -> None:
    tree()
    pid = probe_pid()
    with pytest.raises(ActorExitedError) as caught:
        ask("probe", command, timeout=TIMEOUT)
    assert caught.value.reason.kind == "crash"
    assert caught.value.reason.detail.startswith(signal_name)
    assert exit_report(ring).reason == caught.value.reason
    restarted_pid(pid)


def test_a_sigkill_from_outside_is_killed(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    tree()
    pid = probe_pid()
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    reason = exit_report(ring).reason
    assert reason.kind == "killed"
    assert "SIGKILL" in reason.detail
    restarted_pid(pid)


@pytest.mark.parametrize(("code", "kind"), [(0, "normal"), (3, "crash")], ids=["code-0", "code-3"])
def test_a_process_exiting_by_itself_is_normal_or_not_by_its_code(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, code: int, kind: str
) -> None:
    root = tree(restart="transient")
    pid = probe_pid()
    tell("probe", ["exit", code])
    reason = exit_report(ring).reason
    assert reason.kind == kind
    assert f"code {code}" in reason.detail
    if kind == "normal":  # transient: not restarted after a normal exit
        node = root.status().find("root/probe")
        assert node is not None and node.state == "stopped"
    else:
        restarted_pid(pid)


HUNG_AFTER = 3.0
"""The heartbeat of the hung tests: a live child that a loaded machine holds up for a moment
before the test makes it hang must not be killed for it (its pid ask would fail)."""


def test_a_silent_process_is_killed_as_hung_and_restarted(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    tree(process=ProcessOptions(heartbeat=HUNG_AFTER))
    pid = probe_pid()
    with pytest.raises(ActorExitedError) as caught:
        ask("probe", ["freeze"], timeout=TIMEOUT)  # the pending ask is answered, not left
    assert caught.value.reason.kind == "hung"
    assert "heartbeat" in caught.value.reason.detail
    assert exit_report(ring).reason.kind == "hung"
    restarted_pid(pid)
    assert gone(pid)


def test_a_child_stuck_with_mail_waiting_misses_its_spec_heartbeat(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    tree(heartbeat=HUNG_AFTER)
    pid = probe_pid()
    stuck = whereis("probe")
    assert stuck is not None
    first = stuck.ask(["sleep", 600], block=False)
    second = stuck.ask(["echo", "waiting"], block=False)
    (hung,) = ring.wait_for(kind="hung", child_id="probe", count=1, timeout=TIMEOUT)
    assert "waiting" in hung.context
    for future in (first, second):
        with pytest.raises(ActorExitedError) as caught:
            future.get(timeout=TIMEOUT)
        assert caught.value.reason.kind == "hung"
    restarted_pid(pid)
    assert gone(pid)


def test_over_the_memory_ceiling_is_memory_limit(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink
) -> None:
    root = tree(process=ProcessOptions(heartbeat=10.0, memory_mb=200))
    pid = probe_pid()
    node = root.status().find("root/probe")
    assert node is not None
    tell("probe", ["alloc", 400])
    reason = exit_report(ring).reason
    assert reason.kind == "memory_limit"
    assert "200 MiB" in reason.detail
    restarted_pid(pid)


def test_a_start_failure_in_the_child_is_a_start_error(
    start_tree: Callable[..., SupervisorRef],
) -> None:
    spec = ChildSpec(
        "probe",
        Probe.start,
        args=("probe", True),
        name="probe",
        isolation="process",
    )
    with pytest.raises(StartError) as caught:
        start_tree(SupFlags(), [spec])
    assert caught.value.reason == ExitReason("crash", "RuntimeError: probe refuses to start")
    assert "refuses to start" in caught.value.traceback


# -- monitors, both ways (erlang:monitor/2 across nodes) --------------------------------


def test_a_monitor_of_an_isolated_actor_hears_its_process_die(
    tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    tree()
    pid = probe_pid()
    ref = monitor("probe", whereis("witness"))  # type: ignore[arg-type]
    os.kill(pid, signal.SIGKILL)
    down = heard.get(timeout=TIMEOUT)
    assert isinstance(down, Down) and down.ref == ref and down.name == "probe"
    assert down.reason.kind == "killed" and "SIGKILL" in down.reason.detail
    restarted_pid(pid)


def test_an_isolated_actor_can_be_told_a_down(
    tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    """The Down crosses the pipe like any message: every MsgspecCodec carries it."""
    tree()
    doomed = Witness.start(queue.Queue())  # an actor of this process, outside the tree
    ref = monitor(doomed, whereis("probe"))  # type: ignore[arg-type]
    doomed.lifecycle.kill()  # type: ignore[attr-defined]
    # The probe, in its process, got the Down and passes it on to the witness.
    assert heard.get(timeout=TIMEOUT) == Down(ref, None, KILLED)


def probe_monitors(name: str) -> MonitorRef:
    """Have the probe, in its process, monitor ``name``; the ref it holds there.

    The child sends the monitor before its reply and the parent reads the pipe in order,
    so the monitor is in place in the parent once the reply is here."""
    return MonitorRef(ask("probe", ["monitor", name], timeout=TIMEOUT))


def no_more(heard: queue.Queue[Any], within: float = 0.5) -> None:
    with pytest.raises(queue.Empty):
        heard.get(timeout=within)


def crash_worker(wait_until: Callable[..., None]) -> None:
    """Crash the parent's "worker" and wait until its supervisor has restarted it."""
    incarnation = whereis("worker")
    tell("worker", "crash")
    wait_until(lambda: whereis("worker") not in (None, incarnation), timeout=TIMEOUT)


def test_an_isolated_actor_monitors_an_actor_in_the_parent_once_per_incarnation(
    tree: Callable[..., SupervisorRef],
    spec: Callable[..., ChildSpec],
    heard: queue.Queue[Any],
    wait_until: Callable[..., None],
) -> None:
    tree(extra=[spec("worker", name="worker")])
    ref = probe_monitors("worker")
    crash_worker(wait_until)
    down = heard.get(timeout=TIMEOUT)
    assert isinstance(down, Down) and down.ref == ref and down.name == "worker"
    assert down.reason.kind == "crash" and "worker crashed" in down.reason.detail
    crash_worker(wait_until)  # the new incarnation was not monitored: no second Down
    no_more(heard)


def test_an_isolated_actor_monitoring_a_name_nobody_holds_gets_noproc_at_once(
    tree: Callable[..., SupervisorRef], heard: queue.Queue[Any]
) -> None:
    tree()
    ref = probe_monitors("nobody-by-this-name")
    assert heard.get(timeout=TIMEOUT) == Down(ref, "nobody-by-this-name", NOPROC)


def test_an_isolated_actor_gets_no_down_after_demonitor(
    tree: Callable[..., SupervisorRef],
    spec: Callable[..., ChildSpec],
    heard: queue.Queue[Any],
    wait_until: Callable[..., None],
) -> None:
    tree(extra=[spec("worker", name="worker")])
    ref = probe_monitors("worker")
    ask("probe", ["demonitor", ref.id], timeout=TIMEOUT)
    ask("probe", ["demonitor", ref.id], timeout=TIMEOUT)  # twice is harmless
    crash_worker(wait_until)
    no_more(heard)


def test_an_isolated_actor_monitors_another_isolated_actor(
    tree: Callable[..., SupervisorRef],
    heard: queue.Queue[Any],
    wait_until: Callable[..., None],
) -> None:
    other = ChildSpec(
        "other",
        Probe.start,
        args=("other",),
        name="other",
        isolation="process",
        process=ProcessOptions(heartbeat=10.0),
    )
    tree(extra=[other])

    def kill_other() -> None:
        """SIGKILL the other probe's process, as the OOM killer would; wait for its restart."""
        incarnation = whereis("other")
        os.kill(int(ask("other", ["pid"], timeout=TIMEOUT)), signal.SIGKILL)
        wait_until(lambda: whereis("other") not in (None, incarnation), timeout=TIMEOUT)

    ref = probe_monitors("other")
    kill_other()
    down = heard.get(timeout=TIMEOUT)
    assert isinstance(down, Down) and down.ref == ref and down.name == "other"
    assert down.reason.kind == "killed" and "SIGKILL" in down.reason.detail
    kill_other()  # the new incarnation was not monitored: no second Down
    no_more(heard)


def test_a_dead_childs_monitors_in_the_parent_go_with_it(
    tree: Callable[..., SupervisorRef],
    spec: Callable[..., ChildSpec],
    wait_until: Callable[..., None],
) -> None:
    """A child process that is gone leaves no monitor behind on the actors it watched."""
    tree(extra=[spec("worker", name="worker")])
    lifecycle = whereis("worker").lifecycle  # type: ignore[union-attr]

    def watchers() -> int:
        return len(lifecycle._monitors)  # its supervisor's, and any other's

    before = watchers()
    probe_monitors("worker")
    assert watchers() == before + 1
    pid = probe_pid()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: watchers() == before, timeout=TIMEOUT)
    restarted_pid(pid)


# -- stopping --------------------------------------------------------------------------


def test_shutdown_runs_on_stop_in_the_child(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, heard: queue.Queue[Any]
) -> None:
    root = tree()
    pid = probe_pid()
    root.terminate_child("probe")
    assert heard.get(timeout=TIMEOUT) == ["stopped", "probe", pid]
    (report,) = ring.wait_for(kind="shutdown", child_id="probe", count=1, timeout=TIMEOUT)
    assert report.reason.kind == "shutdown"
    assert gone(pid)


def test_a_child_that_overruns_its_shutdown_time_is_killed(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, heard: queue.Queue[Any]
) -> None:
    root = tree(shutdown=0.5)
    pid = probe_pid()
    busy = whereis("probe")
    assert busy is not None
    pending = busy.ask(["sleep", 600], block=False)
    assert heard.get(timeout=TIMEOUT) == ["sleeping", pid]
    root.terminate_child("probe")
    (report,) = ring.wait_for(kind="shutdown", child_id="probe", count=1, timeout=TIMEOUT)
    assert report.reason.kind == "killed"
    with pytest.raises(ActorExitedError):
        pending.get(timeout=TIMEOUT)
    assert gone(pid)


def test_no_zombie_and_no_leak_across_many_restarts(
    tree: Callable[..., SupervisorRef], ring: RingBufferSink, wait_until: Callable[..., None]
) -> None:
    tree(flags=SupFlags(intensity=100, period=60))
    probe_pid()
    me = psutil.Process()
    threads, fds = threading.active_count(), me.num_fds()
    for round_ in range(1, 13):
        pid = probe_pid()
        os.kill(pid, signal.SIGKILL)
        ring.wait_for(kind="start", child_id="probe", count=round_ + 1, timeout=TIMEOUT)
    probe_pid()
    # The last killed incarnation's reader and stand-in threads end a moment after its
    # restart is reported (they announce the exit, then return): wait for them.
    wait_until(
        lambda: threading.active_count() <= threads and me.num_fds() <= fds,
        timeout=TIMEOUT,
        what=f"threads back to {threads} and descriptors to {fds}",
    )
    children = child_processes()
    assert len(children) == 1  # the current incarnation only: none left over, no zombie
    assert children[0].status() != psutil.STATUS_ZOMBIE


# -- limits ----------------------------------------------------------------------------


def test_cpu_affinity_and_nice_are_applied_in_the_child(
    tree: Callable[..., SupervisorRef],
) -> None:
    cpu = min(os.sched_getaffinity(0))
    nice = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5)
    tree(process=ProcessOptions(cpus=(cpu,), nice=nice))
    assert ask("probe", ["limits"], timeout=TIMEOUT) == [[cpu], nice]
    assert os.getpriority(os.PRIO_PROCESS, 0) != nice  # the parent is untouched


def test_unavailable_cpus_fail_the_start_with_a_clear_error(
    start_tree: Callable[..., SupervisorRef],
) -> None:
    spec = ChildSpec(
        "probe",
        Probe.start,
        name="probe",
        isolation="process",
        process=ProcessOptions(cpus=(4096,)),
    )
    with pytest.raises(StartError, match="cpus \\[4096\\] are not available"):
        start_tree(SupFlags(), [spec])


def test_bad_process_options_are_refused_on_construction() -> None:
    with pytest.raises(ValueError, match="memory_mb"):
        ProcessOptions(memory_mb=0)
    with pytest.raises(ValueError, match="nice"):
        ProcessOptions(nice=40)
    with pytest.raises(ValueError, match="only workers"):
        ChildSpec("x", Probe.start, type="supervisor", isolation="process")
    with pytest.raises(ValueError, match="isolation"):
        ChildSpec("x", Probe.start, isolation="fiber")  # type: ignore[arg-type]


def test_status_shows_the_process_and_its_figures(
    tree: Callable[..., SupervisorRef], wait_until: Callable[..., None]
) -> None:
    root = tree(label="figured")
    probe_pid()

    def figures() -> dict[str, Any]:
        node = root.status().find("root/probe")
        assert node is not None
        return dict(node.figures)

    # Published in the child, they come with its next beat, which may follow the reply.
    wait_until(lambda: "label" in figures(), timeout=TIMEOUT, what="the child's figures")
    node = root.status().find("root/probe")
    assert node is not None
    assert node.figures["label"] == "figured"
    assert node.figures["process_start_s"] > 0
    encoded = msgspec.json.decode(msgspec.json.encode(root.status()))
    assert encoded["children"][1]["pid"] == node.pid
