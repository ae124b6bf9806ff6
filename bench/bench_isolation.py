"""Benchmark process isolation: the cost of crossing the pipe, and model restarts.

Prints one JSON object:

* ``crossing``: a tell to an isolated actor vs to the same actor in-process (N tells then
  one ask that drains them: time per tell), an ask round trip both ways, and the stream
  the llm's tokens take: an isolated actor telling N `LLMToken`s to a name in the parent
  vs an in-process one doing the same (time per token, until the last one arrived). Every
  figure is a median over ``--rounds`` with the ratio isolated / in-process.
* ``restarts``: for llm, stt, tts and wake with the shipped config (the headless profile),
  the time from a SIGKILL of the actor's process to its replacement running, without a
  hot standby (``cold``: a new process reloads the model; ``process_start_s`` is the
  stand-in's spawn-to-``on_start``-done) and with one (``standby``: the ready spare is
  adopted; each kill waits for the spare to be ready), with the ratio cold / standby and
  the spare's memory (RSS, PSS: its share of pages shared with the child, e.g. an mmapped
  model, USS: its own); and, for reference, an in-process operator restart
  (``cycle_child``), which reuses models cached in the process where the actor has such
  a cache (the llm).
* the load average at the start and the end (the machine may be shared).

Usage: python bench/bench_isolation.py [--tells N] [--tokens N] [--asks N] [--rounds N]
       [--restarts N] [--skip-restarts] [--skip-crossing] [--actors llm,stt,tts,wake]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
import psutil

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.llm import child_spec as llm_spec
from solo_actors.messages import LLMToken
from solo_actors.runtime.codec import MESSAGE_CODEC
from solo_actors.voice.options import RunOptions
from solo_actors.voice.tree import voice_children

TIMEOUT = 300.0


class Counter(supervisors.SupervisedActor):
    """Counts tells; ``"count"`` asks for the count; ``["stream", name, n]`` tells ``name``
    n tokens, as the llm streams a reply."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, LLMToken):
            self.count += 1
            return None
        if message == "count":
            return self.count
        if isinstance(message, list) and message[0] == "stream":
            _, name, tokens = message
            for index in range(tokens):
                supervisors.tell(name, LLMToken(request_id="bench", text=" word", index=index))
            return tokens
        return message


class Sink(supervisors.SupervisedActor):
    """Receives the streamed tokens in the parent; sets ``done`` at the last one."""

    def __init__(self, expected: int, done: threading.Event) -> None:
        super().__init__()
        self.expected = expected
        self.done = done
        self.seen = 0

    def on_receive(self, message: Any) -> None:
        self.seen += 1
        if self.seen == self.expected:
            self.done.set()


def start(isolation: str) -> supervisors.SupervisorRef:
    spec = supervisors.ChildSpec(
        "counter",
        Counter.start,
        name="counter",
        isolation=isolation,  # type: ignore[arg-type]
        process=supervisors.ProcessOptions(codec=MESSAGE_CODEC),
    )
    return supervisors.start_supervisor(supervisors.SupFlags(), [spec], name=f"bench-{isolation}")


def per_tell(tells: int) -> float:
    token = LLMToken(request_id="bench", text=" word", index=0)
    before = supervisors.ask("counter", "count", timeout=TIMEOUT)
    started = time.perf_counter()
    for _ in range(tells):
        supervisors.tell("counter", token)
    after = supervisors.ask("counter", "count", timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    assert after - before == tells
    return elapsed / tells


def per_ask(asks: int) -> float:
    samples = []
    for _ in range(asks):
        started = time.perf_counter()
        supervisors.ask("counter", "ping", timeout=TIMEOUT)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def per_streamed_token(tokens: int) -> float:
    done = threading.Event()
    sink = Sink.start(tokens, done)
    supervisors.default_registry.register("bench-sink", sink)
    try:
        started = time.perf_counter()
        supervisors.tell("counter", ["stream", "bench-sink", tokens])
        if not done.wait(TIMEOUT):
            raise TimeoutError("the streamed tokens did not all arrive")
        return (time.perf_counter() - started) / tokens
    finally:
        supervisors.default_registry.unregister("bench-sink", sink)
        sink.stop()


def crossing(tells: int, tokens: int, asks: int, rounds: int) -> dict[str, Any]:
    figures: dict[str, dict[str, list[float]]] = {}
    for isolation in ("thread", "process"):
        root = start(isolation)
        try:
            per_tell(min(tells, 1000))  # warm-up
            samples = figures.setdefault(isolation, {"tell": [], "ask": [], "stream": []})
            for _ in range(rounds):
                samples["tell"].append(per_tell(tells))
                samples["ask"].append(per_ask(asks))
                samples["stream"].append(per_streamed_token(tokens))
        finally:
            root.stop()
    result: dict[str, Any] = {}
    for what in ("tell", "ask", "stream"):
        local = statistics.median(figures["thread"][what])
        isolated = statistics.median(figures["process"][what])
        result[what] = {
            "in_process_us": round(local * 1e6, 2),
            "isolated_us": round(isolated * 1e6, 2),
            "overhead_us": round((isolated - local) * 1e6, 2),
            "ratio": round(isolated / local, 2),
        }
    return result


def restart_times(config: Config, restarts: int, actors: list[str]) -> dict[str, Any]:
    specs = {spec.id: spec for spec in voice_children(config, RunOptions())}
    specs["llm"] = llm_spec(config)
    result: dict[str, Any] = {}
    for name in actors:
        spec = specs[name]
        assert spec.isolation == "process", f"{name} is not isolated in the shipped config"
        cold = isolated_restarts(with_standby(spec, False), restarts)
        standby = isolated_restarts(with_standby(spec, True), restarts)
        result[name] = {
            "cold": cold,
            "standby": standby,
            "cold_over_standby": round(cold["kill_to_running_s"] / standby["kill_to_running_s"], 1),
            "in_process_cycle_s": in_process_cycle(
                msgspec.structs.replace(spec, isolation="thread"), restarts
            ),
        }
    return result


def with_standby(spec: supervisors.ChildSpec, standby: bool) -> supervisors.ChildSpec:
    options = msgspec.structs.replace(spec.process_options, standby=standby)
    return msgspec.structs.replace(spec, process=options)


def spare_memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of the spare process ``pid``, in MiB."""
    info = psutil.Process(pid).memory_full_info()
    return {key: round(getattr(info, key) / 2**20, 1) for key in ("rss", "pss", "uss")}


def wait_for(root: supervisors.SupervisorRef, path: str, ready: Any) -> supervisors.NodeStatus:
    """The node at ``path`` once ``ready(node)`` holds."""
    deadline = time.perf_counter() + TIMEOUT
    while True:
        node = root.status().find(path)
        assert node is not None
        if ready(node):
            return node
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{path} did not get there")
        time.sleep(0.002)


def replaced(node: supervisors.NodeStatus, old: int | None) -> bool:
    """The child runs again, in another process than ``old``."""
    return node.state == "running" and node.pid not in (None, old)


def isolated_restarts(spec: supervisors.ChildSpec, restarts: int) -> dict[str, Any]:
    standby = spec.process_options.standby
    flags = supervisors.SupFlags(intensity=restarts + 1, period=3600)
    first = time.perf_counter()
    root = supervisors.start_supervisor(flags, [spec], name=f"bench-{spec.id}")
    cold = time.perf_counter() - first
    path = f"bench-{spec.id}/{spec.id}"
    kill_to_running, process_start = [], []
    spare: dict[str, float] = {}
    try:
        for _ in range(restarts):
            if standby:  # the spare is ready: the restart adopts it
                node = wait_for(root, path, lambda node: node.spare_pid is not None)
                assert node.spare_pid is not None
                spare = spare or spare_memory_mb(node.spare_pid)
            node = wait_for(root, path, lambda node: node.pid is not None)
            old = node.pid
            killed = time.perf_counter()
            os.kill(old, signal.SIGKILL)  # type: ignore[arg-type]
            node = wait_for(root, path, functools.partial(replaced, old=old))
            kill_to_running.append(time.perf_counter() - killed)
            assert node.figures["adopted"] is standby
            process_start.append(float(node.figures["process_start_s"]))
        rss = root.status().find(path).figures.get("rss_mb")  # type: ignore[union-attr]
    finally:
        root.stop()
    result = {
        "first_start_s": round(cold, 3),
        "kill_to_running_s": round(statistics.median(kill_to_running), 3),
        "samples_s": [round(sample, 3) for sample in kill_to_running],
        "rss_mb": rss,
    }
    if standby:
        result["spare_mb"] = spare
    else:
        result["process_start_s"] = round(statistics.median(process_start), 3)
    return result


def in_process_cycle(spec: supervisors.ChildSpec, restarts: int) -> float:
    root = supervisors.start_supervisor(supervisors.SupFlags(), [spec], name=f"bench-{spec.id}")
    samples = []
    try:
        for _ in range(restarts):
            started = time.perf_counter()
            root.cycle_child(spec.id)
            samples.append(time.perf_counter() - started)
    finally:
        root.stop()
    return round(statistics.median(samples), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tells", type=int, default=20_000)
    parser.add_argument("--tokens", type=int, default=5_000)
    parser.add_argument("--asks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--skip-restarts", action="store_true")
    parser.add_argument("--skip-crossing", action="store_true")
    parser.add_argument("--actors", default="llm,stt,tts,wake", help="restarts of these")
    args = parser.parse_args()
    result: dict[str, Any] = {"load_average_start": os.getloadavg()}
    if not args.skip_crossing:
        result["crossing"] = crossing(args.tells, args.tokens, args.asks, args.rounds)
    if not args.skip_restarts:
        with tempfile.TemporaryDirectory() as var_dir:
            config = load_config("headless", environ={"SOLO__SOLO__VAR_DIR": var_dir})
            result["restarts"] = restart_times(config, args.restarts, args.actors.split(","))
    result["load_average_end"] = os.getloadavg()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
