"""Benchmark Solo's remote llm engine against the official `openai` client, both streaming
from the same llama-cpp-python server (``python -m llama_cpp.server``) on the same model.

Prints one JSON object. Each round sends the same conversation (Solo's system prompt plus
one user message, greedy, ``--max-tokens``) once through Solo's llm actor (``engine =
"openai"``: its `RemoteLLMActor` streams the reply as `LLMToken`s to an in-process sink)
and once straight through ``openai.OpenAI().chat.completions.create(stream=True)``; the
order alternates by round so that background load hits both alike. Figures are medians
over ``--runs`` rounds; the ratio and the overhead are medians of the per-round ratio and
difference.

* time to first token, from the caller's side: the request sent until the first text
  arrives (the actor: the sink's first `LLMToken`; the client: the first chunk with
  content). Target: Solo within 10 ms of the direct client.
* tokens/s: one over the median gap between consecutive text pieces (robust to a process
  preempted mid-run); ``mean_tokens_per_second`` is ``(n - 1) / (t_last - t_first)``.
  Target: Solo >= 0.95x the direct client.

Usage: python bench/bench_remote_llm.py [--model ID] [--runs N] [--max-tokens N] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import supervisors
from bench.local_servers import free_port
from solo_actors.config import Config, load_config
from solo_actors.llm import child_spec
from solo_actors.messages import LLMDone, LLMRequest, LLMToken
from solo_actors.models import resolve_model
from solo_actors.runtime.logs import configure_logging

PROMPT = "Write a long story about a dragon who learns to cook."
TOKENS_RATIO = 0.95
TTFT_OVERHEAD_MS = 10.0


def start_server(model: Path, threads: int, n_ctx: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("llama_cpp.server exited at start; run `make setup` (dev extra)")
        try:
            httpx.get(f"{url}/models", timeout=2.0)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("llama_cpp.server did not start within 120 s")


def timings(started: float, times: list[float]) -> dict[str, float]:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "ttft_ms": (times[0] - started) * 1000,
        "tokens_per_second": 1 / statistics.median(gaps) if gaps else 0.0,
        "mean_tokens_per_second": (len(times) - 1) / (times[-1] - times[0]) if gaps else 0.0,
        "pieces": len(times),
    }


def through_solo(llm: str, max_tokens: int) -> dict[str, float]:
    ref = supervisors.whereis(llm, timeout=10)
    assert ref is not None
    times: list[float] = []

    def sink(event: Any) -> None:
        if isinstance(event, LLMToken):
            times.append(time.perf_counter())

    started = time.perf_counter()
    done = ref.proxy().generate(LLMRequest(prompt=PROMPT, max_tokens=max_tokens), sink).get()
    assert isinstance(done, LLMDone), done
    return timings(started, times)


def direct(client: openai.OpenAI, config: Config, max_tokens: int) -> dict[str, float]:
    messages = [
        {"role": "system", "content": config.llm.system_prompt},
        {"role": "user", "content": PROMPT},
    ]
    times: list[float] = []
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=config.llm.remote.model, messages=messages, max_tokens=max_tokens,  # type: ignore[arg-type]
        temperature=0.0, top_p=config.llm.top_p, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            times.append(time.perf_counter())
    return timings(started, times)


def median_of(rows: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(row[key] for row in rows), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct-q4_1")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    base = load_config("test", environ={"SOLO__SOLO__VAR_DIR": "/tmp/solo-bench-remote"})
    configure_logging(msgspec.structs.replace(base.log, level="error"))
    model = resolve_model(args.model, base.models, role="llm", var_dir=base.solo.var_dir)
    server, url = start_server(model.path, args.threads, 2048)
    remote = msgspec.structs.replace(base.llm.remote, base_url=url, model="bench", fallback="none")
    llm_settings = msgspec.structs.replace(
        base.llm, engine="openai", cache=False, temperature=0.0, n_ctx=2048, remote=remote
    )
    config = msgspec.structs.replace(base, llm=llm_settings)
    tree = supervisors.start_supervisor(
        supervisors.SupFlags(), [child_spec(config, "llm-bench")], name="bench-remote"
    )
    client = openai.OpenAI(api_key="none", base_url=url, max_retries=0)
    try:
        through_solo("llm-bench", args.max_tokens)  # warm-up: the server's first prompt
        direct(client, config, args.max_tokens)
        solo_rows, direct_rows = [], []
        for run in range(args.runs):
            if run % 2:
                direct_rows.append(direct(client, config, args.max_tokens))
                solo_rows.append(through_solo("llm-bench", args.max_tokens))
            else:
                solo_rows.append(through_solo("llm-bench", args.max_tokens))
                direct_rows.append(direct(client, config, args.max_tokens))
    finally:
        client.close()
        tree.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    pairs = list(zip(solo_rows, direct_rows, strict=True))
    ratios = [solo["tokens_per_second"] / raw["tokens_per_second"] for solo, raw in pairs]
    overheads = [solo["ttft_ms"] - raw["ttft_ms"] for solo, raw in pairs]
    result = {
        "benchmark": "remote llm engine vs the openai client, same llama_cpp.server",
        "model": args.model,
        "runs": args.runs,
        "max_tokens": args.max_tokens,
        "server_threads": args.threads,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "solo": {key: median_of(solo_rows, key) for key in solo_rows[0]},
        "openai_client": {key: median_of(direct_rows, key) for key in direct_rows[0]},
        "tokens_per_second_ratio": round(statistics.median(ratios), 3),
        "ttft_overhead_ms": round(statistics.median(overheads), 2),
        "targets": {
            "tokens_per_second_ratio": f">= {TOKENS_RATIO}",
            "ttft_overhead_ms": f"<= {TTFT_OVERHEAD_MS}",
        },
    }
    result["meets_targets"] = (
        result["tokens_per_second_ratio"] >= TOKENS_RATIO
        and result["ttft_overhead_ms"] <= TTFT_OVERHEAD_MS
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
