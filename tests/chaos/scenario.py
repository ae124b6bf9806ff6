"""The chaos scenario: the whole assistant under load while faults are injected at random.

`ChaosRun` starts Solo's real tree (test profile, tiny model, real API on a free port, the
voice pipeline writing replies to files), lets text asks flow through ``POST /ask`` and WAV
turns through the voice path (frames asked of the wake actor one at a time, as the mic
does), and meanwhile a seeded `FaultInjector` crashes or hangs one actor every 0.5 s. When
the faults stop it measures what the checks need: every request's outcome and latency, the
time until the tree runs again, the supervisor reports against the injections, threads,
processes and file descriptors against the baseline, and the store against the turns it
acknowledged. The test (``test_chaos.py``, 10 s) asserts on them; ``bench/bench_chaos.py``
(60 s) prints them as JSON.

The restart intensities are raised for the run (config, not code): two faults a second is
far past the production limits, which would rightly escalate; ``test_escalation.py``
covers that.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any, Literal

import psutil
import pykka
import requests

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.messages import AudioFrame, Flush, ReadRows, Rows, TurnDone
from solo_actors.names import ROOT_NAME
from solo_actors.reports import ReportForwarder
from solo_actors.runtime.tree import root_children, root_flags
from solo_actors.voice.audio import SAMPLE_RATE, frames_of, read_wav
from solo_actors.voice.options import RunOptions
from tests.chaos.injector import FaultInjector
from tests.conftest import config_environment

TARGETS = ["llm", "dialogue", "agents", "memory", "vad", "wake", "stt", "tts", "speaker"]
"""Actors the injector picks from. Not the store (the single writer: its crash loses the
rows it buffered, covered by tests/store and the kill -9 test), reports, the api (the
harness's own way in) or the mic (no device here; the harness plays its part)."""


VOICE_COLLECTOR = "chaos-voice"
"""Registered name told every finished voice turn (added to ``voice.tts.report_to``)."""

SETTINGS: dict[str, object] = {
    "api.port": 0,
    "supervisor.intensity": 1_000,
    "supervisor.period": 1.0,
    "voice.intensity": 1_000,
    "voice.period": 1.0,
    "dialogue.turn_timeout": 8,
    "api.ask_timeout": 10,
    "llm.max_tokens": 16,
    "llm.cache": False,
    "llm.n_threads": 1,
    "voice.stt.threads": 1,
    "voice.tts.report_to": f'["store", "{VOICE_COLLECTOR}"]',
}
TEXT_TIMEOUT = 20.0
"""Client timeout of one /ask: above api.ask_timeout, so the server always answers first."""
VOICE_TIMEOUT = 30.0
"""How long a voice turn may take from its last frame to its TurnDone."""
RECOVERY_LIMIT = 2.0

RESOURCE_COUNTS = ("threads", "fds", "processes", "actors")

Status = Literal["answered", "error", "lost"]


@dataclass
class Request:
    kind: Literal["text", "voice"]
    started: float
    ended: float = 0.0
    status: Status = "lost"
    turn_id: str | None = None
    detail: str = ""
    disturbed: bool = False
    """Voice: a frame was refused at the input (wake down or busy), so the wake word or
    the speech may never have arrived; a missing turn is then the clear error itself."""


def tree_nodes(node: supervisors.NodeStatus) -> list[supervisors.NodeStatus]:
    return [node, *(n for child in node.children for n in tree_nodes(child))]


def not_running(root: supervisors.SupervisorRef) -> list[str]:
    return [n.path for n in tree_nodes(root.status()) if n.state != "running"]


def thread_kinds(names: tuple[str, ...]) -> Counter[str]:
    """Threads by kind: names without the serial pykka or an executor appends."""
    return Counter(re.sub(r"[-_]\d+$", "", name) for name in names)


LANCE_FRAGMENT = re.compile(r"\.lance/data/[^/]+\.lance$")
"""A LanceDB data file: the memory actor's table keeps each fragment it has read open, so
a memory remembered during the run adds one until compaction merges them; not a leak."""
PROC_READ = re.compile(r"^/proc/\d+/")
"""Another process's /proc file: the process link reads a child's RSS from its ``statm``
each heartbeat, open for microseconds; a listing that catches one is not a leak (it did)."""


@dataclass
class Resources:
    threads: int
    fds: int
    """Open descriptors, LanceDB's data fragments and reads of /proc left out."""
    processes: int
    actors: int
    thread_names: tuple[str, ...] = ()
    fd_kinds: tuple[str, ...] = ()
    """What each open file descriptor is, so a leak names itself ("pipe", a path)."""

    @classmethod
    def now(cls) -> Resources:
        me = psutil.Process()
        # multiprocessing's resource tracker: started by the first spawn, once per process.
        tracker = resource_tracker._resource_tracker._pid  # type: ignore[attr-defined]
        fd_kinds = open_fd_kinds()
        return cls(
            thread_names=tuple(sorted(t.name for t in threading.enumerate())),
            threads=threading.active_count(),
            fds=sum(1 for k in fd_kinds if not (LANCE_FRAGMENT.search(k) or PROC_READ.match(k))),
            processes=len([p for p in me.children(recursive=True) if p.pid != tracker]),
            actors=len(pykka.ActorRegistry.get_all()),
            fd_kinds=fd_kinds,
        )


def open_fd_kinds() -> tuple[str, ...]:
    """This process's open descriptors by kind: a path, or "socket", "pipe", "anon_inode:..."
    without the inode number that differs for every new one."""
    kinds = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            kinds.append(re.sub(r":\[\d+\]$", "", os.readlink(f"/proc/self/fd/{fd}")))
    return tuple(sorted(kinds))


class ChaosRun:
    """One run of the scenario; `start`, `warm_up`, `run`, `recover`, `stop`, `figures`."""

    def __init__(
        self,
        var_dir: Path,
        wav: Path,
        seed: int,
        isolated: tuple[str, ...] = (),
        **overrides: object,
    ) -> None:
        """``isolated`` names actors run in their own process (as the default profile does),
        whose faults are signals to that process."""
        self.var_dir = var_dir
        self.wav = read_wav(wav).samples
        self.seed = seed
        processes: dict[str, object] = {f"isolation.{name}.mode": "process" for name in isolated}
        # Each with a spare loaded (hot standby), as the default profile runs them.
        processes.update({f"isolation.{name}.standby": True for name in isolated})
        self.config: Config = load_config(
            "test", environ=config_environment(var_dir, {**SETTINGS, **processes, **overrides})
        )
        self.ring = supervisors.RingBufferSink(capacity=100_000)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop_load = threading.Event()
        self._load: list[threading.Thread] = []
        targets = [*TARGETS, *(name for name in isolated if name not in TARGETS)]
        self.injector = FaultInjector(targets, seed=seed, isolated=frozenset(isolated))
        self.figures_: dict[str, Any] = {}

    # -- the tree ------------------------------------------------------------------------

    def start(self) -> None:
        supervisors.faults.enable()
        self.before_start = Resources.now()
        options = RunOptions(output_dir=str(self.var_dir / "replies"))
        forwarder = ReportForwarder(self.config.reports.pending_max)
        self.root = supervisors.start_supervisor(
            root_flags(self.config),
            root_children(self.config, options),
            name=ROOT_NAME,
            sinks=[supervisors.StructlogSink(), forwarder, self.ring],
        )
        self.voice_box = supervisors.inbox(VOICE_COLLECTOR)
        self.url = self.config.solo.var_path("api", "url").read_text().strip()
        token = self.config.solo.var_path(self.config.api.admin_token_file).read_text().strip()
        self.headers = {"Authorization": f"Bearer {token}"}

    def next_voice_done(self, timeout: float) -> TurnDone:
        """The next voice `TurnDone` tts reports; `TimeoutError` if none comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.voice_box.receive(max(0.0, deadline - time.monotonic()))
            if isinstance(message, TurnDone) and message.source == "voice":
                return message

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.root.stop()
        self.voice_box.close()
        supervisors.faults.enable(False)

    # -- load ----------------------------------------------------------------------------

    def ask_text(self, session: requests.Session, number: int) -> Request:
        request = Request("text", time.monotonic())
        body = {"text": f"Say the number {number} in one word.", "conversation_id": f"c{number}"}
        try:
            answer = session.post(self.url + "/ask", json=body, headers=self.headers,
                                  timeout=TEXT_TIMEOUT)  # fmt: skip
        except requests.RequestException as error:
            request.detail = f"no HTTP answer: {error}"
        else:
            payload = answer.json()
            request.turn_id = payload.get("turn_id")
            if answer.status_code == 200 and payload.get("error") is None:
                request.status = "answered"
            elif payload.get("error"):
                request.status, request.detail = "error", f"{answer.status_code} {payload['error']}"
            else:
                request.detail = f"{answer.status_code} without an error: {payload}"
        request.ended = time.monotonic()
        return request

    def feed_voice(self) -> Request:
        """One WAV turn: frames to wake as the mic does, then wait for its TurnDone."""
        while True:  # answers of earlier turns that came too late are not this one's
            try:
                self.next_voice_done(0)
            except TimeoutError:
                break
        request = Request("voice", time.monotonic())
        for sequence, pcm in enumerate(frames_of(self.wav)):
            frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence)
            try:
                supervisors.ask("wake", frame, timeout=5)
            except (pykka.ActorDeadError, pykka.Timeout) as error:
                request.disturbed = True
                request.detail = f"frame {sequence} refused: {type(error).__name__}"
                supervisors.whereis("wake", timeout=5)
        try:
            done = self.next_voice_done(VOICE_TIMEOUT)
        except TimeoutError:
            request.detail += " no TurnDone"
        else:
            request.turn_id = done.turn_id
            request.status = "answered" if done.error is None else "error"
            request.detail = done.error or ""
        request.ended = time.monotonic()
        return request

    def _text_loop(self, worker: int) -> None:
        with requests.Session() as session:
            number = worker * 100_000
            while not self._stop_load.is_set():
                number += 1
                self._record(self.ask_text(session, number))

    def _voice_loop(self) -> None:
        while not self._stop_load.is_set():
            self._record(self.feed_voice())

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    # -- phases --------------------------------------------------------------------------

    def warm_up(self) -> None:
        """One text and one voice turn, so models are loaded; then the baseline."""
        with requests.Session() as session:
            text = self.ask_text(session, 0)
        voice = self.feed_voice()
        assert text.status == "answered", text
        assert voice.status == "answered", voice
        self.reports_before = len(self.ring.snapshot())
        self.baseline = Resources.now()
        self.actor_threads = tuple(
            name for name in self.baseline.thread_names
            if re.search(r"(Actor|Supervisor|Collector)-\d+$", name)
            or name in ("mic-pump", "solo/api-http", "memory-open_0")
        )  # fmt: skip

    def run(self, seconds: float, text_clients: int = 3) -> None:
        """Load and faults for ``seconds``; then the load stops and in-flight requests end."""
        self._load = [
            threading.Thread(target=self._text_loop, args=(n,), name=f"chaos-text-{n}")
            for n in range(text_clients)
        ]
        self._load.append(threading.Thread(target=self._voice_loop, name="chaos-voice"))
        for thread in self._load:
            thread.start()
        self.injector.start()
        time.sleep(seconds)
        self.injector.stop()
        self.faults_stopped = time.monotonic()
        self._stop_load.set()

    def recover(self) -> None:
        """Settle the faults, time the recovery, let in-flight requests finish."""
        self.injector.resolve(timeout=30)
        quiet = time.monotonic()  # every fault has run: the last hang is over
        while not_running(self.root) and time.monotonic() - quiet < 30:
            time.sleep(0.01)
        self.recovery_s = time.monotonic() - quiet
        self.still_down = not_running(self.root)
        for thread in self._load:
            thread.join(timeout=VOICE_TIMEOUT + TEXT_TIMEOUT)
        self.load_hanging = [t.name for t in self._load if t.is_alive()]
        # Abandoned (killed) threads end when their message does; give them a moment.
        deadline = time.monotonic() + 10
        while not self.as_at_baseline(Resources.now()) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.after_recovery = Resources.now()
        with requests.Session() as session:
            self.answered_after = [self.ask_text(session, -1), self.feed_voice()]

    def as_at_baseline(self, now: Resources) -> bool:
        base = self.baseline
        return (now.fds, now.processes, now.actors) == (base.fds, base.processes, base.actors) and (
            thread_kinds(now.thread_names) == thread_kinds(base.thread_names)
        )

    def stored_turn_ids(self) -> set[str]:
        flushed = supervisors.ask("store", Flush(), timeout=30)
        assert flushed.durable, flushed
        rows = supervisors.ask("store", ReadRows(table="turns", limit=100_000), timeout=30)
        assert isinstance(rows, Rows), rows
        column = rows.columns.index("turn_id")
        return {row[column] for row in rows.rows}  # type: ignore[misc]

    def stop_and_count(self) -> None:
        self.stored = self.stored_turn_ids()
        self.stop()
        deadline = time.monotonic() + 10
        while self.left_after_stop() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.after_stop = Resources.now()

    def left_after_stop(self) -> Counter[str]:
        """Threads running after the tree stopped that were not there before it started,
        other than the process-wide ones libraries start once (present at the baseline
        too, and not actors)."""
        now = thread_kinds(Resources.now().thread_names)
        once = thread_kinds(self.baseline.thread_names) - thread_kinds(self.actor_threads)
        return now - once - thread_kinds(self.before_start.thread_names)

    # -- what happened -------------------------------------------------------------------

    def reports(self, kind: str | None = None) -> list[supervisors.Report]:
        return [r for r in self.ring.snapshot()[self.reports_before :] if kind in (None, r.kind)]

    def restart_times(self) -> dict[str, list[float]]:
        """Seconds from each exit to the next start of the same child, by child id."""
        times: dict[str, list[float]] = defaultdict(list)
        exited: dict[str, float] = {}
        for report in self.reports():
            if report.kind == "exit":
                exited[report.path] = report.monotonic
            elif report.kind == "start" and report.path in exited:
                times[report.child_id or ""].append(report.monotonic - exited.pop(report.path))
        return dict(times)

    def figures(self) -> dict[str, Any]:
        fired = self.injector.fired()
        by_status = Counter(f"{r.kind}:{r.status}" for r in self.requests)
        latencies = [r.ended - r.started for r in self.requests if r.kind == "text"]
        restart = {
            child: {"count": len(values), "median_ms": round(statistics.median(values) * 1000, 1),
                    "max_ms": round(max(values) * 1000, 1)}
            for child, values in sorted(self.restart_times().items())
        }  # fmt: skip
        return {
            "seed": self.seed,
            "injections": len(self.injector.injections),
            "fired": dict(Counter(f"{i.kind}:{i.target}" for i in fired)),
            "missed": sum(1 for i in self.injector.injections if i.outcome == "missed"),
            "requests": dict(by_status),
            "text_latency_s": {
                "median": round(statistics.median(latencies), 3) if latencies else None,
                "max": round(max(latencies), 3) if latencies else None,
            },
            "recovery_s": round(self.recovery_s, 3),
            "restart_ms_by_child": restart,
            "reports": dict(Counter(r.kind for r in self.reports())),
            "resources": {
                name: {key: getattr(snapshot, key) for key in RESOURCE_COUNTS}
                for name, snapshot in (
                    ("baseline", self.baseline),
                    ("after_recovery", self.after_recovery),
                    ("after_stop", self.after_stop),
                )
            },
        }
