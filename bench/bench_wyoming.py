"""Wyoming benchmark: Solo's Wyoming server side by side with the ecosystem's own servers.

Three servers run at once on this machine, on the very same model files:

* Solo: ``run.py --wyoming`` (its default, headless profile; no hot standby processes);
* ``wyoming-piper`` 2.5.2 on Solo's Piper voice (``models/piper-en_US-joe-medium``);
* ``wyoming-faster-whisper`` 3.8.1 on Solo's Whisper folder (``models/whisper-tiny.en``),
  beam 2 and one thread as Solo's stt;

each peer from its own venv under ``.peers/`` (``make bench-peers``). They are measured by
``wyoming-bench`` (PyPI, its own venv too; `wyoming_bench_json.py` calls its library and
prints its summaries): TTS time to first audio, total time and RTF, non-streaming and
streaming (``synthesize-start``/``-chunk``/``-stop``); STT total time, time to the first
transcript chunk (streaming), WER and RTF, on a corpus of 66 questions said by the same
voice (16 kHz), each said ``--renditions`` times: six here and the end-of-turn benchmark's
60, said whole. Printed: one JSON
object with every summary and the ratios Solo / peer of the medians (< 1: Solo is faster;
for WER, Solo's minus the peer's).

The servers share the machine with each other and with whatever else runs: the load average
is recorded. Run: ``.venv/bin/python bench/bench_wyoming.py [--rounds 3]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.local_servers import free_port, wait_listening  # noqa: E402
from solo_actors.config import load_config  # noqa: E402
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, resample, write_wav  # noqa: E402
from solo_actors.voice.stt import whisper_folder  # noqa: E402
from solo_actors.voice.tts import load_voice, voice_path  # noqa: E402

PEERS = REPO / ".peers"
QUESTIONS = [
    "What is the capital of France?",
    "Set a timer for ten minutes.",
    "How far away is the moon?",
    "Remind me to call my sister tomorrow.",
    "What time is it in Tokyo?",
    "Tell me a short joke about computers.",
]
PAUSED = REPO / "bench" / "data" / "paused_questions.toml"
"""More questions for the STT corpus: the end-of-turn benchmark's, said whole."""

REPLIES = [
    "The capital of France is Paris.",
    "Your timer is set for ten minutes. I will tell you when it is done.",
    "The moon is about three hundred and eighty four thousand kilometres away.",
]


def corpus(folder: Path, renditions: int) -> None:
    """The questions said by Solo's voice, at 16 kHz, with their texts (wyoming-bench's
    corpus format: NAME.wav beside NAME.txt), each said `renditions` times: Piper says a
    text a little differently each time, and one rendition of 66 questions leaves the WER
    difference within a few words of luck."""
    voice = load_voice(voice_path(load_config(environ={})))
    paused = tomllib.loads(PAUSED.read_text("utf-8"))["pairs"]
    texts = [*QUESTIONS, *(f"{before} {after}" for before, after in paused)]
    for rendition in range(renditions):
        for index, text in enumerate(texts):
            audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text)])
            pcm = float_to_int16(resample(audio, voice.config.sample_rate, SAMPLE_RATE))
            write_wav(folder / f"q{index:02}r{rendition}.wav", pcm, SAMPLE_RATE)
            (folder / f"q{index:02}r{rendition}.txt").write_text(text + "\n")


def measure(kind: str, servers: list[str], rounds: int, **source: str) -> dict[str, Any]:
    python = PEERS / "wyoming-bench" / "bin" / "python"
    extra = [f"--{key.replace('_', '-')}={value}" for key, value in source.items()]
    result = subprocess.run(
        [str(python), str(REPO / "bench" / "wyoming_bench_json.py"), kind, *servers,
         f"--rounds={rounds}", *extra],
        capture_output=True, text=True, timeout=1800, check=True,
    )  # fmt: skip
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def ratio(solo: Any, peer: Any) -> float | None:
    return round(solo / peer, 3) if solo and peer else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--renditions", type=int, default=3,
                        help="times each question is said in the STT corpus")  # fmt: skip
    args = parser.parse_args()
    for peer in ("wyoming-bench", "wyoming-piper", "wyoming-faster-whisper"):
        if not (PEERS / peer / "bin" / "python").exists():
            sys.exit(f"bench_wyoming: {PEERS / peer} is missing: run `make bench-peers`")
    config = load_config(environ={})
    voice = Path(voice_path(config))
    ports = {"solo": free_port(), "piper": free_port(), "whisper": free_port()}
    work = Path(tempfile.mkdtemp(prefix="bench-wyoming-"))
    environ = {
        **os.environ, "SOLO__SOLO__VAR_DIR": str(work / "var"), "SOLO__API__ENABLED": "false",
        "SOLO__WYOMING__URI": f"tcp://127.0.0.1:{ports['solo']}",
        **{f"SOLO__ISOLATION__{n}__STANDBY": "false" for n in ("LLM", "STT", "TTS", "WAKE")},
    }  # fmt: skip
    commands = {
        "solo": [sys.executable, str(REPO / "run.py"), "--wyoming"],
        "piper": [str(PEERS / "wyoming-piper" / "bin" / "python"), "-m", "wyoming_piper",
                  "--uri", f"tcp://127.0.0.1:{ports['piper']}", "--voice", voice.stem,
                  "--data-dir", str(voice.parent), "--local-files-only"],
        "whisper": [str(PEERS / "wyoming-faster-whisper" / "bin" / "python"), "-m",
                    "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{ports['whisper']}",
                    "--model", whisper_folder(config), "--stt-library", "faster-whisper",
                    "--data-dir", str(work), "--language", "en", "--beam-size",
                    str(config.voice.stt.beam_size), "--cpu-threads",
                    str(config.voice.stt.threads), "--compute-type", "int8",
                    "--local-files-only"],
    }  # fmt: skip
    processes = {
        name: subprocess.Popen(
            command, env=environ, stdout=subprocess.DEVNULL, stderr=(work / f"{name}.log").open("w")
        )
        for name, command in commands.items()
    }
    try:
        for name, process in processes.items():
            wait_listening(ports[name], process, name)
        (work / "corpus").mkdir()
        corpus(work / "corpus", args.renditions)
        (work / "replies.txt").write_text("\n".join(REPLIES) + "\n")
        solo, piper, whisper = (f"127.0.0.1:{ports[n]}" for n in ("solo", "piper", "whisper"))
        tts = measure("tts", [solo, piper], args.rounds, texts_file=str(work / "replies.txt"))
        stt = measure("stt", [solo, whisper], args.rounds, corpus=str(work / "corpus"))
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    ratios: dict[str, float | None] = {}
    for mode in ("non_streaming", "streaming"):
        mine, theirs = tts[solo][mode], tts[piper][mode]
        for metric in ("ttft", "total", "rtf"):
            ratios[f"tts_{mode}_{metric}"] = ratio(mine[metric]["median"], theirs[metric]["median"])
        mine, theirs = stt[solo][mode], stt[whisper][mode]
        for metric in ("ttft", "total", "rtf"):
            ratios[f"stt_{mode}_{metric}"] = ratio(mine[metric]["median"], theirs[metric]["median"])
        if mine["wer"] is not None and theirs["wer"] is not None:
            ratios[f"stt_{mode}_wer_difference"] = round(mine["wer"] - theirs["wer"], 4)
    print(json.dumps({
        "servers": {"solo": solo, "wyoming-piper": piper, "wyoming-faster-whisper": whisper},
        "rounds": args.rounds, "renditions": args.renditions, "load_average": os.getloadavg(),
        "tts": tts, "stt": stt,
        "ratios_solo_over_peer": ratios,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
