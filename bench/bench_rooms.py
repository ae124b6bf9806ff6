"""Rooms benchmark: a question asked through a Wyoming satellite against the same one asked
on Solo's own microphone input; one JSON object of medians, one run.

* Satellite: a real ``wyoming-satellite`` 1.0.0 (``.peers/wyoming-satellite``, `make setup`)
  on loopback, its microphone `tests/wyoming/room_mic.py` saying "Jarvis. What is the capital
  of France?" in real time, its speaker a command that notes when the first byte of the
  answer arrives. Round trip: the end of the question's speech (its last sample written by
  the microphone) to the first reply audio at the satellite, over ``--questions`` questions.
* Local: ``run.py --input q.wav --realtime`` on the same question and models; its turn line's
  ``first_audio`` after vad's endpoint, plus ``voice.vad.silence_timeout`` (the endpoint
  comes that long after the end of speech), so both start at the end of speech.

Both use the default (headless) profile without hot standby. The machine's load average is
recorded. Run: ``.venv/bin/python bench/bench_rooms.py [--questions 3]``.
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

from solo_actors.config import load_config  # noqa: E402
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, resample, write_wav  # noqa: E402
from solo_actors.voice.tts import load_voice, voice_path  # noqa: E402

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
            **spares}  # fmt: skip


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
    silence = load_config(environ={}).voice.vad.silence_timeout
    found = []
    for index in range(questions + 1):
        result = subprocess.run(
            [sys.executable, str(REPO / "run.py"), "--input", str(work / "q.wav"), "--realtime",
             "--output-dir", str(work / f"out{index}")],
            env=environ(work / f"local{index}"), capture_output=True, text=True, timeout=300,
            check=True,
        )  # fmt: skip
        turn = next(json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))
        if index:  # the first warms the page cache up (each run loads its models)
            found.append(turn["seconds_after_speech_end"]["first_audio"] + silence)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=3)
    args = parser.parse_args()
    if not SATELLITE.exists():
        sys.exit(f"bench_rooms: {SATELLITE} is missing: run `make setup`")
    work = Path(tempfile.mkdtemp(prefix="bench-rooms-"))
    pcm = speech()
    (work / "q.raw").write_bytes(pcm.tobytes())
    write_wav(work / "q.wav", np.concatenate([pcm, np.zeros(SAMPLE_RATE, np.int16)]), SAMPLE_RATE)
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
