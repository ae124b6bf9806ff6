"""Escalation: faults faster than a supervisor's intensity climb the tree one level at a
time, as configured, and the report files (what `solo log` and GET /log read) show the chain.

With ``voice.intensity = 1`` and ``supervisor.intensity = 1`` (in 60 s): a second crash of
vad makes the voice supervisor give up; the root restarts voice (its first restart); a
crash of llm is then the root's second restart, so the root gives up too and the tree stops
with ``shutdown: reached_max_restart_intensity`` (run.py then exits 1).
"""

from __future__ import annotations

from pathlib import Path

import supervisors
from solo_actors.reports import ReportForwarder, read_reports
from solo_actors.runtime.app import start_tree
from solo_actors.voice.options import RunOptions
from tests.conftest import ConfigFactory


def crash(name: str, number: int) -> None:
    ref = supervisors.whereis(name, timeout=30)
    assert ref is not None, f"{name} is not running"
    future = ref.ask(supervisors.Fault("raise", label=f"#{number}"), block=False)
    try:
        future.get(timeout=30)
    except supervisors.ActorExitedError as error:
        assert isinstance(error.__cause__, supervisors.InjectedFault)
    else:
        raise AssertionError(f"{name} survived its fault")


def chain(directory: Path) -> list[tuple[str, str, str]]:
    """(kind, path, reason) of the failure reports on disk, in order."""
    return [
        (report.kind, report.path, str(report.reason))
        for report in read_reports(directory)
        if report.kind in ("exit", "restart", "escalation")
    ]


def test_faults_past_the_intensity_escalate_level_by_level(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    config = make_config(voice__intensity=1, voice__period=60, supervisor__intensity=1,
                         supervisor__period=60, api__enabled=False)  # fmt: skip
    forwarder = ReportForwarder(config.reports.pending_max)
    supervisors.faults.enable()
    root = start_tree(config, RunOptions(output_dir=str(tmp_path / "out")), forwarder)
    try:
        crash("vad", 1)
        supervisors.whereis("vad", timeout=30)  # restarted by voice: within its intensity
        crash("vad", 2)  # voice's second restart in 60 s: it gives up
        assert supervisors.whereis("vad", timeout=30) is not None  # root restarted voice
        crash("llm", 3)  # the root's second restart in 60 s: it gives up
        assert root.wait(timeout=60) == supervisors.ESCALATED
    finally:
        supervisors.faults.enable(False)
        root.stop()
        forwarder.write_pending(config)
    escalated = str(supervisors.ESCALATED)
    injected = "crash: supervisors.faults.InjectedFault: injected fault"
    assert chain(config.solo.var_path(config.reports.dir)) == [
        ("exit", "solo/voice/vad", f"{injected} #1"),
        ("restart", "solo/voice/vad", f"{injected} #1"),
        ("exit", "solo/voice/vad", f"{injected} #2"),
        ("escalation", "solo/voice/vad", f"{injected} #2"),
        ("exit", "solo/voice", escalated),
        ("restart", "solo/voice", escalated),
        ("exit", "solo/llm", f"{injected} #3"),
        ("escalation", "solo/llm", f"{injected} #3"),
    ]
