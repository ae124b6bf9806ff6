"""No orphan survives: an isolated child dies with its parent, even a SIGKILLed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

PARENT = """
import sys, time
sys.path.insert(0, {probe_dir!r})
from isolated_probe import Probe
from supervisors import ChildSpec, SupFlags, ask, start_supervisor

if __name__ == "__main__":
    spec = ChildSpec("probe", Probe.start, name="probe", isolation="process")
    start_supervisor(SupFlags(), [spec])
    print(ask("probe", ["pid"], timeout=60), flush=True)
    time.sleep(600)
"""


def dead(pid: int) -> bool:
    """``pid`` is gone or a zombie (dead, waiting for init to reap it)."""
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(probe_dir=str(Path(__file__).parent)))
    repo = Path(__file__).parents[2]
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"the parent did not start its child: {line!r}"
        child = int(line)
        assert psutil.Process(child).ppid() == parent.pid
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while not dead(child):
            assert time.monotonic() < deadline, f"child {child} outlived its killed parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
