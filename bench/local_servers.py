"""Servers a benchmark starts on loopback (Solo, its peers): a free port, and waiting until
one listens."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

LISTEN_TIMEOUT = 180.0
"""Seconds a server may take to listen: a cold start loads its models."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Return once ``process`` listens on ``port``; exit the benchmark, saying why, if it
    ends or does not listen within `LISTEN_TIMEOUT`."""
    bench = Path(sys.argv[0]).stem
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{bench}: {what} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"{bench}: {what} did not listen within {LISTEN_TIMEOUT:g} s")
