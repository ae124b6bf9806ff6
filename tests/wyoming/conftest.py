"""Wyoming test fixtures: a running Solo serving Wyoming, and the reference library's client.

`solo_server` starts the real assistant, ``python run.py --wyoming`` on the default
(headless) profile, its default models and process isolation, once per module, and stops it
with SIGTERM. Speech comes from the voice tests' Piper fixtures. Everything that talks to
Solo uses the PyPI ``wyoming`` library's own client (`wyoming.client.AsyncTcpClient`), never
a client written here; only the bad-input tests write raw bytes, which is their point.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.tts import Synthesize

from solo_actors.config import REPO_ROOT
from tests.conftest import config_environment
from tests.voice.conftest import TEST_THREADS, hear, session_dir, speech  # noqa: F401 (fixtures)

T = TypeVar("T")

STARTUP_TIMEOUT = 180.0
REPLY_TIMEOUT = 120.0
WRITE_TIMEOUT = 2.0
"""wyoming.write_timeout in these tests: a peer that stops reading is cut quickly."""


def run_async(coroutine: Coroutine[Any, Any, T], timeout: float = 300.0) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


@dataclass
class SoloServer:
    """A running ``run.py --wyoming``: where it listens and where its state lives."""

    host: str
    port: int
    var_dir: Path
    process: subprocess.Popen[bytes]

    def client(self) -> AsyncTcpClient:
        return AsyncTcpClient(self.host, self.port)

    def reports(self) -> list[dict[str, Any]]:
        """The supervisor reports written so far (var/log/reports*.jsonl)."""
        lines = []
        for path in sorted((self.var_dir / "log").glob("reports*.jsonl")):
            lines += [json.loads(line) for line in path.read_text().splitlines() if line]
        return lines

    def trouble(self) -> list[dict[str, Any]]:
        """Reports of anything but a start: an actor that exited, restarted, gave up."""
        return [report for report in self.reports() if report["kind"] != "start"]


def start_solo(var_dir: Path, *args: str, **overrides: object) -> SoloServer:
    settings = {
        **TEST_THREADS,
        "wyoming.uri": "tcp://127.0.0.1:0",
        "wyoming.write_timeout": WRITE_TIMEOUT,
        "api.enabled": False,
        # One process per model, no spare: the suite shares a small machine.
        **{f"isolation.{name}.standby": False for name in ("llm", "stt", "tts", "wake")},
        **overrides,
    }
    environ = {**os.environ, **config_environment(var_dir, settings)}
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "--wyoming", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    uri_file = var_dir / "wyoming" / "uri"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not uri_file.exists():
        if process.poll() is not None:
            errors = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"run.py --wyoming exited with {process.returncode}: {errors[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"run.py --wyoming did not listen within {STARTUP_TIMEOUT:g} s")
        time.sleep(0.1)
    host, port = uri_file.read_text().strip().removeprefix("tcp://").rsplit(":", 1)
    return SoloServer(host, int(port), var_dir, process)


def stop_solo(server: SoloServer) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(60)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        pytest.fail("run.py --wyoming did not stop within 60 s of SIGTERM")


@pytest.fixture(scope="module")
def solo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoloServer]:
    server = start_solo(tmp_path_factory.mktemp("wyoming") / "var")
    yield server
    stop_solo(server)


async def exchange(
    client: AsyncTcpClient, events: list[Event], until: set[str], timeout: float = REPLY_TIMEOUT
) -> list[Event]:
    """Write ``events``, then read until an event whose type is in ``until`` (included)."""
    for event in events:
        await client.write_event(event)
    return await read_until(client, until, timeout)


async def synthesize(server: SoloServer, text: str) -> tuple[bytes, int]:
    """``text`` said by Solo's tts through Wyoming: 16-bit mono audio and its rate."""
    async with server.client() as client:
        events = await exchange(client, [Synthesize(text=text).event()], {"audio-stop", "error"})
    assert [e.type for e in events[:1] + events[-1:]] == ["audio-start", "audio-stop"], events[-1]
    chunks = [AudioChunk.from_event(e) for e in events if e.type == "audio-chunk"]
    assert {(c.width, c.channels) for c in chunks} == {(2, 1)}
    return b"".join(c.audio for c in chunks), chunks[0].rate


async def read_until(client: AsyncTcpClient, until: set[str], timeout: float) -> list[Event]:
    received: list[Event] = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        assert event is not None, f"the server closed the connection after {received}"
        received.append(event)
        if event.type in until:
            return received
