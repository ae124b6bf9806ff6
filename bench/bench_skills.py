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

``load_average`` is recorded because the machine is shared: compare runs at similar load.

Usage: python bench/bench_skills.py [--rounds N]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solo_actors.config import REPO_ROOT
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
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
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
