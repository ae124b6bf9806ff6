"""Which LLM answers a voice assistant's questions best: every model on one eval set.

Each model answers the questions of ``bench/data/assistant_eval.toml`` (facts, definitions,
arithmetic, advice, statements to take in, questions about the conversation so far, and
things Solo must decline) through Solo's own llm actor, as the dialogue actor asks it: a new
conversation per question (after the turns a conversation question needs), the configured
system prompt, the skills' tools offered (the skills actor runs beside it, as in Solo),
greedy decoding (temperature 0), the response cache off.
Scoring is the eval file's: keywords or whole numbers for answers, the honesty rule's
refusal words (tests/skills/honesty.toml) for declines, no refusal for statements.

Per model (one JSON object on stdout):

* ``correctness``: share of answerable questions answered right (a refusal is wrong);
  ``by_kind`` splits it up; ``over_refusals`` counts answerable questions refused.
* ``honesty``: share of decline questions refused.
* ``score``: the mean of correctness and honesty, so that neither inventing answers nor
  refusing everything wins.
* ``ttft_s``: time to first token seen by the caller (median and p90 over the questions; the
  system prompt is usually still in the KV cache, as in a running Solo), ``cold_ttft_s``:
  the first question after loading, whose whole prompt is evaluated. ``tokens_per_second``:
  the median of the actor's per-reply decode rate.

There is no raw-library baseline here: bench/bench_llm.py measures the actor against raw
llama-cpp-python; this one compares models through the same actor.

Usage: python bench/bench_models.py [--models ID_OR_PATH ...] [--threads 1]
       [--max-tokens 64] [--limit N] [--kinds KIND ...] [--set KEY=VALUE ...]
       [--replies FILE]   (FILE: every reply with its verdict, as JSON)
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
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.llm import child_spec
from solo_actors.messages import LLMDescribe, LLMDone, LLMRequest, LLMToken
from solo_actors.models.catalog import load_catalog
from solo_actors.names import SKILLS_NAME, STORE_NAME
from solo_actors.runtime.logs import configure_logging
from solo_actors.runtime.specs import worker_spec
from solo_actors.skills.actor import SkillsActor
from solo_actors.store.actor import StoreActor

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "bench" / "data" / "assistant_eval.toml"
HONESTY = ROOT / "tests" / "skills" / "honesty.toml"
NAME = "bench-models-llm"
KINDS = ("fact", "definition", "arithmetic", "advice", "statement", "conversation", "decline")
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")


class Question(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One eval question and what makes its reply right (see the eval file's header)."""

    kind: Literal[
        "fact", "definition", "arithmetic", "advice", "statement", "conversation", "decline"
    ]
    q: str
    before: list[str] = []
    """Turns asked first in the same conversation, unscored (kind "conversation")."""
    any: list[str] = []
    numbers: list[int] = []


class EvalSet(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    question: list[Question]


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, no thousands separators ("1,000" -> "1000")."""
    text = text.lower().replace("\u2019", "'")
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


def refuses(reply: str, refusal_words: list[str]) -> bool:
    text = normalise(reply)
    return any(word in text for word in refusal_words)


def verdict(question: Question, reply: str, refusal_words: list[str]) -> bool:
    """Whether ``reply`` is right for ``question``."""
    refused = refuses(reply, refusal_words)
    if question.kind == "decline":
        return refused
    if refused:
        return False
    if question.kind == "statement":
        return bool(reply.strip())  # taken in, not turned away
    text = normalise(reply)
    if any(re.search(keyword_pattern(word), text) for word in question.any):
        return True
    # A number the question itself says ("what is 17 times 23") is an echo, not an answer.
    echoed = {float(number) for number in NUMBER.findall(normalise(question.q))}
    found = {float(number) for number in NUMBER.findall(text)} - echoed
    return any(float(number) in found for number in question.numbers)


def keyword_pattern(word: str) -> str:
    """A keyword starts a word ("relax" matches "relaxing", not "unrelaxed"); one of three
    characters or fewer ("Au", "yen", "8") must be the whole word, or "Au" would match
    "because"."""
    end = r"(?!\w)" if len(word) <= 3 else ""
    return r"(?<!\w)" + re.escape(word.lower()) + end


def ask(question: str, conversation_id: str) -> tuple[float, LLMDone]:
    """One question as the dialogue actor asks it; the caller-side TTFT and the reply."""
    first: float | None = None
    with supervisors.inbox() as box:
        started = time.perf_counter()
        request = LLMRequest(
            conversation_id=conversation_id, prompt=question, reply_to=box.name, use_tools=True
        )
        supervisors.tell(NAME, request)
        while isinstance(event := box.receive(900), LLMToken):
            if first is None:
                first = time.perf_counter()
    assert isinstance(event, LLMDone), event
    return (first if first is not None else time.perf_counter()) - started, event


def evaluate(config: Config, questions: list[Question], refusal_words: list[str]) -> dict[str, Any]:
    """Every question through the llm actor running ``config.llm.model``."""
    loaded = time.perf_counter()
    # The skills actor is there because a running Solo offers its tools with every turn
    # (llm.tool_owners): they are ~900 tokens of the prompt, and a model reads a question
    # otherwise with them. The store keeps the skills' timers and reminders.
    children = [
        worker_spec(config, STORE_NAME, StoreActor),
        worker_spec(config, SKILLS_NAME, SkillsActor),
        child_spec(config, NAME),
    ]
    tree = supervisors.start_supervisor(supervisors.SupFlags(), children, name="bench-models")
    try:
        described = supervisors.ask(NAME, LLMDescribe(), timeout=600)
        load_s = time.perf_counter() - loaded
        ttfts: list[float] = []
        speeds: list[float] = []
        replies: list[dict[str, Any]] = []
        for index, question in enumerate(questions):
            for earlier in question.before:
                ask(earlier, f"eval-{index}")
            ttft, done = ask(question.q, f"eval-{index}")
            ttfts.append(ttft)
            if done.completion_tokens > 1:
                speeds.append(done.tokens_per_second)
            replies.append(
                {
                    "kind": question.kind,
                    "q": question.q,
                    "reply": done.text,
                    "right": verdict(question, done.text, refusal_words),
                    "refused": refuses(done.text, refusal_words),
                    "ttft_s": round(ttft, 3),
                    "prompt_eval_tokens": done.prompt_eval_tokens,
                    "completion_tokens": done.completion_tokens,
                }
            )
    finally:
        tree.stop()
    answerable = [r for r in replies if r["kind"] != "decline"]
    declines = [r for r in replies if r["kind"] == "decline"]
    # --kinds may leave one side out: its share is None, and the score the other side's.
    correctness = share_right(answerable)
    honesty = share_right(declines)
    shares = [s for s in (correctness, honesty) if s is not None]
    kinds = [kind for kind in KINDS if any(r["kind"] == kind for r in replies)]
    by_kind = {
        kind: f"{sum(r['right'] for r in replies if r['kind'] == kind)}"
        f"/{sum(r['kind'] == kind for r in replies)}"
        for kind in kinds
    }
    ordered = sorted(ttfts)
    return {
        "model": described.model,
        "file_mb": round(Path(described.path).stat().st_size / 1e6, 1),
        "template": described.template,
        "score": round(statistics.fmean(shares), 3),
        "correctness": None if correctness is None else round(correctness, 3),
        "honesty": None if honesty is None else round(honesty, 3),
        "by_kind": by_kind,
        "over_refusals": sum(r["refused"] for r in answerable),
        "ttft_s": {
            "median": round(statistics.median(ttfts), 3),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        },
        "cold_ttft_s": round(ttfts[0], 3),
        "tokens_per_second": round(statistics.median(speeds), 1) if speeds else None,
        "completion_tokens_median": statistics.median(r["completion_tokens"] for r in replies),
        "load_s": round(load_s, 2),
        "replies": replies,
    }


def share_right(replies: list[dict[str, Any]]) -> float | None:
    """The share of ``replies`` judged right; None for none."""
    return sum(r["right"] for r in replies) / len(replies) if replies else None


def catalog_llms(config: Config) -> list[str]:
    """The catalog's llm ids."""
    catalog = load_catalog(ROOT / config.models.catalog)
    return [model.id for model in catalog.models if model.role == "llm"]


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="catalog ids or .gguf paths (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (shared box: 1)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--limit", type=int, default=0, help="only the first N of each kind")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, help="only these kinds")
    parser.add_argument("--replies", type=Path, help="write every reply with its verdict here")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help='a config setting for this run, e.g. llm.system_prompt="..." (repeatable)',
    )  # fmt: skip
    args = parser.parse_args()
    questions = msgspec.toml.decode(EVAL.read_bytes(), type=EvalSet).question
    if args.kinds:
        questions = [question for question in questions if question.kind in args.kinds]
    if args.limit:
        seen: dict[str, int] = {}
        kept = []
        for question in questions:
            seen[question.kind] = seen.get(question.kind, 0) + 1
            if seen[question.kind] <= args.limit:
                kept.append(question)
        questions = kept
    honesty = tomllib.loads(HONESTY.read_text("utf-8"))
    refusal_words = [normalise(word) for word in honesty["refusal_words"]]
    var_dir = tempfile.mkdtemp(prefix="bench-models-")
    base = load_config("headless", environ={"SOLO__SOLO__VAR_DIR": var_dir}, settings=args.set)
    # In this process: the caller-side TTFT is the actor's, not a subprocess hop's.
    isolation = {name: mode for name, mode in base.isolation.items() if name != "llm"}
    base = msgspec.structs.replace(base, isolation=isolation)
    configure_logging(msgspec.structs.replace(base.log, level="warning"))
    results = []
    for model in args.models or catalog_llms(base):
        llm = msgspec.structs.replace(
            base.llm,
            model=model,
            n_threads=args.threads,
            max_tokens=args.max_tokens,
            temperature=0.0,
            seed=0,
            cache=False,
        )
        result = evaluate(msgspec.structs.replace(base, llm=llm), questions, refusal_words)
        print(
            f"{result['model']}: score {result['score']} correctness {result['correctness']} "
            f"honesty {result['honesty']} ttft {result['ttft_s']}",
            file=sys.stderr,
        )
        results.append(result)
    if args.replies:
        args.replies.write_text(json.dumps({r["model"]: r["replies"] for r in results}, indent=1))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    output = {
        "benchmark": "assistant eval: correctness, honesty, time to first token per model",
        "questions": len(questions),
        "by_kind": {kind: sum(q.kind == kind for q in questions) for kind in KINDS},
        "threads": args.threads,
        "max_tokens": args.max_tokens,
        "models": [{k: v for k, v in r.items() if k != "replies"} for r in results],
        "ranking": [r["model"] for r in sorted(results, key=lambda r: -r["score"])],
        "environment": {
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "commit": commit,
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "llama_cpp_python": metadata.version("llama-cpp-python"),
        },
    }
    print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
