"""No orphan survives: an isolated child, and its hot standby's spare, die with their
parent, even a SIGKILLed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from process_checks import dead

PARENT = """
import sys, time
sys.path.insert(0, {probe_dir!r})
from isolated_probe import Probe
from supervisors import ChildSpec, ProcessOptions, SupFlags, ask, start_supervisor

if __name__ == "__main__":
    options = ProcessOptions(standby={standby})
    spec = ChildSpec("probe", Probe.start, name="probe", isolation="process", process=options)
    root = start_supervisor(SupFlags(), [spec])
    pids = [ask("probe", ["pid"], timeout=60)]
    deadline = time.monotonic() + 60
    while {standby} and root.status().children[0].spare_pid is None:
        assert time.monotonic() < deadline, "no spare"
        time.sleep(0.05)
    if {standby}:
        pids.append(root.status().children[0].spare_pid)
    print(*pids, flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("standby", [False, True], ids=["child", "child-and-spare"])
def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path, standby: bool) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(probe_dir=str(Path(__file__).parent), standby=standby))
    repo = Path(__file__).parents[2]
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().split()
        assert len(line) == 1 + standby and all(pid.isdigit() for pid in line), (
            f"the parent did not start its child (and spare): {line!r}"
        )
        pids = [int(pid) for pid in line]
        assert [psutil.Process(pid).ppid() for pid in pids] == [parent.pid] * len(pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while not all(dead(pid) for pid in pids):
            assert time.monotonic() < deadline, f"{pids} outlived their killed parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
