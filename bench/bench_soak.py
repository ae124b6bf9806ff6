"""Soak: continuous turns through a real ``run.py`` for N minutes, sampling its resources.

The assistant runs as in production, in its own process (test profile: the tiny model, a
temporary var/, the api on a free port); this process only sends ``POST /ask`` turns one
after the other and, every ``--every`` seconds, samples RSS, threads and fds of the
assistant's process and of each of its child processes (isolated actors). Prints one JSON
object: the samples (the curve), and per process the growth from the first sample after
warm-up (median of the first three) to the end (median of the last three), in %.

Usage: python bench/bench_soak.py [--minutes 30] [--every 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {"SOLO__API__PORT": "0", "SOLO__LLM__MAX_TOKENS": "24", "SOLO__LLM__CACHE": "false"}


def start(var_dir: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(SETTINGS, SOLO__SOLO__VAR_DIR=str(var_dir))
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--profile", "test"],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url_file, token_file = var_dir / "api" / "url", var_dir / "api" / "admin.token"
    deadline = time.monotonic() + 180
    while not (url_file.exists() and token_file.exists() and url_file.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"run.py did not start (exit {process.returncode})")
        time.sleep(0.2)
    token = token_file.read_text().strip()
    return process, url_file.read_text().strip(), {"Authorization": f"Bearer {token}"}


def sample(pid: int, since: float) -> dict[str, Any]:
    main = psutil.Process(pid)
    processes = {"main": main}
    for child in main.children(recursive=True):
        processes[f"{child.name()}:{child.pid}"] = child
    out: dict[str, Any] = {"t": round(time.monotonic() - since, 1)}
    for name, proc in processes.items():
        with proc.oneshot():
            out[name] = {"rss_mb": round(proc.memory_info().rss / 2**20, 1),
                         "threads": proc.num_threads(), "fds": proc.num_fds()}  # fmt: skip
    return out


def growth(samples: list[dict[str, Any]], name: str, key: str) -> float | None:
    values = [s[name][key] for s in samples if name in s]
    if len(values) < 6:
        return None
    first, last = statistics.median(values[:3]), statistics.median(values[-3:])
    return round(100 * (last - first) / first, 2) if first else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, url, headers = start(Path(folder) / "var")
        stop = threading.Event()
        turns = {"answered": 0, "errors": 0}

        def talk() -> None:
            with requests.Session() as session:
                number = 0
                while not stop.is_set():
                    number += 1
                    body = {"text": f"Tell me one fact about the number {number}.",
                            "conversation_id": f"soak-{number % 8}"}  # fmt: skip
                    answer = session.post(url + "/ask", json=body, headers=headers, timeout=180)
                    ok = answer.status_code == 200 and answer.json().get("error") is None
                    turns["answered" if ok else "errors"] += 1

        talker = threading.Thread(target=talk)
        talker.start()
        began = time.monotonic()
        samples = []
        try:
            while time.monotonic() - began < args.minutes * 60:
                samples.append(sample(process.pid, began))
                time.sleep(args.every)
            samples.append(sample(process.pid, began))
        finally:
            stop.set()
            talker.join(200)
            process.terminate()
            process.wait(60)
    names = sorted({name for s in samples for name in s if name != "t"})
    print(json.dumps({
        "minutes": args.minutes,
        "turns": turns,
        "growth_percent": {name: {key: growth(samples, name, key)
                                  for key in ("rss_mb", "threads", "fds")} for name in names},
        "exit_code": process.returncode,
        "load_average": os.getloadavg(),
        "samples": samples,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
