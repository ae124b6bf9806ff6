"""Benchmark skill template matching: what every turn pays before it reaches the llm.

Runs every phrasing of the utterance set (tests/skills/utterances.toml) through the compiled
templates, ``--rounds`` times, and times each `Matcher.match_all` call (what the dialogue
hook runs per turn, compound requests included). Prints one JSON object:

* ``match``: p50/p99/max milliseconds per turn over every phrasing (the budget is 5 ms p99).
* ``positives`` / ``negatives``: the same split by phrasings that fit a skill and ordinary
  questions that must not; a negative tries every sentence, so it is the worst case.
* ``raw_regex``: the floor, one precompiled ``re.fullmatch`` per sentence on the already
  normalised text, no slot parsing: what the matcher costs over the regex engine alone.
* ``adversarial``: long turns built to make regexes backtrack ("one one one ... banana").
* ``compile_ms``: loading and compiling every template once (done at start, not per turn).

With ``--spoken N``: also N skill questions spoken by Piper ("Jarvis. Set a timer for 5
minutes."), fed to the wake actor in real time through the voice tree with skills and no
llm (store, skills, dialogue, voice, as shipped: stt and tts in their own processes), timed
as bench/bench_voice.py times its questions: ``spoken.first_audio`` is the median from the
last speech sample captured to the reply's first sample played, ``endpoint`` the part of it
vad waits out (``voice.vad.silence_timeout``). The budget is 0.5 s median.

With ``--heard``: every phrasing of the utterance set said by Piper (its sampling noise off,
so a run on one machine hears the same audio every time) or by ``--voice`` (an espeak-ng or
Flite voice of tests/voice/test_voice_other_voices.py, deterministic too) at ``--speeds``,
cut as vad cuts it (0.3 s before, 0.5 s after), transcribed by Solo's stt path
(`stt.transcribe`: the config's model, beam size and short window, the call the stt actor
makes), by the same without ``voice.stt.prefer_commands`` (``solo_best_only``: the beam's
best hypothesis) and by faster-whisper's own ``transcribe`` (30 s window, same model and
beam size, its best hypothesis). ``heard`` gives
for each the share of positives whose heard words match as their typed words do (the same
intent, slots and refusal: ``same_as_typed``), the negatives a skill took, and each miss
(typed -> heard); ``same_as_typed_vs_raw`` is Solo's share over the library's.

``load_average`` is recorded because the machine is shared: compare runs at similar load.

Usage: python bench/bench_skills.py [--rounds N] [--spoken N] [--heard [--speeds 1.0 ...]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solo_actors.config import REPO_ROOT, load_config
from solo_actors.skills.templates import Matcher, load_matcher
from solo_actors.skills.words import normalise

UTTERANCES = REPO_ROOT / "tests" / "skills" / "utterances.toml"
ADVERSARIAL = [
    "set a timer for " + "one " * 60 + "banana",
    "what is " + "one " * 70 + "plus",
    "set a timer for " + "1 hour " * 40 + "x",
    "remind me to " + "call my sister and " * 15 + "x",
    "how much time is left on the " + "pasta " * 40 + "x",
]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 4),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 4),
        "max_ms": round(ordered[-1] * 1000, 4),
        "samples": len(ordered),
    }


def timed(call: object, texts: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            call(text)  # type: ignore[operator]
            samples.append(time.perf_counter() - started)
    return samples


def raw_regex(matcher: Matcher, text: str) -> None:
    words = normalise(text)
    for sentence in matcher.sentences:
        if sentence.pattern.fullmatch(words):
            return


SPOKEN = [
    "Set a timer for 5 minutes.", "What time is it?", "What is 17 times 23?",
    "Set a 10 minute pasta timer.", "How much time is left on the pasta?",
    "What's 15 percent of 80?", "What is the date today?", "Wake me up at 7.",
    "Convert 5 kilometres to miles.", "Remind me to call my sister in an hour.",
    "Cancel all timers.", "Set an alarm for 6:30.", "What is 12 divided by 4?",
    "Set a timer for 3 minutes.", "Add 5 minutes to the timer.", "What timers do I have?",
    "What's 2 plus 2?", "Convert 10 miles to kilometres.", "What reminders do I have?",
    "Cancel my alarm.", "What day is it?",
]  # fmt: skip
SKILL_TREE = ("store", "skills", "dialogue", "voice")


def voiced(turns: Any) -> list[dict[str, Any]]:
    """The speaker's lines for spoken turns (not the announcements of fired items)."""
    return [turn for turn in turns.lines() if turn["source"] == "voice"]


def spoken_turns(count: int, budget_s: float) -> dict[str, Any]:
    """Median end of speech -> first audio of ``count`` spoken skill turns (one untimed
    turn first, to warm the models up)."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_voice as voice  # its real-time feeding and timing, shared

    from solo_actors.messages import Utterance
    from solo_actors.voice.options import RunOptions
    from tests.conftest import config_environment
    from tests.voice.conftest import Speech

    work = Path(tempfile.mkdtemp(prefix="bench-skills-"))
    overrides = {"log.level": "error", "skills.ring_for": 0}
    config = load_config("headless", environ=config_environment(work / "var", overrides))
    speech, turns, budget = (
        Speech(config, work),
        voice.Turns(work / "turns.jsonl"),
        voice.Budget(budget_s),
    )
    endpoints: dict[str, float] = {}
    original_send = voice.vad.send

    def recording_send(name: str, message: Any) -> None:
        if isinstance(message, Utterance):
            endpoints[message.turn_id] = message.times.speech_end or 0.0
        original_send(name, message)

    voice.vad.send = recording_send  # type: ignore[assignment]
    real_stdout, sys.stdout = sys.stdout, turns.path.open("w", buffering=1)
    first_audio: list[float] = []
    endpoint: list[float] = []
    replies: list[str] = []
    try:
        root = voice.start(config, RunOptions(realtime=True, output_dir=str(work / "out")),
                           tree=SKILL_TREE)  # fmt: skip
        try:
            wake = voice.WAKE_PHRASES[config.voice.wake.engine]
            for index, text in enumerate([SPOKEN[-1], *SPOKEN[:count]]):
                spoken = voice.feed_in_real_time(speech.clip(0.3, wake, 0.25, text, 1.0))
                budget.wait_for(lambda n=index + 1: len(voiced(turns)) >= n, "a turn")  # type: ignore[misc]
                turn = voiced(turns)[index]
                stages = turn["seconds_after_speech_end"]
                if index == 0 or turn["turn_id"] not in endpoints or not stages["first_audio"]:
                    continue
                lag = endpoints[turn["turn_id"]] - spoken
                first_audio.append(lag + stages["first_audio"])
                endpoint.append(lag)
                replies.append(turn["reply"])
        finally:
            root.stop()
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
        voice.vad.send = original_send  # type: ignore[assignment]
    return {
        "turns": len(first_audio),
        "first_audio": voice.median(first_audio),
        "endpoint": voice.median(endpoint),
        "replies": replies,
    }


def match_key(matcher: Matcher, text: str) -> tuple[object, ...] | None:
    """What a turn's words make the skills do: the intent, its slots and its refusal."""
    match = matcher.match(text)
    if match is None:
        return None
    return match.intent, match.error, tuple(sorted((k, str(v)) for k, v in match.slots.items()))


def heard_utterances(
    matcher: Matcher,
    positives: list[str],
    negatives: list[str],
    speeds: list[float],
    voice_name: str,
) -> dict[str, Any]:
    """The utterance set said by a voice and heard by Whisper, Solo's way and the library's;
    see the module docstring."""
    import tempfile

    import numpy as np

    from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, int16_to_float
    from solo_actors.voice.stt import command_preference, load_whisper, transcribe, whisper_folder
    from tests.voice.conftest import Speech
    from tests.voice.test_voice_other_voices import VOICES

    config = load_config("headless", environ={})
    settings = config.voice.stt
    model = load_whisper(whisper_folder(config), settings.threads)
    if voice_name == "piper":
        piper = Speech(config, Path(tempfile.mkdtemp(prefix="bench-skills-")))

        def said(text: str, speed: float) -> bytes:
            return piper.clip(0.3, text, 0.5, speed=speed, steady=True).tobytes()
    else:
        voice = next(v for v in VOICES if v.name == voice_name)

        def said(text: str, speed: float) -> bytes:
            before, after = (np.zeros(int(SAMPLE_RATE * s), np.float32) for s in (0.3, 0.5))
            audio = np.concatenate([before, voice.say(text, speed), after])
            return float_to_int16(audio).tobytes()

    prefer = command_preference(config)  # as the stt actor does

    def solo(pcm: bytes) -> str:
        return transcribe(model, pcm, settings.language, settings.beam_size, settings.window,
                          prefer)  # fmt: skip

    def solo_best(pcm: bytes) -> str:
        return transcribe(model, pcm, settings.language, settings.beam_size, settings.window)

    def raw(pcm: bytes) -> str:
        segments, _info = model.transcribe(int16_to_float(pcm), language=settings.language,
                                           beam_size=settings.beam_size)  # fmt: skip
        return " ".join(segment.text.strip() for segment in segments).strip()

    typed = {text: match_key(matcher, text) for text in positives}
    results: dict[str, Any] = {}
    clips = [(text, speed, said(text, speed)) for speed in speeds for text in positives + negatives]
    for way, hear in (("solo", solo), ("solo_best_only", solo_best), ("raw", raw)):
        same = taken = 0
        misses: list[str] = []
        for text, speed, pcm in clips:
            heard = hear(pcm)
            if text in typed:
                if match_key(matcher, heard) == typed[text]:
                    same += 1
                else:
                    misses.append(f"{text!r} @{speed} -> {heard!r}")
            elif matcher.match(heard) is not None:
                taken += 1
                misses.append(f"negative {text!r} @{speed} -> {heard!r}")
        results[way] = {
            "same_as_typed": round(same / (len(positives) * len(speeds)), 4),
            "negatives_taken": taken,
            "misses": misses,
        }
    results["same_as_typed_vs_raw"] = round(
        results["solo"]["same_as_typed"] / results["raw"]["same_as_typed"], 3
    )
    stt = {"model": settings.model, "beam_size": settings.beam_size, "window": settings.window,
           "prefer_commands": settings.prefer_commands}  # fmt: skip
    results |= {"voice": voice_name, "speeds": speeds, "positives": len(positives),
                "negatives": len(negatives), "stt": stt}  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--spoken", type=int, default=0, help="spoken skill turns (0 = none)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for --spoken")
    parser.add_argument("--heard", action="store_true", help="the utterance set said and heard")
    parser.add_argument("--speeds", type=float, nargs="+", default=[0.9, 1.0, 1.15])
    parser.add_argument("--voice", default="piper", help="piper, or one of tests/voice/"
                        "test_voice_other_voices.py's VOICES (flite-slt, ...)")  # fmt: skip
    args = parser.parse_args()
    data = tomllib.loads(UTTERANCES.read_text("utf-8"))
    positives = [case["text"] for case in data["positives"]]
    negatives = list(data["negatives"])
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    matcher = load_matcher(REPO_ROOT / "config" / "skills")
    compile_ms = (time.perf_counter() - started) * 1000
    timed(matcher.match_all, positives + negatives, 1)  # warm caches
    pos = timed(matcher.match_all, positives, args.rounds)
    neg = timed(matcher.match_all, negatives, args.rounds)
    adversarial = timed(matcher.match_all, ADVERSARIAL, args.rounds)
    raw = timed(lambda t: raw_regex(matcher, t), positives + negatives, args.rounds)
    spoken = spoken_turns(min(args.spoken, len(SPOKEN) - 1), args.budget) if args.spoken else None
    heard = (
        heard_utterances(matcher, positives, negatives, args.speeds, args.voice)
        if args.heard
        else None
    )
    print(json.dumps({
        "bench": "skills",
        "sentences": len(matcher.sentences),
        "intents": len(matcher.intents),
        "compile_ms": round(compile_ms, 2),
        "match": percentiles(pos + neg),
        "positives": percentiles(pos),
        "negatives": percentiles(neg),
        "adversarial": percentiles(adversarial),
        "raw_regex": percentiles(raw),
        "spoken": spoken,
        "heard": heard,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
