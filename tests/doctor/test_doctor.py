"""`solo doctor` and the probes it runs: real model runtimes pass on this machine, and a
runtime that crashes is reported as a failure with its signal and cause."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from solo_actors.doctor import checks
from solo_actors.doctor.checks import run_probe

REPO = Path(__file__).resolve().parents[2]
SEGFAULT = [
    sys.executable,
    "-c",
    "import sys, ctypes; print('stage: decoding', file=sys.stderr, flush=True); "
    "ctypes.string_at(0)",
]


def test_a_crashing_runtime_is_named_with_its_signal_and_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checks, "probe_command", lambda role, *args: SEGFAULT)
    result = run_probe("llm decode", "llm", "model.gguf")
    assert not result.ok
    assert result.signal == "SIGSEGV"
    assert "crashed with SIGSEGV" in result.detail and "while decoding" in result.detail
    if shutil.which("gdb"):
        assert result.crashed_in, "gdb is installed, so the crashing native frame must be named"
        assert result.crashed_in in result.detail


def test_doctor_exits_1_and_says_why_when_the_llm_runtime_crashes(
    monkeypatch: pytest.MonkeyPatch, make_config, capsys: pytest.CaptureFixture[str]
) -> None:
    from solo_actors.cli.doctor_cmd import run_doctor

    real = checks.probe_command
    monkeypatch.setattr(
        checks, "probe_command", lambda role, *a: SEGFAULT if role == "llm" else real(role, *a)
    )

    class Args:
        json = False
        only = "llm,tts"

    code = run_doctor(Args(), make_config())  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    assert code == 1
    assert "[FAIL] llm decode" in out and "SIGSEGV" in out
    assert "llama.cpp crashes on this CPU" in out  # what to do about it
    assert "[ok  ] tts synthesize" in out
    assert "1 check(s) failed: llm decode" in err


def test_doctor_passes_on_this_machine_with_the_real_models(tmp_path: Path) -> None:
    """The command a user runs: every model runtime tried in a subprocess, JSON out."""
    env = {
        "SOLO_PROFILE": "test",
        "SOLO__SOLO__VAR_DIR": str(tmp_path / "var"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "run.py", "doctor", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    findings = {finding["name"]: finding for finding in json.loads(done.stdout)}
    for name in ("llm decode", "stt transcribe", "tts synthesize", "wake word"):
        assert findings[name]["status"] == "pass", findings[name]
    assert "no AMX" in findings["llama.cpp build"]["detail"]
    assert done.returncode == 0, done.stderr
