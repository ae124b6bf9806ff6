"""Benchmark the llm actor against raw llama-cpp-python, in one run, on one model.

Prints one JSON object. The actor and the raw baselines use the very same `Llama` object
(the actor's per-process model cache hands it out), the same rendered prompt, the same
threads and greedy sampling with the same penalties, and they take turns run by run so
that background load hits both alike (in alternating order). Figures are medians over
``--runs`` rounds; the ratio and the overheads are medians of the per-round ratios and
differences, which a burst of background load during one contender's turn moves least.

* tokens/s: one over the median gap between consecutive tokens of a ``--max-tokens``
  reply (on a shared machine a process preempted mid-run moves a mean far more than the
  median gap). Baselines: a bare ``Llama.generate`` loop that detokenises each token (the
  least work possible) and ``Llama.create_completion(stream=True)`` (the library's
  streaming API). ``mean_tokens_per_second`` is ``(n - 1) / (t_last - t_first)``, for
  reference. Target: actor / bare loop >= 0.95 (median gaps).
* time to first token, from the caller's side: an `LLMRequest` told to the actor until its
  first `LLMToken` lands in the caller's inbox, vs calling the raw loop until its first
  token. Measured with the whole prompt to evaluate (the KV cache emptied before each run)
  and with the prompt already in the cache (only one token to evaluate, so the overhead is
  not hidden in the noise of the prompt evaluation). Target: overhead <= 5 ms.
* second turn: a two-turn conversation through the actor; the second turn's prompt-eval
  count (the actor's, and llama.cpp's own counter) must equal the new turn's tokens.
* cache hit: round trip of an ``ask`` by registered name for a repeated request answered
  from the response cache. Target: <= 2 ms.
* guessed tokens: the actor runs with ``llm.draft_tokens = 0`` above (the same work as the
  library, token by token). Then the spoken questions of bench_voice are answered by the
  engine with and without guessed tokens (``--draft-tokens``, default ``llm.draft_tokens``),
  alternately: the median per-reply ratio of the times (> 1: faster with them), the ratio
  of all the replies' times together, and how many replies are the same.

Usage: python bench/bench_llm.py [--model ID] [--runs N] [--max-tokens N] [--threads N]
       [--draft-tokens N]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import llama_cpp
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import supervisors
from bench.bench_voice import QUESTIONS
from solo_actors.config import Config, load_config
from solo_actors.llm import child_spec
from solo_actors.llm.engine import (
    Engine,
    Generation,
    ModelSettings,
    Sampling,
    load_model,
    thread_counts,
)
from solo_actors.llm.history import Conversation, PromptBuilder
from solo_actors.llm.templates import select_template
from solo_actors.messages import LLMDescribe, LLMDone, LLMRequest, LLMToken
from solo_actors.runtime.logs import configure_logging

TOKENS_RATIO = 0.95
TTFT_OVERHEAD_MS = 5.0
CACHE_HIT_MS = 2.0
CACHE_HITS = 50
QUESTION = "Write a short story about a robot who learns to paint."
# A conversation whose first reply ends by itself: a reply cut at max_tokens leaves its
# last sampled token unevaluated, and the next turn evaluates it along with the new turn.
FIRST_TURN = "What is the capital of France?"
SECOND_TURN = "And of Germany?"
TURN_TOKENS = 128


def median(values: list[float]) -> float:
    return statistics.median(values)


def speed(times: list[float]) -> float:
    """Tokens per second from the median gap between the arrival times of tokens."""
    return 1 / median([later - earlier for earlier, later in itertools.pairwise(times)])


def mean_speed(times: list[float]) -> float:
    """Tokens per second after the first token, over the whole reply."""
    return (len(times) - 1) / (times[-1] - times[0])


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.tree = supervisors.start_supervisor(
            supervisors.SupFlags(),
            [child_spec(config, "bench-llm")],
            name="bench",
        )
        described = supervisors.ask("bench-llm", LLMDescribe())
        self.model_name = described.model
        settings = config.llm
        self.model = load_model(
            ModelSettings(described.path, settings.n_ctx, settings.n_batch, settings.n_threads)
        )
        self.llama = self.model.llama
        # The exact prompt the actor evaluates for QUESTION, for the raw baselines: built as
        # the actor builds it, from the same model and template (the actor is reached only
        # by messages, as every caller reaches it; it says which template it chose).
        engine = Engine(self.model)
        template = select_template(
            settings.template, engine.metadata, engine.bos_token, engine.eos_token
        )
        assert template.origin == described.template, (template.origin, described.template)
        self.builder = PromptBuilder(engine, template, settings.history_fill)
        room = settings.n_ctx - settings.max_tokens
        conversation = Conversation(system=settings.system_prompt)
        self.prompt_text = self.builder.fit(
            conversation, self.builder.draft(conversation, QUESTION), room
        ).text
        self.sampling = {
            "temp": 0.0,
            "top_p": settings.top_p,
            "top_k": settings.top_k,
            "repeat_penalty": settings.repeat_penalty,
        }

    def guessed_tokens(self, draft_tokens: int, rounds: int) -> dict[str, Any]:
        """Spoken questions' replies (bench_voice's) written by the engine with
        ``draft_tokens`` guesses after each token and without, alternately, each prompt
        read first: the median per-reply ratio of the times, and whether the replies match."""
        engine = Engine(self.model)
        settings = self.config.llm
        ratios: list[float] = []
        times: dict[int, list[float]] = {0: [], draft_tokens: []}
        same = drafted = accepted = 0
        for question in QUESTIONS:
            conversation = Conversation(system=settings.system_prompt)
            room = settings.n_ctx - settings.max_tokens
            draft = self.builder.draft(conversation, question)
            prompt = self.builder.fit(conversation, draft, room)
            engine.prefill(prompt.tokens)
            replies: dict[int, str] = {}
            for _ in range(rounds):
                pair: dict[int, float] = {}
                for guesses in (0, draft_tokens) if len(ratios) % 2 else (draft_tokens, 0):
                    sampling = Sampling(0.0, settings.top_p, settings.top_k,
                                        settings.repeat_penalty, -1, settings.max_tokens,
                                        draft_tokens=guesses)  # fmt: skip
                    result = Generation(prompt_tokens=len(prompt.tokens))
                    started = time.perf_counter()
                    replies[guesses] = "".join(
                        engine.stream(prompt.tokens, sampling, lambda: False, result)
                    )
                    pair[guesses] = time.perf_counter() - started
                    times[guesses].append(pair[guesses])
                    if guesses:
                        drafted += result.drafted
                        accepted += result.draft_accepted
                ratios.append(pair[0] / pair[draft_tokens])
            same += replies[0] == replies[draft_tokens]
        return {
            "draft_tokens": draft_tokens,
            "replies": len(QUESTIONS),
            "rounds": rounds,
            "reply_s_without": round(median(times[0]), 4),
            "reply_s_with": round(median(times[draft_tokens]), 4),
            "speed_with_vs_without": round(median(ratios), 3),
            "speed_with_vs_without_all_replies": round(sum(times[0]) / sum(times[draft_tokens]), 3),
            "guessed": drafted,
            "guesses_kept": accepted,
            "same_replies": same,
        }

    # -- one run of each contender ----------------------------------------------------------

    def actor_run(self) -> tuple[float, list[float]]:
        """TTFT and token arrival times of one reply through the actor, streamed by message
        into an inbox as every caller gets it."""
        times: list[float] = []
        with supervisors.inbox() as box:
            started = time.perf_counter()
            supervisors.tell("bench-llm", LLMRequest(prompt=QUESTION, reply_to=box.name))
            while isinstance(event := box.receive(600), LLMToken):
                times.append(time.perf_counter())
        assert isinstance(event, LLMDone), event
        return times[0] - started, times

    def raw_generate_run(self) -> tuple[float, list[float]]:
        """The same reply from a bare `Llama.generate` loop."""
        llama = self.llama
        times: list[float] = []
        started = time.perf_counter()
        with self.model.lock:  # the actor's context: one user at a time
            tokens = llama.tokenize(self.prompt_text.encode(), add_bos=False, special=True)
            for token in llama.generate(tokens, **self.sampling):
                if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                    break
                llama.detokenize([token])
                times.append(time.perf_counter())
                if len(times) >= self.config.llm.max_tokens:
                    break
        return times[0] - started, times

    def raw_completion_run(self) -> tuple[float, list[float]]:
        """The same reply from `Llama.create_completion(stream=True)`."""
        times: list[float] = []
        started = time.perf_counter()
        with self.model.lock:
            chunks: Iterator[Any] = self.llama.create_completion(  # type: ignore[assignment]
                self.prompt_text,
                max_tokens=self.config.llm.max_tokens,
                temperature=0.0,
                top_p=self.sampling["top_p"],
                top_k=self.sampling["top_k"],
                repeat_penalty=self.sampling["repeat_penalty"],
                stream=True,
            )
            for _chunk in chunks:
                times.append(time.perf_counter())
        return times[0] - started, times

    def empty_kv(self) -> None:
        """Forget the KV cache (between runs, while the actor is idle)."""
        with self.model.lock:
            self.llama.reset()

    # -- the measurements -------------------------------------------------------------------

    def generation(self, runs: int) -> dict[str, Any]:
        contenders: dict[str, Callable[[], tuple[float, list[float]]]] = {
            "actor": self.actor_run,
            "raw_generate": self.raw_generate_run,
            "raw_create_completion": self.raw_completion_run,
        }
        cold: dict[str, list[float]] = {name: [] for name in contenders}
        warm: dict[str, list[float]] = {name: [] for name in contenders}
        speeds: dict[str, list[float]] = {name: [] for name in contenders}
        means: dict[str, list[float]] = {name: [] for name in contenders}
        tokens: dict[str, int] = {}
        order = list(contenders.items())
        for _ in range(runs):
            # Reverse the order every round, so slow drift in the background load does not
            # always favour whoever goes first.
            order.reverse()
            for name, run in order:
                self.empty_kv()
                ttft, times = run()
                cold[name].append(ttft * 1e3)
                speeds[name].append(speed(times))
                means[name].append(mean_speed(times))
                tokens[name] = len(times)
                warm[name].append(run()[0] * 1e3)  # the same prompt again: all of it cached
        tps = {name: round(median(values), 2) for name, values in speeds.items()}
        paired = zip(speeds["actor"], speeds["raw_generate"], strict=True)
        ratio = median([actor / raw for actor, raw in paired])

        def ttft(samples: dict[str, list[float]]) -> dict[str, float]:
            actor, raw = samples["actor"], samples["raw_generate"]
            overhead = median([a - r for a, r in zip(actor, raw, strict=True)])
            return {
                "actor": round(median(actor), 2),
                "raw": round(median(raw), 2),
                "overhead": round(overhead, 2),
            }

        cached = ttft(warm)
        return {
            "tokens_per_second": {
                **tps,
                "mean_tokens_per_second": {
                    name: round(median(values), 2) for name, values in means.items()
                },
                "reply_tokens": tokens,
                "ratio": round(ratio, 3),
                "target": TOKENS_RATIO,
                "ok": ratio >= TOKENS_RATIO,
            },
            "time_to_first_token_ms": {
                "whole_prompt": ttft(cold),
                "prompt_cached": cached,
                "overhead_target": TTFT_OVERHEAD_MS,
                "ok": cached["overhead"] <= TTFT_OVERHEAD_MS,
            },
        }

    def second_turn(self) -> dict[str, Any]:
        first = supervisors.ask(
            "bench-llm", LLMRequest(prompt=FIRST_TURN, conversation_id="c", max_tokens=TURN_TOKENS)
        )
        llama_cpp.llama_perf_context_reset(self.llama.ctx)
        second = supervisors.ask(
            "bench-llm", LLMRequest(prompt=SECOND_TURN, conversation_id="c", max_tokens=TURN_TOKENS)
        )
        counted_by_llama = llama_cpp.llama_perf_context(self.llama.ctx).n_p_eval
        # The new turn: what the second prompt adds after the text of the first reply.
        asked = [
            {"role": "system", "content": self.config.llm.system_prompt},
            {"role": "user", "content": FIRST_TURN},
        ]
        head = self.builder.template.render(asked, True) + first.text
        follow_up = [
            *asked,
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": SECOND_TURN},
        ]
        text = self.builder.template.render(follow_up, True)
        assert text.startswith(head)
        new_turn = len(self.builder.engine.tokenize(text[len(head) :], start=False))
        return {
            "first_turn_prompt_tokens": first.prompt_tokens,
            "first_turn_finish_reason": first.finish_reason,
            "second_turn_prompt_tokens": second.prompt_tokens,
            "second_turn_prompt_eval_tokens": second.prompt_eval_tokens,
            "llama_n_p_eval": counted_by_llama,
            "new_turn_tokens": new_turn,
            "ok": second.prompt_eval_tokens == new_turn == counted_by_llama,
        }


def cache_hits(config: Config) -> dict[str, Any]:
    """Round trips of a repeated request, answered from the response cache."""
    tree = supervisors.start_supervisor(
        supervisors.SupFlags(), [child_spec(config, "bench-llm-cache")], name="bench-cache"
    )
    try:
        request = LLMRequest(prompt=QUESTION, max_tokens=16)
        first = supervisors.ask("bench-llm-cache", request)
        latencies = []
        for _ in range(CACHE_HITS):
            started = time.perf_counter()
            hit = supervisors.ask("bench-llm-cache", request)
            latencies.append((time.perf_counter() - started) * 1e3)
            assert hit.cached and hit.text == first.text
        p50 = median(latencies)
        return {
            "p50": round(p50, 3),
            "p99": round(statistics.quantiles(latencies, n=100)[98], 3),
            "target": CACHE_HIT_MS,
            "ok": p50 <= CACHE_HIT_MS,
        }
    finally:
        tree.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="catalog id or .gguf path (default: llm.model)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="0 = auto, as llm.n_threads")
    parser.add_argument("--draft-tokens", type=int, default=0, help="0 = llm.draft_tokens")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="bench-llm-")
    config = load_config("headless", environ={"SOLO__SOLO__VAR_DIR": var_dir})
    draft_tokens = args.draft_tokens or config.llm.draft_tokens
    llm = msgspec.structs.replace(
        config.llm,
        model=args.model or config.llm.model,
        max_tokens=args.max_tokens,
        n_threads=args.threads,
        temperature=0.0,
        cache=False,
        draft_tokens=0,  # the actor against the library, token by token: the same work
        tool_owners=[],  # no tools' warm-up reading the shared context during a raw run
    )
    # In this process, whatever [isolation] says: the raw baselines share the actor's `Llama`.
    isolation = {name: mode for name, mode in config.isolation.items() if name != "llm"}
    config = msgspec.structs.replace(config, llm=llm, isolation=isolation)
    configure_logging(config.log)  # log lines to stderr: stdout carries only the JSON
    bench = Bench(config)
    try:
        result: dict[str, Any] = {
            "benchmark": "llm actor vs raw llama-cpp-python",
            "model": bench.model_name,
            "threads": dataclasses.asdict(thread_counts(args.threads)),
            "n_ctx": llm.n_ctx,
            "max_tokens": args.max_tokens,
            "runs": args.runs,
            **bench.generation(args.runs),
            "second_turn": bench.second_turn(),
            "guessed_tokens": bench.guessed_tokens(draft_tokens, rounds=2),
        }
    finally:
        bench.tree.stop()
    cached_config = msgspec.structs.replace(config, llm=msgspec.structs.replace(llm, cache=True))
    result["cache_hit_ms"] = cache_hits(cached_config)
    result["environment"] = {
        "python": platform.python_version(),
        "llama_cpp_python": metadata.version("llama-cpp-python"),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
