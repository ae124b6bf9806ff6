"""Benchmark streamed chat through Solo's /v1/chat/completions against llama-cpp-python
itself on the same model file. Prints one JSON object.

Solo runs as in production, in its own process (``run.py`` with a temporary var/, the api
on a free port, the llm's reply cache off so every request is generated); the official
``openai`` client streams each reply. The peer is llama-cpp-python's own
``create_chat_completion(stream=True)`` in this process, on the same GGUF, with the same
messages, greedy sampling, ``max_tokens`` and thread count. Runs alternate between the two,
so a change in the machine's load hits both alike; each run's question differs (its
number), so both evaluate a new prompt suffix every time, as a chat client does.

* time to first token: from sending the request to the first content piece;
* tokens/s: (completion tokens - 1) / (last piece - first piece), from the usage each
  side reports.

The target (issue #19): Solo >= 0.95x the peer's tokens/s, and a first token within 10 ms
of it. ``load_average`` is recorded because the machine may be shared.

Usage: python bench/bench_openai_api.py [--profile NAME] [--model ID] [--runs N] [--max-tokens N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai
from llama_cpp import Llama

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from solo_actors.config import load_config  # noqa: E402
from solo_actors.llm.engine import thread_counts  # noqa: E402
from solo_actors.models import resolve_model  # noqa: E402

SYSTEM = "You are a helpful assistant. Answer in detail."
QUESTION = "Explain how a lighthouse works, step by step. (question {index})"
TARGET_RATIO = 0.95
TARGET_TTFT_MS = 10.0


def start_solo(args: argparse.Namespace, var_dir: Path) -> subprocess.Popen[bytes]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SOLO")}
    environ.update({
        "SOLO__SOLO__VAR_DIR": str(var_dir), "SOLO__API__PORT": "0",
        "SOLO__LLM__CACHE": "false", "SOLO__LOG__LEVEL": "warning",
        "SOLO__LLM__MAX_TOKENS": str(args.max_tokens),
    })  # fmt: skip
    if args.model:
        environ["SOLO__LLM__MODEL"] = args.model
    if args.threads is not None:
        environ["SOLO__LLM__N_THREADS"] = str(args.threads)
    return subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--profile", args.profile],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_ready(url_file: Path, timeout: float = 180.0) -> str:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if url_file.exists():
            url = url_file.read_text().strip()
            try:
                with urllib.request.urlopen(url + "/ready", timeout=5) as response:
                    if response.status == 200:
                        return url
            except OSError:
                pass
        time.sleep(0.2)
    raise TimeoutError(f"Solo was not ready within {timeout:g} s")


def messages(index: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": QUESTION.format(index=index)}]  # fmt: skip


def measure(started: float, pieces: list[float], tokens: int) -> dict[str, float]:
    speed = (tokens - 1) / (pieces[-1] - pieces[0]) if tokens > 1 and len(pieces) > 1 else 0.0
    return {"ttft_ms": (pieces[0] - started) * 1000, "tokens_per_second": speed,
            "tokens": tokens}  # fmt: skip


def solo_run(client: openai.OpenAI, model: str, index: int, max_tokens: int) -> dict[str, float]:
    pieces: list[float] = []
    tokens = 0
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=model, messages=messages(index), temperature=0, max_tokens=max_tokens,
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(time.perf_counter())
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return measure(started, pieces, tokens)


def raw_run(llama: Llama, index: int, max_tokens: int) -> dict[str, float]:
    pieces: list[float] = []
    tokens = 0
    started = time.perf_counter()
    for chunk in llama.create_chat_completion(
        messages=messages(index),
        temperature=0,
        max_tokens=max_tokens,
        stream=True,
    ):
        delta = chunk["choices"][0]["delta"]
        if delta.get("content"):
            pieces.append(time.perf_counter())
            tokens += 1  # llama-cpp-python streams one token per chunk
    return measure(started, pieces, tokens)


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    speeds = [run["tokens_per_second"] for run in runs]
    return {
        "ttft_ms_median": round(statistics.median(r["ttft_ms"] for r in runs), 1),
        "tokens_per_second_median": round(statistics.median(speeds), 2),
        "tokens_median": statistics.median(r["tokens"] for r in runs),
        "runs": [{key: round(value, 2) for key, value in run.items()} for run in runs],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="headless")
    parser.add_argument("--model", default="", help="llm catalog id (default: the profile's)")
    parser.add_argument("--runs", type=int, default=5, help="runs per side")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None,
                        help="llama.cpp threads on both sides (default: llm.n_threads); 1 on "
                        "a shared machine, where spinning threads stall each other")  # fmt: skip
    args = parser.parse_args()
    config = load_config(args.profile, environ={})
    model_ref = args.model or config.llm.model
    resolved = resolve_model(model_ref, config.models, role="llm", var_dir=config.solo.var_dir)
    model_name = resolved.catalog_id or resolved.path.name
    threads = thread_counts(config.llm.n_threads if args.threads is None else args.threads)
    llama = Llama(model_path=str(resolved.path), n_ctx=config.llm.n_ctx,
                  n_batch=config.llm.n_batch, n_ubatch=config.llm.n_batch,
                  n_threads=threads.generating, n_threads_batch=threads.prompt,
                  verbose=False)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="solo-bench-openai-") as folder:
        var_dir = Path(folder) / "var"
        process = start_solo(args, var_dir)
        try:
            url = wait_ready(var_dir / "api" / "url")
            token = (var_dir / "api" / "admin.token").read_text().strip()
            client = openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0,
                                   timeout=300)  # fmt: skip
            time.sleep(5)  # models finish loading in the background after /ready
            solo_run(client, model_name, -1, 8)  # warm-up: connection, first prompt
            raw_run(llama, -1, 8)
            solo: list[dict[str, float]] = []
            raw: list[dict[str, float]] = []
            for index in range(args.runs):
                solo.append(solo_run(client, model_name, index, args.max_tokens))
                raw.append(raw_run(llama, index, args.max_tokens))
                print(f"run {index}: solo {solo[-1]}, llama-cpp-python {raw[-1]}",
                      file=sys.stderr)  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=60)
    solo_summary, raw_summary = summary(solo), summary(raw)
    ratio = solo_summary["tokens_per_second_median"] / raw_summary["tokens_per_second_median"]
    ttft_gap = solo_summary["ttft_ms_median"] - raw_summary["ttft_ms_median"]
    print(json.dumps({
        "bench": "openai_chat_streamed_vs_llama_cpp_python",
        "model": model_name, "profile": args.profile, "max_tokens": args.max_tokens,
        "runs": args.runs, "threads": threads.generating,
        "solo_v1": solo_summary, "llama_cpp_python": raw_summary,
        "tokens_per_second_ratio": round(ratio, 3),
        "ttft_difference_ms": round(ttft_gap, 1),
        "meets_target": ratio >= TARGET_RATIO and ttft_gap <= TARGET_TTFT_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "python": platform.python_version(),
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
