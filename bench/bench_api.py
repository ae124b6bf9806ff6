"""Benchmark GET /status latency while the LLM generates, against the same load at rest.
Prints one JSON object.

The assistant runs as it does in production, in its own process (``run.py`` with a
temporary var/ and the api on a free port); this process is only the load generator, so
the client's own work never shares the server's interpreter. Load is open-loop: one
request every 1/rate seconds whatever the answers do (a closed loop would slow down with
the server and hide its latency).

* ``idle``: /status at ``--rate`` req/s for ``--seconds`` with nothing else happening;
  the baseline of the ratio.
* ``generating``: the same, while a background loop keeps the llm busy with streamed /ask
  turns (a long answer each); ``llm_tokens_streamed_in_window`` counts the tokens that
  arrived during the window, proving the model really was generating.

The target (issue #7) is p99 <= 20 ms while generating. ``load_average`` is recorded
because the machine is shared: compare runs only at similar load.

Usage: python bench/bench_api.py [--profile NAME] [--model ID] [--rate N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
ASK_PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
TARGET_P99_MS = 20.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_assistant(args: argparse.Namespace, var_dir: Path) -> subprocess.Popen[bytes]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SOLO")}
    environ.update({
        "SOLO__SOLO__VAR_DIR": str(var_dir), "SOLO__API__PORT": "0",
        "SOLO__API__RATE_PER_TOKEN": "100000", "SOLO__API__RATE_PER_ADDRESS": "100000",
        "SOLO__API__RATE_BURST": "100000", "SOLO__LLM__CACHE": "false",
        "SOLO__LLM__MAX_TOKENS": "256", "SOLO__LOG__LEVEL": "warning",
    })  # fmt: skip
    if args.model:
        environ["SOLO__LLM__MODEL"] = args.model
    return subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--profile", args.profile],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url_file: Path, timeout: float = 180.0) -> str:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if url_file.exists():
                url = url_file.read_text().strip()
                try:
                    async with session.get(url + "/ready") as response:
                        if response.status == 200:
                            return url
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the assistant was not ready within {timeout:g} s")


async def load(session: aiohttp.ClientSession, url: str, rate: float,
               seconds: float) -> dict[str, Any]:  # fmt: skip
    """Open-loop GETs of /status; latency of each, in milliseconds."""
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            async with session.get(url + "/status") as response:
                await response.read()
                if response.status != 200:
                    errors += 1
                    return
        except aiohttp.ClientError:
            errors += 1
            return
        latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    begin = time.perf_counter()
    count = int(rate * seconds)
    for index in range(count):
        delay = begin + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    sent_for = time.perf_counter() - begin
    await asyncio.gather(*tasks)
    return {
        "requests": count, "errors": errors, "achieved_rate": round(count / sent_for, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
    }  # fmt: skip


async def keep_generating(session: aiohttp.ClientSession, url: str,
                          token_times: list[float], stop: asyncio.Event) -> None:  # fmt: skip
    """/ask turns one after the other, streamed: the arrival time of every token is kept,
    so the loaded phase can show that the model was generating all along."""
    while not stop.is_set():
        async with session.post(url + "/ask?stream=1", json={"text": ASK_PROMPT}) as response:
            async for line in response.content:
                if line.startswith(b"event: token"):
                    token_times.append(time.perf_counter())
                if stop.is_set():
                    break


async def bench(args: argparse.Namespace, url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        # Ready is not settled: models finish loading in the background for a few seconds.
        await asyncio.sleep(args.settle)
        await load(session, url, args.rate, 1.0)  # warm-up: connections, first requests
        idle = await load(session, url, args.rate, args.seconds)
        token_times: list[float] = []
        stop = asyncio.Event()
        generator = asyncio.create_task(keep_generating(session, url, token_times, stop))
        await asyncio.sleep(args.warmup)  # the first turn is past its prompt, tokens flowing
        window_start = time.perf_counter()
        generating = await load(session, url, args.rate, args.seconds)
        window = time.perf_counter() - window_start
        stop.set()
        await generator
    streamed = sum(1 for moment in token_times if moment >= window_start)
    generating["llm_tokens_streamed_in_window"] = streamed
    generating["llm_tokens_per_second"] = round(streamed / window, 1)
    return {"idle": idle, "generating": generating}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="headless")
    parser.add_argument("--model", default="", help="catalog id (default: the profile's)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per phase")
    parser.add_argument(
        "--settle",
        type=float,
        default=10.0,
        help="seconds after /ready before measuring (background loading)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of generation before the loaded phase starts",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="solo-bench-api-") as folder:
        var_dir = Path(folder) / "var"
        process = start_assistant(args, var_dir)
        try:
            url = asyncio.run(wait_ready(var_dir / "api" / "url"))
            token = (var_dir / "api" / "admin.token").read_text().strip()
            results = asyncio.run(bench(args, url, token))
        finally:
            process.terminate()
            process.wait(timeout=60)
    p99 = results["generating"]["p99_ms"]
    print(json.dumps({
        "bench": "api_status_under_generation",
        "rate": args.rate, "seconds": args.seconds, "profile": args.profile,
        **results,
        "p99_ratio_generating_vs_idle": round(p99 / results["idle"]["p99_ms"], 2),
        "target_p99_ms": TARGET_P99_MS, "meets_target": p99 <= TARGET_P99_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "python": platform.python_version(),
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
