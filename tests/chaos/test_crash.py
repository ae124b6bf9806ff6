"""A crash of the whole process: ``kill -9`` of ``python run.py`` while turns are written.

The store's promise (docs/storage.md) is that a write is durable at most one flush interval
after the store took it. A turn is acknowledged (``POST /ask`` answers 200) after the
dialogue actor told the store its row, so every turn acknowledged more than a flush
interval before the kill must be in the database, which must open cleanly on restart:
the restarted assistant is ready and serves the turns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from solo_actors.config import REPO_ROOT
from tests.conftest import config_environment, wait_for

FLUSH_MS = 50
SETTINGS = {"api.port": 0, "store.flush_interval_ms": FLUSH_MS, "llm.max_tokens": 8,
            "llm.cache": False, "dialogue.turn_timeout": 60}  # fmt: skip
START_TIMEOUT = 120.0
ACKS_BEFORE_KILL = 4
DURABLE_AFTER = 10 * FLUSH_MS / 1000
"""A turn acknowledged this long before the kill must be in the database: the flush interval,
with a margin for a busy CPU."""
OLD_ACKS = 2
"""Acknowledged turns that must be that old at the kill, so the test checks some."""


def start_run(var_dir: Path) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(config_environment(var_dir, SETTINGS))
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "--profile", "test"],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


class Api:
    """The running assistant's URL and admin token, read from its var/ once it is up."""

    def __init__(self, var_dir: Path, process: subprocess.Popen[bytes]) -> None:
        url_file, token_file = var_dir / "api" / "url", var_dir / "api" / "admin.token"

        def up() -> bool:
            assert process.poll() is None, f"run.py exited with {process.returncode}"
            return url_file.exists() and token_file.exists() and bool(url_file.read_text())

        wait_for(up, "run.py to serve its API", timeout=START_TIMEOUT)
        self.url = url_file.read_text().strip()
        self.headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    def ask(self, text: str) -> requests.Response:
        return requests.post(self.url + "/ask", json={"text": text}, headers=self.headers,
                             timeout=90)  # fmt: skip


def test_kill_9_during_writes_loses_at_most_the_flush_interval(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    process = start_run(var_dir)
    acknowledged: list[tuple[str, float]] = []  # (turn id, when its answer came)
    stop = threading.Event()

    def write_turns(api: Api) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                answer = api.ask(f"Say the word number {number}.")
            except requests.RequestException:
                return  # the process is gone: this turn was never acknowledged
            if answer.status_code == 200 and answer.json()["error"] is None:
                acknowledged.append((answer.json()["turn_id"], time.monotonic()))

    try:
        api = Api(var_dir, process)
        writers = [threading.Thread(target=write_turns, args=(api,)) for _ in range(2)]
        for writer in writers:
            writer.start()

        def old_enough() -> bool:
            now = time.monotonic()
            old = sum(now - at > DURABLE_AFTER for _, at in acknowledged)
            return len(acknowledged) >= ACKS_BEFORE_KILL and old >= OLD_ACKS

        # Not at the 4th answer: on a loaded machine the answers can come in a burst, none
        # of them a flush interval old when the kill follows at once.
        wait_for(old_enough, "turns acknowledged long enough ago", timeout=START_TIMEOUT)
        os.kill(process.pid, signal.SIGKILL)  # turns still being written and answered
        killed_at = time.monotonic()
        stop.set()
        for writer in writers:
            writer.join(timeout=100)
    finally:
        process.kill()
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    durable = {turn for turn, at in acknowledged if killed_at - at > DURABLE_AFTER}
    assert len(durable) >= OLD_ACKS

    (var_dir / "api" / "url").unlink()  # the killed run's (a kill -9 leaves it behind)
    restarted = start_run(var_dir)
    try:
        api = Api(var_dir, restarted)
        wait_for(lambda: requests.get(api.url + "/ready", timeout=10).ok, "ready", timeout=60)
        rows = requests.get(api.url + "/turns", params={"limit": 1000}, headers=api.headers,
                            timeout=30)  # fmt: skip
        assert rows.ok, rows.text
        stored = {turn["turn_id"] for turn in rows.json()["turns"]}
        assert durable - stored == set()
        assert api.ask("Are you back?").json()["error"] is None  # and it writes again
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(60) == 0
    finally:
        restarted.kill()
        restarted.wait(30)
