"""Remote engines benchmark: what Solo's Wyoming client adds to a remote service's work.

``wyoming-faster-whisper`` and ``wyoming-piper`` (their venvs under ``.peers/``, built by
``make setup``) run on Solo's own model files, on this machine. For each question (STT) and
reply (TTS) three timings are taken in turn, in the same run:

* ``engine``: Solo's remote engine (`solo_actors.voice.remote.RemoteStt` / `RemoteTts`,
  which the stt and tts actors call), connection and all;
* ``raw``: the same request made with the bare `wyoming` library client, no Solo code;
* ``local``: Solo's local engine on the same model (Whisper with Solo's settings, Piper).

Printed: one JSON object with the medians (seconds) and the ratios engine / raw (Solo's
overhead on the peer: about 1.0 is nothing) and engine / local (what a remote service on
this very machine costs against the local engine; on a stronger machine it is the point).
The machine is shared and loaded: the load average is recorded.
Run: ``.venv/bin/python bench/bench_remote_engines.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from piper import SynthesisConfig
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.local_servers import free_port, wait_listening  # noqa: E402
from solo_actors.config import load_config  # noqa: E402
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, resample  # noqa: E402
from solo_actors.voice.remote import RemoteStt, RemoteTts  # noqa: E402
from solo_actors.voice.stt import load_whisper, transcribe, whisper_folder  # noqa: E402
from solo_actors.voice.tts import load_voice, synthesize, voice_path  # noqa: E402

PEERS = REPO / ".peers"
QUESTIONS = [
    "What is the capital of France?",
    "Set a timer for ten minutes.",
    "How far away is the moon?",
    "Remind me to call my sister tomorrow.",
]
REPLIES = [
    "The capital of France is Paris.",
    "Your timer is set for ten minutes.",
    "The moon is about three hundred and eighty four thousand kilometres away.",
]


async def raw_transcribe(port: int, pcm: bytes) -> str:
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    try:
        audio = {"rate": SAMPLE_RATE, "width": 2, "channels": 1}
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(**audio).event())
        for start in range(0, len(pcm), 2048):
            await client.write_event(AudioChunk(audio=pcm[start : start + 2048], **audio).event())
        await client.write_event(AudioStop().event())
        while (event := await client.read_event()) is not None:
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text
        raise RuntimeError("the peer closed the connection")
    finally:
        await client.disconnect()


async def raw_synthesize(port: int, text: str) -> int:
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    try:
        await client.write_event(Synthesize(text=text).event())
        size = 0
        while (event := await client.read_event()) is not None:
            if AudioChunk.is_type(event.type):
                size += len(AudioChunk.from_event(event).audio)
            elif AudioStop.is_type(event.type):
                return size
        raise RuntimeError("the peer closed the connection")
    finally:
        await client.disconnect()


def timed(work: Callable[[Any], Any], argument: Any) -> float:
    started = time.perf_counter()
    work(argument)
    return time.perf_counter() - started


def summary(times: dict[str, list[float]]) -> dict[str, Any]:
    medians = {kind: round(statistics.median(values), 4) for kind, values in times.items()}
    return {
        "median_s": medians,
        "engine_over_raw": round(medians["engine"] / medians["raw"], 3),
        "engine_over_local": round(medians["engine"] / medians["local"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for peer in ("wyoming-piper", "wyoming-faster-whisper"):
        if not (PEERS / peer / "bin" / "python").exists():
            sys.exit(f"bench_remote_engines: {PEERS / peer} is missing: run `make setup`")
    config = load_config(environ={})
    stt = config.voice.stt
    voice_file = Path(voice_path(config))
    work = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    ports = {"piper": free_port(), "whisper": free_port()}
    # One thread each, as Solo's own stt and tts: the same work on both sides.
    commands = {
        "piper": [str(PEERS / "wyoming-piper" / "bin" / "python"), "-m", "wyoming_piper",
                  "--uri", f"tcp://127.0.0.1:{ports['piper']}", "--voice", voice_file.stem,
                  "--data-dir", str(voice_file.parent), "--local-files-only"],
        "whisper": [str(PEERS / "wyoming-faster-whisper" / "bin" / "python"), "-m",
                    "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{ports['whisper']}",
                    "--model", whisper_folder(config), "--stt-library", "faster-whisper",
                    "--data-dir", str(work), "--language", "en", "--beam-size",
                    str(stt.beam_size), "--cpu-threads", str(stt.threads),
                    "--compute-type", "int8", "--local-files-only"],
    }  # fmt: skip
    processes = {
        name: subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, command in commands.items()
    }
    try:
        for name, process in processes.items():
            wait_listening(ports[name], process, name)
        voice = load_voice(str(voice_file), config.voice.tts.threads)
        rate = voice.config.sample_rate
        whisper = load_whisper(whisper_folder(config), stt.threads)
        speech = [
            float_to_int16(resample(np.concatenate([c.audio_float_array for c in
                                                    voice.synthesize(q)]), rate, SAMPLE_RATE))
            .tobytes() for q in QUESTIONS
        ]  # fmt: skip
        remote_stt = RemoteStt(
            load_config(environ={"SOLO__VOICE__STT__REMOTE__URI":
                                 f"tcp://127.0.0.1:{ports['whisper']}"}).voice.stt.remote, "en"
        )  # fmt: skip
        remote_tts = RemoteTts(
            load_config(environ={"SOLO__VOICE__TTS__REMOTE__URI":
                                 f"tcp://127.0.0.1:{ports['piper']}"}).voice.tts.remote, rate
        )  # fmt: skip
        settings = SynthesisConfig(length_scale=config.voice.tts.length_scale)
        stt_work: dict[str, Callable[[bytes], Any]] = {
            "engine": remote_stt.transcribe,
            "raw": lambda pcm: asyncio.run(raw_transcribe(ports["whisper"], pcm)),
            "local": lambda pcm: transcribe(whisper, pcm, stt.language, stt.beam_size,
                                            stt.window),
        }  # fmt: skip
        tts_work: dict[str, Callable[[str], Any]] = {
            "engine": remote_tts.synthesize,
            "raw": lambda text: asyncio.run(raw_synthesize(ports["piper"], text)),
            "local": lambda text: list(synthesize(voice, text, settings)),
        }
        stt_times: dict[str, list[float]] = {kind: [] for kind in stt_work}
        tts_times: dict[str, list[float]] = {kind: [] for kind in tts_work}
        kinds = list(stt_work)
        for round_ in range(args.rounds):
            # Each round in another order: no kind always runs on the others' warm caches.
            order = kinds[round_ % 3 :] + kinds[: round_ % 3]
            for pcm in speech:
                for kind in order:
                    stt_times[kind].append(timed(stt_work[kind], pcm))
            for text in REPLIES:
                for kind in order:
                    tts_times[kind].append(timed(tts_work[kind], text))
        remote_stt.close()
        remote_tts.close()
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    print(json.dumps({
        "rounds": args.rounds, "questions": len(QUESTIONS), "replies": len(REPLIES),
        "load_average": os.getloadavg(),
        "stt": summary(stt_times), "tts": summary(tts_times),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
