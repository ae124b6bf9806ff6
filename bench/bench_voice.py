"""Voice benchmark: one JSON object of medians, the actors against the raw libraries, one run.

* End of speech -> first audio sample out, median over ``--questions`` (>= 10) spoken
  questions with the default models (reply cache off), and each stage's share: stt (speech
  end -> transcript), llm (transcript -> first token), tts (first token -> first sample
  played). "End of speech" is vad's endpoint decision; a user's last word comes
  ``voice.vad.silence_timeout`` before it, so ``last_word_to_first_audio_s`` adds it back.
  Frames are fed as fast as the wake actor takes them (the silence timeout is therefore not
  waited in real time) and replies play through the real-time clock: a sound card's timing,
  without the sound. Replies are capped at ``--max-tokens``; the first audio does not
  depend on the reply's length, the run time does.
* Wake word detected -> the acknowledgement chime's first sample played, same questions.
* STT through the actors (vad's endpoint -> stt's transcript, the mailbox hop included)
  against `transcribe` on the very same utterance bytes, run right after each turn so both
  see the same background load (the bench records what vad sent by wrapping
  `SttActor.hear`, one list append). TTS through the actors (a whole reply told to tts ->
  the speaker holding all of its audio, files written as fast as possible) against
  `synthesize` on the same text. Ratios are raw time / actor time: >= 0.95 means the actors
  add under 5%.
* CPU per hour of idle listening (wake word only): the whole process (every model loaded)
  fed ``--idle-seconds`` of silence in real time, its CPU seconds extrapolated to an hour.

Every wait is bounded by ``--budget`` seconds overall (default 290); a run cut short says so
in ``complete`` and reports what it measured. ``--threads N`` sets llama.cpp's and Whisper's
threads (0 = the config's default, one per core); on a shared, loaded machine both spin on
busy cores, so ``--threads 1`` gives figures that mean something there. The load average is
recorded: other processes' load slows the actors and the raw calls alike.

Run: ``.venv/bin/python bench/bench_voice.py [--threads 1]`` (about 4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from piper import SynthesisConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.messages import AudioFrame, LLMDone, LLMToken, StageTimes, Transcript, TurnDone
from solo_actors.messages import Utterance as UtteranceMessage
from solo_actors.tree import root_children, root_flags
from solo_actors.voice.audio import SAMPLE_RATE, frames_of, write_wav
from solo_actors.voice.options import RunOptions
from solo_actors.voice.stt import SttActor, load_whisper, transcribe, whisper_folder
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
    "How many hours are in a day?",
]
TTS_TEXT = (
    "The capital of France is Paris. It is known for the Eiffel Tower, its museums and its "
    "cafes. Many people visit it every year."
)
TTS_REPEATS = 5
TREE = ("llm", "dialogue", "voice")


class OutOfTime(Exception):
    """The overall budget ran out; the run reports what it has."""


class Budget:
    """One deadline for the whole run; every wait is bounded by what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def wait_for(self, condition: Callable[[], Any], what: str) -> Any:
        while time.monotonic() < self.deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.01)
        raise OutOfTime(what)


def figures(name: str) -> dict[str, Any]:
    ref = supervisors.whereis(name)
    return dict(ref.lifecycle.figures) if ref is not None else {}


def finished_turns() -> int:
    """Turns the speaker has finished: a figure read, so polling costs the actors nothing."""
    return int(figures("speaker").get("turns", 0))


def start(config: Config, options: RunOptions) -> supervisors.SupervisorRef:
    children = [spec for spec in root_children(config, options) if spec.id in TREE]
    return supervisors.start_supervisor(root_flags(config), children, name="solo")


def feed(samples: np.ndarray) -> None:
    """Frames to the wake actor as the mic's pump hands them (one ask each)."""
    for sequence, pcm in enumerate(frames_of(samples)):
        supervisors.ask("wake", AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence))


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def ratio(raw: list[float], actor: list[float]) -> float | None:
    return round(statistics.median(raw) / statistics.median(actor), 3) if raw and actor else None


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Turns:
    """The speaker's JSON lines (stdout, redirected to a file while trees run)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[dict[str, Any]]:
        text = self.path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def spoken_questions(
    config: Config, speech: Speech, turns: Turns, budget: Budget, count: int, reserve: float
) -> dict[str, list[float]]:
    """Ask `count` questions by voice; per-turn stage offsets, acks and STT timings."""
    whisper = load_whisper(whisper_folder(config), config.voice.stt.threads)
    heard: dict[str, bytes] = {}
    original_hear = SttActor.hear

    def recording_hear(actor: SttActor, utterance: UtteranceMessage) -> None:
        heard[utterance.turn_id] = utterance.pcm
        original_hear(actor, utterance)

    SttActor.hear = recording_hear  # type: ignore[method-assign]
    result: dict[str, list[float]] = {
        key: [] for key in ("first_audio", "stt", "llm", "tts", "ack_ms", "stt_raw")
    }
    root = start(config, RunOptions(realtime=True, output_dir=str(turns.path.parent / "out")))
    try:
        for index, question in enumerate(QUESTIONS[:count]):
            if budget.left() < reserve:
                break
            feed(speech.clip(0.3, "Jarvis.", 0.25, question, 1.0))
            budget.wait_for(lambda n=index + 1: finished_turns() >= n, "a spoken turn")
            turn = turns.lines()[index]
            result["ack_ms"].append(figures("speaker")["ack_latency_ms"])
            stages = turn["seconds_after_speech_end"]
            if turn["error"] is not None or stages["first_audio"] is None:
                continue
            result["first_audio"].append(stages["first_audio"])
            result["stt"].append(stages["transcript"])
            result["llm"].append(stages["first_token"] - stages["transcript"])
            result["tts"].append(stages["first_audio"] - stages["first_token"])
            started = time.perf_counter()
            settings = config.voice.stt
            transcribe(whisper, heard[turn["turn_id"]], settings.language, settings.beam_size)
            result["stt_raw"].append(time.perf_counter() - started)
    finally:
        SttActor.hear = original_hear  # type: ignore[method-assign]
        root.stop()
    return result


def tts_compare(config: Config, turns: Turns, budget: Budget) -> dict[str, list[float]]:
    """A whole reply through tts and the speaker against the library, alternately."""
    voice = load_voice(voice_path(config))
    synthesis = SynthesisConfig(length_scale=config.voice.tts.length_scale)
    raw: list[float] = []
    actor: list[float] = []
    root = start(config, RunOptions(output_dir=str(turns.path.parent / "tts")))
    try:
        for repeat in range(TTS_REPEATS):
            started = time.perf_counter()
            for _audio in synthesize(voice, TTS_TEXT, synthesis):
                pass
            raw.append(time.perf_counter() - started)
            actor.append(speak_through_actors(f"tts-{repeat}", budget))
    finally:
        root.stop()
    return {"raw": raw, "actor": actor}


def speak_through_actors(turn_id: str, budget: Budget) -> float:
    """Seconds from telling tts a one-token reply to the speaker having all of its audio
    (written at once: no real-time clock in this tree)."""
    before = finished_turns()
    times = StageTimes()
    started = time.perf_counter()
    supervisors.tell("tts", Transcript(turn_id=turn_id, text="bench", times=times))
    supervisors.tell("tts", LLMToken(request_id=turn_id, text=TTS_TEXT, index=0, turn_id=turn_id))
    supervisors.tell("tts", LLMDone.whole_text(turn_id, TTS_TEXT, turn_id=turn_id))
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
    # The speaker finishes a turn once its audio has played: at once, with no clock.
    budget.wait_for(lambda: finished_turns() > before, "a spoken reply")
    return time.perf_counter() - started


def idle_listening(config: Config, work: Path, seconds: float, budget: Budget) -> dict[str, Any]:
    """The whole process fed silence in real time: wake word only, every model loaded."""
    silence = work / "silence.wav"
    write_wav(silence, np.zeros(int(SAMPLE_RATE * seconds), np.int16), SAMPLE_RATE)
    options = RunOptions(input=str(silence), realtime=True, output_dir=str(work / "idle"))
    root = start(config, options)
    try:
        before, wall = cpu_seconds(), time.monotonic()
        budget.wait_for(lambda: figures("speaker").get("input_finished"), "idle listening")
        cpu, elapsed = cpu_seconds() - before, time.monotonic() - wall
        dropped = figures("mic").get("dropped", 0)
    finally:
        root.stop()
    return {
        "idle_cpu_s_per_hour": round(cpu / elapsed * 3600, 1),
        "idle_cpu_percent_of_one_core": round(cpu / elapsed * 100, 2),
        "idle_measured_s": round(elapsed, 1),
        "idle_extrapolated": f"{elapsed:.0f} s measured, scaled to 3600 s",
        "idle_dropped_frames": dropped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10, help="spoken questions (>= 10)")
    parser.add_argument("--max-tokens", type=int, default=24, help="reply cap per question")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp and Whisper threads")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--budget", type=float, default=290.0, help="seconds for the whole run")
    args = parser.parse_args()
    budget = Budget(args.budget)
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    overrides: dict[str, object] = {
        "llm.cache": False,
        "llm.max_tokens": args.max_tokens,
        "log.level": "error",
    }
    if args.threads:
        overrides |= {"llm.n_threads": args.threads, "voice.stt.threads": args.threads}
    config = load_config("headless", environ=config_environment(work / "var", overrides))
    speech = Speech(config, work)
    # The speaker prints its JSON lines on stdout: keep them in a file, print the result after.
    turns = Turns(work / "turns.jsonl")
    real_stdout, sys.stdout = sys.stdout, turns.path.open("w", buffering=1)
    idle_reserve = args.idle_seconds + 15
    spoken: dict[str, list[float]] = {}
    tts: dict[str, list[float]] = {}
    idle: dict[str, Any] = {}
    stopped_by: str | None = None
    try:
        spoken = spoken_questions(
            config, speech, turns, budget, args.questions, reserve=idle_reserve + 45
        )
        tts = tts_compare(config, turns, budget)
        idle = idle_listening(config, work, args.idle_seconds, budget)
    except OutOfTime as what:
        stopped_by = f"the {args.budget:g} s budget ran out waiting for {what}"
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout

    first_audio = spoken.get("first_audio", [])
    silence = config.voice.vad.silence_timeout
    shares = {
        stage: median([part / whole for part, whole in zip(parts, first_audio, strict=True)])
        for stage, parts in spoken.items()
        if stage in ("stt", "llm", "tts")
    }
    result = {
        "complete": stopped_by is None and len(first_audio) >= 10 and bool(idle),
        "stopped_by": stopped_by,
        "utterances": len(first_audio),
        "speech_end_to_first_audio_s": median(first_audio),
        "speech_end_to_first_audio_max_s": round(max(first_audio), 4) if first_audio else None,
        "last_word_to_first_audio_s": median([t + silence for t in first_audio]),
        "silence_timeout_s": silence,
        "stage_median_s": {stage: median(spoken.get(stage, [])) for stage in ("stt", "llm", "tts")},
        "stage_share_of_first_audio": shares,
        "wake_to_ack_ms": median(spoken.get("ack_ms", [])),
        "wake_to_ack_max_ms": max(spoken.get("ack_ms", []), default=None),
        "stt_actor_s": median(spoken.get("stt", [])),
        "stt_raw_s": median(spoken.get("stt_raw", [])),
        "stt_speed_vs_raw": ratio(spoken.get("stt_raw", []), spoken.get("stt", [])),
        "tts_actor_s": median(tts.get("actor", [])),
        "tts_raw_s": median(tts.get("raw", [])),
        "tts_speed_vs_raw": ratio(tts.get("raw", []), tts.get("actor", [])),
        **idle,
        "models": {
            "llm": config.llm.model,
            "stt": config.voice.stt.model,
            "tts": config.voice.tts.voice,
            "wake": f"{config.voice.wake.engine}:{config.voice.wake.keyword}",
        },
        "threads": args.threads or "default (one per core)",
        "reply_max_tokens": args.max_tokens,
        "cores": os.cpu_count(),
        # Other processes' load slows the actors and the raw calls alike: record it.
        "load_average_start": [round(value, 2) for value in load_before],
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
        "wall_s": round(args.budget - budget.left(), 1),
    }
    print(json.dumps(result, indent=2))
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
