"""Run a probe (`solo_actors.doctor.probe`) in a subprocess and say what happened.

A probe that dies by a signal is the finding this module exists for. Its cause is read from
the probe's last stage line, and, when gdb is installed, from a backtrace of a second run
under gdb, which names the native function and library that crashed (for example
``ggml_backend_amx_mul_mat`` in ``libggml-cpu.so``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT_S = 180.0
"""A cold load of the default models takes seconds; minutes means something hangs."""

GDB_TIMEOUT_S = 240.0

_FRAME = re.compile(r"^#0\s+(?:0x[0-9a-f]+ in )?(?P<function>\S+).*?(?: from (?P<library>\S+))?$")


@dataclass(frozen=True)
class ProbeResult:
    """What one probe run showed: passed, failed with a cause, or crashed by a signal."""

    name: str
    ok: bool
    detail: str
    signal: str | None = None
    """The signal that ended the probe (``SIGSEGV``, ``SIGILL`` ...), if it crashed."""
    crashed_in: str | None = None
    """``function (library)`` at the top of the native stack, when gdb could say."""


def probe_command(role: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "solo_actors.doctor.probe", role, *args]


def run_probe(name: str, role: str, *args: str, backtrace: bool = True) -> ProbeResult:
    """Run one probe; on a crash, name the signal, the stage and (with gdb) the frame."""
    command = probe_command(role, *args)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, env=_probe_env()
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(name, False, f"no answer within {PROBE_TIMEOUT_S:.0f} s (hung)")
    last_stage = _last_stage(done.stderr)
    if done.returncode < 0:
        signame = _signal_name(-done.returncode)
        crashed_in = native_frame(command) if backtrace else None
        where = f" in {crashed_in}" if crashed_in else ""
        detail = f"the process crashed with {signame}{where} while {last_stage or 'starting'}"
        return ProbeResult(name, False, detail, signal=signame, crashed_in=crashed_in)
    result = _result_line(done.stdout)
    if result is not None:
        return ProbeResult(name, bool(result.get("ok")), str(result.get("detail", "")))
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return ProbeResult(
        name, False, f"exited {done.returncode} while {last_stage or 'starting'}: {tail}"
    )


def native_frame(command: list[str]) -> str | None:
    """``function (library)`` where `command` crashes, from gdb's backtrace; None without gdb."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return None
    try:
        done = subprocess.run(
            [gdb, "-q", "-batch", "-ex", "run", "-ex", "bt 1", "--args", *command],
            capture_output=True,
            text=True,
            timeout=GDB_TIMEOUT_S,
            env=_probe_env(),
        )
    except subprocess.TimeoutExpired:
        return None
    for line in done.stdout.splitlines():
        match = _FRAME.match(line.strip())
        if match:
            library = match["library"]
            return f"{match['function']} ({Path(library).name})" if library else match["function"]
    return None


def _probe_env() -> dict[str, str]:
    # The probe imports solo_actors from the same tree as the caller, installed or not.
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{path}" if path else root}


def _last_stage(stderr: str) -> str | None:
    stages = [line[len("stage: ") :] for line in stderr.splitlines() if line.startswith("stage: ")]
    return stages[-1] if stages else None


def _result_line(stdout: str) -> dict[str, object] | None:
    for line in reversed(stdout.splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "ok" in value:
            return value
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
