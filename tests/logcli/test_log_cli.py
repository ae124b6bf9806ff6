"""`solo log` on synthetic report files: filters, crash tracebacks, restart counts, the
escalation tree, --json and --follow; it needs no running assistant."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time

import msgspec
import pytest

import supervisors
from solo_actors.cli import main
from solo_actors.config import REPO_ROOT, Config
from solo_actors.reports import CURRENT_FILE
from tests.conftest import ConfigFactory, config_environment

BOOM = (
    'Traceback (most recent call last):\n  File "stt.py", line 9, in on_receive\nValueError: boom\n'
)


def crash(supervisor: str, child: str, at: float, restarts: int) -> list[supervisors.Report]:
    reason = supervisors.ExitReason("crash", "ValueError: boom")
    return [
        supervisors.ExitReport(supervisor=supervisor, child_id=child, reason=reason,
                               traceback=BOOM, restarts=restarts, timestamp=at),
        supervisors.RestartReport(supervisor=supervisor, child_id=child, reason=reason,
                                  restarts=restarts + 1, timestamp=at + 0.01),
    ]  # fmt: skip


def synthetic_reports(now: float) -> list[supervisors.Report]:
    """A day in the life up to `now`: start, an llm crash an hour ago, then stt crashing
    until voice gives up and the root restarts voice."""
    reports: list[supervisors.Report] = [
        supervisors.StartReport(supervisor="solo", child_id=child, context="init",
                                timestamp=now - 7200)
        for child in ("reports", "llm", "voice")
    ]  # fmt: skip
    reports += crash("solo", "llm", now - 3600, 0)
    for attempt in range(3):
        reports += crash("solo/voice", "stt", now - 60 + attempt, attempt)
    reports += [
        supervisors.EscalationReport(supervisor="solo/voice", child_id="stt",
                                     context="reached_max_restart_intensity",
                                     reason=supervisors.ExitReason("crash", "ValueError: boom"),
                                     timestamp=now - 50),
        supervisors.RestartReport(supervisor="solo", child_id="voice", restarts=1,
                                  reason=supervisors.ESCALATED, timestamp=now - 49),
        supervisors.ShutdownReport(supervisor="solo", child_id="llm",
                                   reason=supervisors.SHUTDOWN, timestamp=now - 10),
    ]  # fmt: skip
    return reports


@pytest.fixture
def config(make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch) -> Config:
    config = make_config()
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(config.solo.var_path()))
    directory = config.solo.var_path(config.reports.dir)
    directory.mkdir(parents=True)
    # Relative to this test's own start, not the module's import: in a long suite the
    # module is imported many minutes before the test runs.
    reports = synthetic_reports(time.time())
    # Half in a rotated file, half in the current one: both must be read, in order.
    encode = msgspec.json.encode
    (directory / "reports.1.jsonl").write_bytes(b"".join(encode(r) + b"\n" for r in reports[:6]))
    (directory / CURRENT_FILE).write_bytes(
        b"".join(encode(r) + b"\n" for r in reports[6:]) + b'{"kind": "exit", "torn'
    )
    return config


def solo_log(config: Config, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["log", "--profile", "test", *args]) == 0
    return capsys.readouterr().out


def test_crashes_show_reasons_and_tracebacks(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    out = solo_log(config, capsys, "--kind", "crash")
    lines = [line for line in out.splitlines() if "crash " in line]
    assert len(lines) == 4 and all("ValueError: boom" in line for line in lines)
    assert out.count("    | ValueError: boom") == 4
    assert "restarts per actor:" in out
    assert "solo/voice/stt          3 restarts, 3 crashes" in out
    assert "solo/llm                1 restarts, 1 crashes" in out


def test_escalations_are_shown_as_a_tree(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    out = solo_log(config, capsys, "--actor", "solo/voice")
    tree = out[out.index("escalation:") :].splitlines()
    assert "solo/voice gave up" in tree[1]
    assert "stt kept failing (crash: ValueError: boom)" in tree[1]
    assert tree[2].strip() == "└── solo restarted voice (restarts=1)"


def test_filters_by_actor_kind_and_time(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    stops = solo_log(config, capsys, "--kind", "stop", "--json").splitlines()
    assert [json.loads(line)["child_id"] for line in stops] == ["llm"]
    recent = solo_log(config, capsys, "--since", "10m", "--json").splitlines()
    assert recent and all(json.loads(line)["timestamp"] >= now - 600 for line in recent)
    llm = [json.loads(line) for line in solo_log(config, capsys, "--actor", "llm", "--json")
           .splitlines()]  # fmt: skip
    assert {r["kind"] for r in llm} == {"start", "exit", "restart", "shutdown"}
    everything = solo_log(config, capsys, "--json").splitlines()
    assert len(everything) == len(synthetic_reports(now))  # the torn last line is skipped


def test_bad_since_and_no_log_say_so(make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    config = make_config()
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(config.solo.var_path()))
    assert main(["log", "--profile", "test"]) == 1
    assert "no report log" in capsys.readouterr().err
    assert main(["log", "--profile", "test", "--since", "last tuesday"]) == 2
    assert "duration like 10m" in capsys.readouterr().err


def test_follow_prints_reports_as_they_are_written(config: Config) -> None:
    environ = config_environment(config.solo.var_path(), {})
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "--profile", "test", "log", "--follow",
         "--json", "--kind", "restart", "--since", "1s"],
        env={"PATH": "/usr/bin:/bin", **environ}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        assert process.stderr.readline().startswith("-- following")
        new = supervisors.RestartReport(supervisor="solo", child_id="dialogue", restarts=7)
        path = config.solo.var_path(config.reports.dir, CURRENT_FILE)
        with path.open("ab") as stream:
            stream.write(b"\n" + msgspec.json.encode(new) + b"\n")
        readable, _, _ = select.select([process.stdout], [], [], 20)
        assert readable, "solo log --follow printed nothing within 20 s"
        line = json.loads(process.stdout.readline())
        assert line["child_id"] == "dialogue" and line["restarts"] == 7
    finally:
        process.terminate()
        process.wait(timeout=10)
