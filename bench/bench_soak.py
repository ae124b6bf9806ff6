"""Soak: continuous turns through a real ``run.py`` for N minutes, sampling its resources.

The assistant runs as in production, in its own process (test profile: the tiny model, a
temporary var/, the api on a free port); this process sends ``POST /ask`` turns one after
the other and, every ``--every`` seconds, samples RSS, threads and fds of the assistant's
process and of each of its child processes (isolated actors). Prints one JSON object: the
samples (the curve), and per process, over the time after the warm-up: the trend (the
least-squares line's rise, in % of its start: what a leak moves and a single high or low
sample does not) and the growth (median of the last three samples against the first three
after the warm-up), and the growth from the start. The warm-up (default 10 minutes) is
when the processes fill what they keep, up to its bounds: the first turn opens LanceDB and
DuckDB, loads the models and starts the thread pools (the assistant's process grew 685 ->
865 MB in the first 3 minutes of an in-process run), and the llm parks the KV cells of
idle conversations in its snapshot store (``llm.kv_snapshot_mb``), which grows with their
histories (the isolated llm grew 286 -> 611 MB in 9 minutes, then stayed between 554 and
671 MB).

Voice turns flow at the same time: the assistant listens (``--input FILE --realtime``) to a
recording as long as the run, a spoken question ("Jarvis. <question>") every
``VOICE_EVERY_S`` seconds, and writes each spoken reply to a WAV file; its JSON line per
turn (stdout) is how voice turns are counted. So wake, vad, stt and tts work all along,
not only the llm.

``--isolated`` runs llm, stt, tts and wake in their own processes, as the default profile
does (with their standby spares), so each process's curve is sampled; those processes are
named after their child (``llm:PID``, ``stt:PID``; a spare shows as a second one).

Usage: python bench/bench_soak.py [--minutes 30] [--every 10] [--warm-up 10] [--isolated]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from solo_actors.config import load_config
from solo_actors.voice.audio import SAMPLE_RATE, write_wav
from tests.voice.conftest import Speech

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {"SOLO__API__PORT": "0", "SOLO__LLM__MAX_TOKENS": "24", "SOLO__LLM__CACHE": "false",
            # A small snapshot store is full within the warm-up and evicts all along after it,
            # so a leak there shows; the default (256 MB) outlasts a soak's histories.
            "SOLO__LLM__KV_SNAPSHOT_MB": "32"}  # fmt: skip


ISOLATED = ("llm", "stt", "tts", "wake")


VOICE_EVERY_S = 12.0
QUESTIONS = ("What is the capital of France?", "How many legs does a spider have?",
             "Who wrote Romeo and Juliet?", "What is two plus two?")  # fmt: skip


def recording(folder: Path, minutes: float) -> Path:
    """A WAV of spoken questions, one every ``VOICE_EVERY_S`` seconds, lasting `minutes`."""
    config = load_config("test", environ={"SOLO__SOLO__VAR_DIR": str(folder / "speech-var")})
    speech = Speech(config, folder)
    clips = []
    for question in QUESTIONS:
        clip = speech.clip(0.3, "Jarvis.", 0.25, question)
        clips.append(np.concatenate([clip, np.zeros(int(VOICE_EVERY_S * SAMPLE_RATE) - len(clip),
                                                    np.int16)]))  # fmt: skip
    count = math.ceil(minutes * 60 / VOICE_EVERY_S)
    path = folder / "questions.wav"
    write_wav(path, np.concatenate([clips[i % len(clips)] for i in range(count)]), SAMPLE_RATE)
    return path


def start(
    var_dir: Path, isolated: bool, voice: Path, replies: Path, turn_lines: Path
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(SETTINGS, SOLO__SOLO__VAR_DIR=str(var_dir))
    if isolated:
        environ.update({f"SOLO__ISOLATION__{name.upper()}__MODE": "process" for name in ISOLATED})
    command = [sys.executable, str(REPO / "run.py"), "--profile", "test",
               "--input", str(voice), "--realtime", "--output-dir", str(replies)]  # fmt: skip
    with turn_lines.open("wb") as lines:
        process = subprocess.Popen(command, env=environ, stdout=lines, stderr=subprocess.DEVNULL)
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
        try:
            with proc.oneshot():
                out[name] = {"rss_mb": round(proc.memory_info().rss / 2**20, 1),
                             "threads": proc.num_threads(), "fds": proc.num_fds()}  # fmt: skip
        except psutil.NoSuchProcess:
            continue  # it ended between the listing and the reading (a restart, say)
    return out


def series(
    samples: list[dict[str, Any]], name: str, key: str, since: float
) -> list[tuple[float, float]]:
    return [(s["t"], s[name][key]) for s in samples if name in s and s["t"] >= since]


def growth(samples: list[dict[str, Any]], name: str, key: str, since: float) -> float | None:
    """% change of ``key`` of process ``name`` from time ``since`` (s) to the end: the median
    of the last three samples against that of the first three."""
    values = [value for _, value in series(samples, name, key, since)]
    if len(values) < 6:
        return None
    first, last = statistics.median(values[:3]), statistics.median(values[-3:])
    return round(100 * (last - first) / first, 2) if first else None


def trend(samples: list[dict[str, Any]], name: str, key: str, since: float) -> float | None:
    """The least-squares line through ``key`` from time ``since`` (s) to the end: its rise
    over that span in % of its start. Unlike `growth`, one high or low sample at either
    end (a cache evicting, a long sentence's buffers) barely moves it; a leak does."""
    points = series(samples, name, key, since)
    if len(points) < 6:
        return None
    times, values = zip(*points, strict=True)
    slope, intercept = statistics.linear_regression(times, values)
    start = intercept + slope * times[0]
    return round(100 * slope * (times[-1] - times[0]) / start, 2) if start else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--warm-up", type=float, default=10.0, help="minutes not counted")
    parser.add_argument("--isolated", action="store_true", help="llm, stt, tts, wake apart")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # The recording outlasts the run, so the assistant is still listening at the end.
        voice = recording(folder, args.minutes + 2)
        turn_lines = folder / "turns.jsonl"
        process, url, headers = start(folder / "var", args.isolated, voice, folder / "replies",
                                      turn_lines)  # fmt: skip
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
        spoken = [json.loads(line) for line in turn_lines.read_text().splitlines()
                  if line.startswith("{")]  # fmt: skip
        turns["voice_answered"] = sum(1 for line in spoken if line.get("error") is None)
        turns["voice_errors"] = len(spoken) - turns["voice_answered"]
    names = sorted({name for s in samples for name in s if name != "t"})
    print(json.dumps({
        "minutes": args.minutes,
        "warm_up_minutes": args.warm_up,
        "isolated": args.isolated,
        "turns": turns,
        "trend_percent": {name: {key: trend(samples, name, key, args.warm_up * 60)
                                 for key in ("rss_mb", "threads", "fds")} for name in names},
        "growth_percent": {name: {key: growth(samples, name, key, args.warm_up * 60)
                                  for key in ("rss_mb", "threads", "fds")} for name in names},
        "growth_percent_from_start": {name: {key: growth(samples, name, key, 0.0)
                                             for key in ("rss_mb", "threads", "fds")}
                                      for name in names},
        "exit_code": process.returncode,
        "load_average": os.getloadavg(),
        "samples": samples,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
