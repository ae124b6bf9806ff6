"""Rooms benchmark: a question asked through a Wyoming satellite against the same one asked
on Solo's own microphone input; one JSON object of medians, one run.

* Satellite: a real ``wyoming-satellite`` 1.0.0 (``.peers/wyoming-satellite``, `make setup`)
  on loopback, its microphone `tests/wyoming/room_mic.py` saying "Jarvis. What is the capital
  of France?" in real time, its speaker a command that notes when the first byte of the
  answer arrives. Round trip: the end of the question's speech (its last sample written by
  the microphone) to the first reply audio at the satellite, over ``--questions`` questions.
* Local: the same question said to Solo's own microphone input, in one process kept warm,
  the way `bench_voice.py` asks its questions (frames fed in real time, end of speech the
  question's last speech sample), after the satellite's Solo has stopped.

Both use the default (headless) profile, without hot standby and without the reply cache
(the same question is asked each time), and both warm up on one untimed question. The
machine's load average is recorded. Run: ``.venv/bin/python bench/bench_rooms.py
[--questions 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import bench_voice as voice_bench  # noqa: E402
from bench.bench_voice import ISOLATED  # noqa: E402
from solo_actors.config import load_config  # noqa: E402
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, resample  # noqa: E402
from solo_actors.voice.tts import load_voice, voice_path  # noqa: E402
from tests.conftest import config_environment  # noqa: E402
from tests.voice.conftest import Speech  # noqa: E402

SATELLITE = REPO / ".peers" / "wyoming-satellite" / "bin" / "python"
QUESTION = ("Jarvis.", "What is the capital of France?")
HEARD = (
    "import sys, time; first = sys.stdin.buffer.read(1); "
    "open(sys.argv[1], 'a').write(repr(time.time()) + chr(10)); sys.stdin.buffer.read()"
)


def speech() -> np.ndarray:
    voice = load_voice(voice_path(load_config(environ={})))
    rate = voice.config.sample_rate
    parts = [np.zeros(int(0.5 * rate), np.float32)]
    for text in QUESTION:
        parts.append(np.concatenate([c.audio_float_array for c in voice.synthesize(text)]))
        parts.append(np.zeros(int(0.25 * rate), np.float32))
    return float_to_int16(resample(np.concatenate(parts[:-1]), rate, SAMPLE_RATE))


def environ(var_dir: Path) -> dict[str, str]:
    spares = {f"SOLO__ISOLATION__{n}__STANDBY": "false" for n in ("LLM", "STT", "TTS", "WAKE")}
    return {**os.environ, "SOLO__SOLO__VAR_DIR": str(var_dir), "SOLO__API__ENABLED": "false",
            "SOLO__LLM__CACHE": "false", **spares}  # fmt: skip


def lines(path: Path) -> list[float]:
    return [float(line) for line in path.read_text().split()] if path.exists() else []


def wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"bench_rooms: timed out waiting for {what}")
        time.sleep(0.05)


def satellite_round_trips(work: Path, questions: int) -> list[float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    said, heard = work / "said", work / "heard"
    room_mic = REPO / "tests" / "wyoming" / "room_mic.py"
    mic = f"{sys.executable} {room_mic} {work / 'q.raw'} {work / 'ask'} {said}"
    snd = f'{sys.executable} -c "{HEARD}" {heard}'
    satellite = subprocess.Popen(
        [str(SATELLITE), "-m", "wyoming_satellite", "--uri", f"tcp://127.0.0.1:{port}",
         "--name", "bench", "--no-zeroconf", "--mic-command", mic, "--snd-command", snd],
        stdout=subprocess.DEVNULL, stderr=(work / "satellite.log").open("w"),
        start_new_session=True,
    )  # fmt: skip
    (work / "rooms.toml").write_text(
        f'[[satellites]]\nname = "bench"\nuri = "tcp://127.0.0.1:{port}"\n'
    )
    solo = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--config", str(work / "rooms.toml")],
        env=environ(work / "var"), stdout=subprocess.DEVNULL,
        stderr=(work / "solo.log").open("w"),
    )  # fmt: skip
    try:
        wait(lambda: "Streaming audio" in (work / "satellite.log").read_text(), 180, "Solo")
        trips = []
        for index in range(questions + 1):  # the first warms the models up
            (work / "ask").touch()
            wait(lambda: len(lines(heard)) > index, 180, "the answer")  # noqa: B023
            trip = lines(heard)[index] - lines(said)[index]
            if index:
                trips.append(trip)
            time.sleep(4)  # the answer's audio plays out
        return trips
    finally:
        os.killpg(satellite.pid, signal.SIGKILL)
        solo.send_signal(signal.SIGTERM)
        solo.wait(60)


def local_first_audio(work: Path, questions: int) -> list[float]:
    overrides = {"llm.cache": False, "log.level": "error",
                 **{f"isolation.{name}.standby": False for name in ISOLATED}}  # fmt: skip
    config = load_config("headless", environ=config_environment(work / "local", overrides))
    turns = voice_bench.Turns(work / "turns.jsonl")
    # The speaker prints its JSON lines on stdout: keep them in a file.
    real_stdout, sys.stdout = sys.stdout, turns.path.open("w", buffering=1)
    try:
        spoken = voice_bench.spoken_questions(
            config, Speech(config, work), turns, voice_bench.Budget(600), questions,
            reserve=0, questions=[QUESTION[1]] * questions,
        )  # fmt: skip
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    return list(spoken["first_audio"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    if not SATELLITE.exists():
        sys.exit(f"bench_rooms: {SATELLITE} is missing: run `make setup`")
    work = Path(tempfile.mkdtemp(prefix="bench-rooms-"))
    pcm = speech()
    (work / "q.raw").write_bytes(pcm.tobytes())
    trips = satellite_round_trips(work, args.questions)
    local = local_first_audio(work, args.questions)
    satellite, here = statistics.median(trips), statistics.median(local)
    print(json.dumps({
        "questions": args.questions, "load_average": os.getloadavg(),
        "satellite_end_of_speech_to_first_audio_s": {"median": round(satellite, 3),
                                                     "runs": [round(t, 3) for t in trips]},
        "local_end_of_speech_to_first_audio_s": {"median": round(here, 3),
                                                 "runs": [round(t, 3) for t in local]},
        "satellite_over_local": round(satellite / here, 3),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
