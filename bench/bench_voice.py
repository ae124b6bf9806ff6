"""Voice benchmark: one JSON object of medians, the actors against the raw libraries, one run.

* end of speech -> first audio sample out, over >= 10 spoken questions (default models,
  reply cache off), with each stage's share: stt (speech end -> transcript), llm (transcript
  -> first token), tts (first token -> first sample played). "End of speech" is the vad's
  endpoint decision; the configured ``voice.vad.silence_timeout`` of silence comes before it
  and is reported beside it. Frames are fed as fast as the wake actor takes them and replies
  play through the real-time clock (a sound card's timing, without the sound).
* wake word detected -> acknowledgement chime's first sample played.
* STT and TTS through the actors against the same library calls on the same audio and text
  (a speed ratio: raw time / actor time; >= 0.95 means the actors add under 5%).
* CPU seconds per hour of idle listening: the whole process fed silence in real time.

Run: ``.venv/bin/python bench/bench_voice.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.messages import (
    AudioFrame,
    LLMDone,
    LLMToken,
    StageTimes,
    Transcript,
    TurnDone,
)
from solo_actors.tree import root_children, root_flags
from solo_actors.voice.audio import SAMPLE_RATE, frames_of, write_wav
from solo_actors.voice.options import RunOptions
from solo_actors.voice.stt import load_whisper, transcribe, whisper_folder
from solo_actors.voice.tts import load_voice, synthesize, voice_path
from tests.conftest import config_environment
from tests.voice.conftest import Speech

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What colour is the sky on a clear day?",
    "Who wrote Romeo and Juliet?",
    "What is two plus two?",
    "What is the largest planet in our solar system?",
    "How many days are in a week?",
    "What language is spoken in Spain?",
    "What is the boiling point of water?",
    "Name a fruit that is yellow.",
    "What is the opposite of hot?",
]
TTS_TEXT = (
    "The capital of France is Paris. It is known for the Eiffel Tower, its museums and its "
    "cafes. Many people visit it every year."
)
IDLE_SECONDS = 20.0
TIMEOUT = 120.0


def wait_for(condition: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError("benchmark condition not met")


def figures(name: str) -> dict[str, Any]:
    ref = supervisors.whereis(name)
    return dict(ref.lifecycle.figures) if ref is not None else {}


def start(config: Config, options: RunOptions) -> supervisors.SupervisorRef:
    children = [
        spec for spec in root_children(config, options) if spec.id in ("llm", "dialogue", "voice")
    ]
    return supervisors.start_supervisor(root_flags(config), children, name="solo")


def feed(samples: np.ndarray) -> None:
    for sequence, pcm in enumerate(frames_of(samples)):
        supervisors.ask("wake", AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence))


def turn_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]


def median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    config = load_config(
        "headless",
        environ=config_environment(work / "var", {"llm.cache": False, "log.level": "error"}),
    )
    speech = Speech(config, work)
    whisper = load_whisper(whisper_folder(config), config.voice.stt.threads)
    voice = load_voice(voice_path(config))
    stt_settings = config.voice.stt

    # stdout carries the speaker's JSON lines: keep them in a file, print the result after.
    lines_path = work / "turns.jsonl"
    real_stdout = sys.stdout
    sys.stdout = lines_path.open("w", buffering=1)
    root = start(config, RunOptions(realtime=True, output_dir=str(work / "out")))
    try:
        # -- spoken questions ----------------------------------------------------------
        acks: list[float] = []
        for index, question in enumerate(QUESTIONS):
            feed(speech.clip(0.3, "Jarvis.", 0.25, question, 1.0))
            wait_for(lambda n=index + 1: figures("speaker").get("turns", 0) >= n)
            acks.append(figures("speaker")["ack_latency_ms"])
        turns = turn_lines(lines_path)
        stages = [t["seconds_after_speech_end"] for t in turns if t["error"] is None]

        # -- STT: the actor path (vad's endpoint -> transcript) vs the library on that audio
        raw_stt = []
        for question in QUESTIONS:
            clip = speech.clip(0.25, question, 0.2)
            started = time.perf_counter()
            transcribe(whisper, clip.tobytes(), stt_settings.language, stt_settings.beam_size)
            raw_stt.append(time.perf_counter() - started)
        actor_stt = [s["transcript"] for s in stages]

        # -- TTS: a whole reply through tts and the speaker vs the library ---------------
        raw_tts, actor_tts = [], []
        synthesis = load_synthesis(config)
        for repeat in range(5):
            started = time.perf_counter()
            for _audio in synthesize(voice, TTS_TEXT, synthesis):
                pass
            raw_tts.append(time.perf_counter() - started)
            actor_tts.append(speak_through_actors(f"tts-{repeat}"))
    finally:
        root.stop()
        sys.stdout.close()
        sys.stdout = real_stdout

    # -- idle listening: the mic fed silence in real time; wake word only --------------
    silence = work / "silence.wav"
    write_wav(silence, np.zeros(int(SAMPLE_RATE * IDLE_SECONDS), np.int16), SAMPLE_RATE)
    root = start(config, RunOptions(input=str(silence), realtime=True, output_dir=str(work)))
    try:
        before = cpu_seconds()
        wall = time.monotonic()
        wait_for(lambda: figures("speaker").get("input_finished"), IDLE_SECONDS + 30)
        idle_cpu = cpu_seconds() - before
        idle_wall = time.monotonic() - wall
    finally:
        root.stop()

    first_audio = [s["first_audio"] for s in stages]
    result = {
        "device": f"{os.cpu_count()} CPU cores",
        "utterances": len(stages),
        "speech_end_to_first_audio_s": median(first_audio),
        "speech_end_to_first_audio_max_s": round(max(first_audio), 4),
        "stage_median_s": {
            "stt": median([s["transcript"] for s in stages]),
            "llm_first_token": median([s["first_token"] - s["transcript"] for s in stages]),
            "tts_first_audio": median([s["first_audio"] - s["first_token"] for s in stages]),
        },
        "stage_share": {
            "stt": median([s["transcript"] / s["first_audio"] for s in stages]),
            "llm_first_token": median(
                [(s["first_token"] - s["transcript"]) / s["first_audio"] for s in stages]
            ),
            "tts_first_audio": median(
                [(s["first_audio"] - s["first_token"]) / s["first_audio"] for s in stages]
            ),
        },
        "silence_timeout_before_endpoint_s": config.voice.vad.silence_timeout,
        "wake_to_ack_ms": median(acks),
        "stt_actor_s": median(actor_stt),
        "stt_raw_s": median(raw_stt),
        "stt_speed_vs_raw": round(median(raw_stt) / median(actor_stt), 3),
        "tts_actor_s": median(actor_tts),
        "tts_raw_s": median(raw_tts),
        "tts_speed_vs_raw": round(median(raw_tts) / median(actor_tts), 3),
        "idle_cpu_s_per_hour": round(idle_cpu / idle_wall * 3600, 1),
        "idle_measured_s": round(idle_wall, 1),
        "dropped_frames_idle": figures("mic").get("dropped", 0),
    }
    print(json.dumps(result, indent=2))


def load_synthesis(config: Config) -> Any:
    from piper import SynthesisConfig

    return SynthesisConfig(length_scale=config.voice.tts.length_scale)


def speak_through_actors(turn_id: str) -> float:
    """A whole reply told to tts as one token; seconds until the speaker has finished it."""
    done_before = figures("speaker").get("turns", 0)
    sentences_before = figures("tts").get("sentences", 0)
    times = StageTimes()
    started = time.perf_counter()
    supervisors.tell("tts", Transcript(turn_id=turn_id, text="bench", times=times))
    supervisors.tell("tts", LLMToken(request_id=turn_id, text=TTS_TEXT, index=0, turn_id=turn_id))
    supervisors.tell(
        "tts",
        LLMDone(
            request_id=turn_id,
            text=TTS_TEXT,
            prompt_tokens=0,
            prompt_eval_tokens=0,
            completion_tokens=0,
            tokens_per_second=0.0,
            time_to_first_token=0.0,
            finish_reason="stop",
            turn_id=turn_id,
        ),
    )
    supervisors.tell(
        "tts",
        TurnDone(
            turn_id=turn_id,
            conversation_id="bench",
            source="text",
            text="bench",
            reply=TTS_TEXT,
            times=times,
        ),
    )
    # The speaker plays in real time; "synthesised" is tts's last AudioOut, i.e. when tts
    # publishes its sentence count for this reply.
    wait_for(lambda: figures("tts").get("sentences", 0) >= sentences_before + 3)
    elapsed = time.perf_counter() - started
    wait_for(lambda: figures("speaker").get("turns", 0) > done_before)
    return elapsed


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
