"""End-of-turn benchmark: how often the words decide, how often they cut a question short.

Two sets of Piper speech (the catalog's voice, steady renditions), transcribed as the stt
actor transcribes the speech so far at a pause (same Whisper model, window and beam; the
pre-roll before speech and the 0.12 s tail after it, as vad cuts it), then judged as the
stt actor judges them (`turn_end_judge`: ``config/turn_end.toml`` and the configured model;
``--rules-only`` leaves the model out):

* the paused set (``bench/data/paused_questions.toml``): the words said *before* a
  mid-question pause. A ``complete`` verdict would end the turn there: a false cut. The
  silence timeout alone cuts every pause longer than it; that rate, for ``--pause``
  seconds of pause, is reported beside it.
* whole questions (the paused set's said without the pause, and the voice benchmark's): the
  verdict at the pause after the question sets the endpoint, the time from the last word
  to vad's decision. ``complete``: the tail, the transcription and the verdict, as measured
  here; ``unsure``: ``voice.vad.silence_timeout``; ``incomplete`` (a question taken for
  unfinished): ``incomplete_timeout``. The median and mean endpoint are reported against
  the silence timeout's, with the share of each verdict.

The judge's own cost (mean milliseconds per verdict) is measured on the same texts. One
JSON object on stdout. Run: ``.venv/bin/python bench/bench_turn_end.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_voice import QUESTIONS
from solo_actors.config import load_config
from solo_actors.voice.stt import load_whisper, transcribe, turn_end_judge, whisper_folder
from solo_actors.voice.vad import TAIL_SECONDS
from tests.voice.conftest import Speech

PAUSED = Path(__file__).with_name("data") / "paused_questions.toml"


class PausedSet(msgspec.Struct):
    pairs: list[tuple[str, str]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pause", type=float, default=0.7, help="the pause's length (s)")
    parser.add_argument("--rules-only", action="store_true", help="no language model")
    args = parser.parse_args()
    overrides = {"SOLO__VOICE__VAD__TURN_END_MODEL": '""'} if args.rules_only else {}
    config = load_config("prod", environ=overrides)
    vad, stt = config.voice.vad, config.voice.stt
    judge = turn_end_judge(config)
    model = load_whisper(whisper_folder(config), stt.threads)
    speech = Speech(config, Path("/tmp"))

    def heard(text: str) -> tuple[str, float]:
        """The words of `text` as stt hears them at the pause after it, and the time taken."""
        pcm = speech.clip(vad.pre_roll, text, TAIL_SECONDS, steady=True).tobytes()
        started = time.perf_counter()
        words = transcribe(model, pcm, stt.language, stt.beam_size, stt.window)
        return words, time.perf_counter() - started

    heard("What is the colour of grass?")  # loads and warms the model
    pairs = msgspec.toml.decode(PAUSED.read_bytes(), type=PausedSet).pairs
    cuts, waits = [], 0
    for before, after in pairs:
        words, _ = heard(before)
        verdict = judge.verdict(words)
        waits += verdict == "incomplete"
        if verdict == "complete":
            cuts.append({"said": f"{before} ... {after}", "heard_at_pause": words})
    endpoints: list[float] = []
    verdicts: dict[str, int] = {"complete": 0, "incomplete": 0, "unsure": 0}
    texts, taken_for_unfinished = [], []
    whole = [f"{before} {after}" for before, after in pairs] + QUESTIONS
    for question in whole:
        words, seconds = heard(question)
        texts.append(words)
        started = time.perf_counter()
        verdict = judge.verdict(words)
        seconds += time.perf_counter() - started
        verdicts[verdict] += 1
        endpoints.append({"complete": TAIL_SECONDS + seconds, "unsure": vad.silence_timeout,
                          "incomplete": vad.incomplete_timeout}[verdict])  # fmt: skip
        if verdict == "incomplete":
            taken_for_unfinished.append(words)
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for text in texts:
            judge.verdict(text)
    judge_ms = (time.perf_counter() - started) * 1000 / rounds / len(texts)
    endpoint = statistics.median(endpoints)
    print(json.dumps({
        "paused_questions": len(pairs),
        "pause_s": args.pause,
        "false_cut_rate": round(len(cuts) / len(pairs), 4),
        "false_cut_rate_silence_only": float(args.pause >= vad.silence_timeout),
        "waited_longer_rate": round(waits / len(pairs), 4),
        "false_cuts": cuts,
        "whole_questions": len(whole),
        "verdicts_on_whole_questions": verdicts,
        "taken_for_unfinished": taken_for_unfinished,
        "endpoint_median_s": round(endpoint, 3),
        "endpoint_mean_s": round(statistics.mean(endpoints), 3),
        "silence_timeout_s": vad.silence_timeout,
        "endpoint_ratio_vs_silence_only": round(endpoint / vad.silence_timeout, 3),
        "model": vad.turn_end_model if not args.rules_only else "",
        "judge_mean_ms": round(judge_ms, 3),
        "load_average": os.getloadavg()[0],
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
