"""Voice benchmark: one JSON object of medians, the actors against the raw libraries, one run.

* End of speech -> first audio sample out, median (and p90, min, max) over ``--questions``
  (>= 10) spoken questions with the default models (reply cache off). Each question
  ("Jarvis. <question>") is fed to the wake actor in real time, frame by frame as a
  microphone delivers them, and "end of speech" is the moment the question's last speech
  sample was captured (the last sample above 2% of the clip's peak, on the feeding clock),
  not vad's endpoint decision.
  Shares of that time: endpoint (last word -> vad's decision: the silence timeout),
  stt (endpoint -> transcript; near zero when the transcript made at the pause is reused),
  llm (transcript -> first token), tts (first token -> first sample played). Replies play
  through the real-time clock: a sound card's timing, without the sound, capped at
  ``--max-tokens`` (the first audio does not depend on the reply's length). A first,
  untimed question warms the models up (reported as ``first_turn_s``).
* Wake word detected -> the acknowledgement chime's first sample played, same questions.
* STT through the actor (``ask`` of an `Utterance`: the mailbox hop and the actor's code,
  with no transcript made ahead) against `transcribe` on the very same bytes and settings,
  on the utterances vad cut in the spoken questions. TTS through the actors (a whole reply
  told to tts -> the speaker holding all of its audio, files written as fast as possible)
  against `synthesize` on the same text. Each pair is timed in alternating order, so neither
  side always pays for the threads and caches that went cold before it; each utterance is
  timed in ``STT_ROUNDS`` pairs. Ratios are the median over pairs of raw time / actor time:
  >= 0.95 means the actors add under 5%.
* CPU per hour of idle listening (wake word only): the whole process (every model loaded)
  fed ``--idle-seconds`` of silence in real time, its CPU seconds extrapolated to an hour.

Every wait is bounded by ``--budget`` seconds overall (default 420); a run cut short says so
in ``complete`` and reports what it measured. ``--threads N`` sets llama.cpp's and Whisper's
threads (0 = the config's default, one per core). The load average is recorded: other
processes' load slows the actors and the raw calls alike.

Run: ``.venv/bin/python bench/bench_voice.py [--threads 1]`` (about 5 minutes on 2 cores).
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
from solo_actors.messages import (
    AudioFrame,
    LLMDone,
    LLMToken,
    StageTimes,
    Transcript,
    TurnDone,
    Utterance,
)
from solo_actors.runtime.trace import configure_tracing
from solo_actors.runtime.tree import root_children, root_flags
from solo_actors.voice import vad
from solo_actors.voice.audio import FRAME_SECONDS, SAMPLE_RATE, frames_of, write_wav
from solo_actors.voice.options import RunOptions
from solo_actors.voice.stt import command_preference, load_whisper, transcribe, whisper_folder
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
    "What is the tallest mountain in the world?",
    "What does a bee make?",
    "How many continents are there?",
    "Who painted the Mona Lisa?",
    "Why is the sea salty?",
    "How do I make a cup of tea?",
    "What is the speed of light?",
    "Tell me a joke.",
]
TTS_TEXT = (
    "The capital of France is Paris. It is known for the Eiffel Tower, its museums and its "
    "cafes. Many people visit it every year."
)
TTS_REPEATS = 6
STT_ROUNDS = 3
"""Times each spoken question's utterance is transcribed both ways: Whisper takes 40-110 ms
here, so one pair each left the ratio to a few milliseconds of scheduling."""
TREE = ("store", "memory", "skills", "llm", "dialogue", "voice")
"""The actors a voice turn goes through in the running assistant: memory recalls before the
llm is asked (part of the llm stage here), the store and memory keep each turn, and skills
answers what its templates fit and offers the llm its tools (without it the llm's warm-up
waits 10 s for them, and reads a prompt without them)."""
ISOLATED = ("llm", "stt", "tts", "wake")
"""The actors the shipped config runs in their own processes (``--in-process``: none)."""
WARM_UP = "What is the colour of grass?"
WAKE_PHRASES = {"porcupine": "Jarvis.", "openwakeword": "Hey Jarvis."}
"""What wakes each engine with its default keyword or model."""
SPEECH_LEVEL = 0.02
"""A sample louder than this share of the clip's peak is speech (Piper's pauses are silent)."""


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


def start(
    config: Config, options: RunOptions, tree: tuple[str, ...] = TREE
) -> supervisors.SupervisorRef:
    configure_tracing(config)
    children = [spec for spec in root_children(config, options) if spec.id in tree]
    return supervisors.start_supervisor(root_flags(config), children, name="solo")


def feed_in_real_time(samples: np.ndarray) -> float:
    """Frames to the wake actor as a microphone delivers them (frame n when its last sample
    is captured), one ask each as the mic's pump does; returns when the clip's last speech
    sample was captured, on the `now()` clock."""
    loud = np.flatnonzero(np.abs(samples) > SPEECH_LEVEL * np.abs(samples).max())
    started = time.monotonic()
    for sequence, pcm in enumerate(frames_of(samples)):
        delay = started + (sequence + 1) * FRAME_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        supervisors.ask("wake", AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence))
    return started + (loud[-1] + 1) / SAMPLE_RATE


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def ratio(raw: list[float], actor: list[float]) -> float | None:
    """The median over pairs of raw time / actor time: each pair ran back to back on the same
    input, so a slow moment of the machine slows both of its sides, not one median."""
    pairs = [r / a for r, a in zip(raw, actor, strict=True) if a > 0]
    return round(statistics.median(pairs), 3) if pairs else None


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
    config: Config,
    speech: Speech,
    turns: Turns,
    budget: Budget,
    count: int,
    reserve: float,
    questions: list[str] = QUESTIONS,
) -> dict[str, Any]:
    """Ask `count` of `questions` by voice (after an untimed one); per-turn stage times and
    the utterances vad cut."""
    endpoints: dict[str, tuple[bytes, float]] = {}
    original_send = vad.send

    def recording_send(name: str, message: Any) -> None:
        # Seen where vad sends it, in this process: stt may run in its own (isolation).
        if isinstance(message, Utterance):
            endpoints[message.turn_id] = (message.pcm, message.times.speech_end or 0.0)
        original_send(name, message)

    vad.send = recording_send  # type: ignore[assignment]
    result: dict[str, Any] = {
        key: [] for key in ("first_audio", "endpoint", "stt", "llm", "tts", "ack_ms", "pcm")
    }
    root = start(config, RunOptions(realtime=True, output_dir=str(turns.path.parent / "out")))
    try:
        for index, question in enumerate([WARM_UP, *questions[:count]]):
            if budget.left() < reserve:
                break
            wake_phrase = WAKE_PHRASES[config.voice.wake.engine]
            spoken = feed_in_real_time(speech.clip(0.3, wake_phrase, 0.25, question, 1.0))
            budget.wait_for(lambda n=index + 1: finished_turns() >= n, "a spoken turn")
            turn = turns.lines()[index]
            stages = turn["seconds_after_speech_end"]  # after vad's endpoint decision
            if turn["error"] or turn["turn_id"] not in endpoints or not stages["first_audio"]:
                continue
            pcm, endpoint = endpoints[turn["turn_id"]]
            endpoint_lag = endpoint - spoken
            if index == 0:
                result["first_turn_s"] = round(endpoint_lag + stages["first_audio"], 4)
                continue
            result["ack_ms"].append(figures("speaker")["ack_latency_ms"])
            result["pcm"].append(pcm)
            result["first_audio"].append(endpoint_lag + stages["first_audio"])
            result["endpoint"].append(endpoint_lag)
            result["stt"].append(stages["transcript"])
            result["llm"].append(stages["first_token"] - stages["transcript"])
            result["tts"].append(stages["first_audio"] - stages["first_token"])
        result["stt_ahead_used"] = figures("stt").get("ahead_used", 0)
    finally:
        vad.send = original_send  # type: ignore[assignment]
        root.stop()
    return result


def stt_compare(
    config: Config, utterances: list[bytes], work: Path, budget: Budget
) -> dict[str, list[float]]:
    """Each utterance through the stt actor (an ask: it transcribes, then tells tts and the
    dialogue actor, which are not running here) against `transcribe`, alternately."""
    settings = config.voice.stt
    whisper = load_whisper(whisper_folder(config), settings.threads)
    prefer = command_preference(config)  # as the actor does
    raw: list[float] = []
    actor: list[float] = []
    root = start(config, RunOptions(output_dir=str(work / "stt")), tree=("voice",))
    try:
        for index, pcm in enumerate(utterances * STT_ROUNDS):
            if budget.left() < 30:
                break
            utterance = Utterance(
                turn_id=f"stt-{index}", pcm=pcm, sample_rate=SAMPLE_RATE, times=StageTimes()
            )

            def through_actor(utterance: Utterance = utterance) -> None:
                supervisors.ask("stt", utterance, timeout=budget.left())

            def raw_call(pcm: bytes = pcm) -> None:
                transcribe(whisper, pcm, settings.language, settings.beam_size, settings.window,
                           prefer)  # fmt: skip

            timed_pair(index, (through_actor, actor), (raw_call, raw))
    finally:
        root.stop()
    return {"raw": raw, "actor": actor}


def tts_compare(config: Config, turns: Turns, budget: Budget) -> dict[str, list[float]]:
    """A whole reply through tts and the speaker against the library, alternately."""
    voice = load_voice(voice_path(config), config.voice.tts.threads)
    synthesis = SynthesisConfig(length_scale=config.voice.tts.length_scale)
    raw: list[float] = []
    actor: list[float] = []
    root = start(config, RunOptions(output_dir=str(turns.path.parent / "tts")))
    try:
        for repeat in range(TTS_REPEATS):

            def raw_call() -> None:
                for _audio in synthesize(voice, TTS_TEXT, synthesis):
                    pass

            def through_actors(repeat: int = repeat) -> None:
                speak_through_actors(f"tts-{repeat}", budget)

            timed_pair(repeat, (through_actors, actor), (raw_call, raw))
    finally:
        root.stop()
    return {"raw": raw, "actor": actor}


def timed_pair(
    index: int,
    first: tuple[Callable[[], None], list[float]],
    second: tuple[Callable[[], None], list[float]],
) -> None:
    """Time both calls, in turns first-second and second-first, so neither always pays for
    the threads and caches that went cold since the previous pair."""
    for call, times in (first, second) if index % 2 == 0 else (second, first):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)


def speak_through_actors(turn_id: str, budget: Budget) -> None:
    """Tell tts a one-token reply and wait for the speaker to have all of its audio (written
    at once: no real-time clock in this tree)."""
    before = finished_turns()
    times = StageTimes()
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
    parser.add_argument(
        "--questions", type=int, default=len(QUESTIONS), help="spoken questions (>= 10)"
    )
    parser.add_argument("--max-tokens", type=int, default=24, help="reply cap per question")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp and Whisper threads")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument(
        "--wake-engine", choices=sorted(WAKE_PHRASES), help="default: the config's engine"
    )
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for the whole run")
    parser.add_argument("--model", help="the llm (a catalog id); default: the config's")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a config setting for this run, e.g. llm.draft_tokens=0 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--in-process", action="store_true", help="no process isolation (default: as shipped)"
    )
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
    if args.in_process:
        overrides |= {f"isolation.{name}.mode": "thread" for name in ISOLATED}
    if args.wake_engine:
        overrides["voice.wake.engine"] = args.wake_engine
    if args.model:
        overrides["llm.model"] = args.model
    config = load_config(
        "headless", environ=config_environment(work / "var", overrides), settings=args.set
    )
    speech = Speech(config, work)
    # The speaker prints its JSON lines on stdout: keep them in a file, print the result after.
    turns = Turns(work / "turns.jsonl")
    real_stdout, sys.stdout = sys.stdout, turns.path.open("w", buffering=1)
    idle_reserve = args.idle_seconds + 15
    spoken: dict[str, Any] = {}
    stt: dict[str, list[float]] = {}
    tts: dict[str, list[float]] = {}
    idle: dict[str, Any] = {}
    stopped_by: str | None = None
    try:
        spoken = spoken_questions(
            config, speech, turns, budget, args.questions, reserve=idle_reserve + 45
        )
        stt = stt_compare(config, spoken["pcm"], work, budget)
        tts = tts_compare(config, turns, budget)
        idle = idle_listening(config, work, args.idle_seconds, budget)
    except OutOfTime as what:
        stopped_by = f"the {args.budget:g} s budget ran out waiting for {what}"
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout

    first_audio = spoken.get("first_audio", [])
    stages = ("endpoint", "stt", "llm", "tts")
    shares = {
        stage: median([part / all_ for part, all_ in zip(spoken[stage], first_audio, strict=True)])
        for stage in stages
        if stage in spoken
    }
    result = {
        "complete": stopped_by is None and len(first_audio) >= 10 and bool(idle),
        "stopped_by": stopped_by,
        "utterances": len(first_audio),
        "speech_end_to_first_audio_s": median(first_audio),
        "speech_end_to_first_audio_min_s": round(min(first_audio), 4) if first_audio else None,
        "speech_end_to_first_audio_max_s": round(max(first_audio), 4) if first_audio else None,
        # The tail, beside the median: a change can leave the median and cut the slow turns.
        "speech_end_to_first_audio_p90_s": (
            round(statistics.quantiles(first_audio, n=10)[-1], 4) if len(first_audio) > 1 else None
        ),
        "speech_end": "the question's last speech sample, captured in real time",
        "first_turn_s": spoken.get("first_turn_s"),
        "silence_timeout_s": config.voice.vad.silence_timeout,
        "stage_median_s": {stage: median(spoken.get(stage, [])) for stage in stages},
        "stage_share_of_first_audio": shares,
        "stt_transcripts_made_ahead_and_used": spoken.get("stt_ahead_used"),
        "wake_to_ack_ms": median(spoken.get("ack_ms", [])),
        "wake_to_ack_max_ms": max(spoken.get("ack_ms", []), default=None),
        "stt_actor_s": median(stt.get("actor", [])),
        "stt_raw_s": median(stt.get("raw", [])),
        "stt_speed_vs_raw": ratio(stt.get("raw", []), stt.get("actor", [])),
        "stt_window_s": config.voice.stt.window,
        "tts_actor_s": median(tts.get("actor", [])),
        "tts_raw_s": median(tts.get("raw", [])),
        "tts_speed_vs_raw": ratio(tts.get("raw", []), tts.get("actor", [])),
        **idle,
        "models": {
            "llm": config.llm.model,
            "stt": config.voice.stt.model,
            "tts": config.voice.tts.voice,
            "wake": config.voice.wake.engine,
        },
        "threads": args.threads or "default (one per core)",
        "settings": args.set,
        "isolated": [] if args.in_process else list(ISOLATED),
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
