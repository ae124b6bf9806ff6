"""Benchmark streamed chat through Solo's /v1/chat/completions against llama-cpp-python's
own OpenAI-compatible server (``python -m llama_cpp.server``) on the same model file.
Prints one JSON object.

Solo runs as in production, in its own process (``run.py`` with a temporary var/, the api
on a free port, the llm's reply cache off so every request is generated). The peer is
``llama_cpp.server`` on loopback, started by this script on the same GGUF with the same
context, batch and thread counts. The official ``openai`` client streams each reply from
both, with the same messages, greedy sampling and ``max_tokens``. Runs alternate between
the two, so a change in the machine's load hits both alike; each run's question differs
(its number), so both evaluate a new prompt suffix every time, as a chat client does.

* time to first token: from sending the request to the first content piece;
* tokens/s: (completion tokens - 1) / (last piece - first piece), the completion tokens
  from the usage Solo reports, and for the peer its content chunks (one token each).

The target (issue #19): Solo >= 0.95x the peer's tokens/s, and a first token within 10 ms
of it. ``load_average`` is recorded because the machine may be shared.

Usage: python bench/bench_openai_api.py [--profile NAME] [--model ID] [--runs N] [--max-tokens N]
       [--threads N] [--nice N]
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

import httpx
import openai

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.local_servers import free_port  # noqa: E402
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
    if args.nice is not None:
        environ["SOLO__ISOLATION__LLM__NICE"] = str(args.nice)
    return subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--profile", args.profile],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def start_peer(path: Path, config: Any, threads: Any, port: int,
               log: Path) -> subprocess.Popen[bytes]:  # fmt: skip
    """llama_cpp.server on loopback with Solo's llama.cpp settings."""
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", str(config.llm.n_ctx),
        "--n_batch", str(config.llm.n_batch), "--n_ubatch", str(config.llm.n_batch),
        "--n_threads", str(threads.generating), "--n_threads_batch", str(threads.prompt),
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_peer(process: subprocess.Popen[bytes], base_url: str, log: Path,
              timeout: float = 180.0) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("llama_cpp.server exited at start (is the dev extra installed? "
                               f"make setup); its log:\n{log.read_text()[-3000:]}")  # fmt: skip
        try:
            if httpx.get(base_url + "/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"llama_cpp.server was not ready within {timeout:g} s")


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


def streamed_run(client: openai.OpenAI, model: str, index: int,
                 max_tokens: int) -> dict[str, float]:  # fmt: skip
    """One streamed reply; the completion tokens from the usage chunk when the server sends
    one (Solo), else one per content chunk (llama_cpp.server streams a token per chunk)."""
    pieces: list[float] = []
    usage = None
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=model, messages=messages(index), temperature=0, max_tokens=max_tokens,
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(time.perf_counter())
        if chunk.usage is not None:
            usage = chunk.usage.completion_tokens
    return measure(started, pieces, usage if usage is not None else len(pieces))


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
    parser.add_argument("--nice", type=int, default=None,
                        help="the llm process's nice increment (isolation.llm.nice; default: "
                        "the profile's, 5, which yields the CPU to the audio path and so also "
                        "to whatever else loads a shared machine; the peer runs at 0)")  # fmt: skip
    args = parser.parse_args()
    config = load_config(args.profile, environ={})
    model_ref = args.model or config.llm.model
    resolved = resolve_model(model_ref, config.models, role="llm", var_dir=config.solo.var_dir)
    model_name = resolved.catalog_id or resolved.path.name
    threads = thread_counts(config.llm.n_threads if args.threads is None else args.threads)
    with tempfile.TemporaryDirectory(prefix="solo-bench-openai-") as folder:
        var_dir = Path(folder) / "var"
        port = free_port()
        peer_log = Path(folder) / "llama-server.log"
        peer_url = f"http://127.0.0.1:{port}/v1"
        peer_process = start_peer(resolved.path, config, threads, port, peer_log)
        process = start_solo(args, var_dir)
        try:
            url = wait_ready(var_dir / "api" / "url")
            wait_peer(peer_process, peer_url, peer_log)
            token = (var_dir / "api" / "admin.token").read_text().strip()
            client = openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0,
                                   timeout=300)  # fmt: skip
            peer = openai.OpenAI(base_url=peer_url, api_key="none", max_retries=0, timeout=300)
            time.sleep(5)  # models finish loading in the background after /ready
            streamed_run(client, model_name, -1, 8)  # warm-up: connection, first prompt
            streamed_run(peer, model_name, -1, 8)
            solo: list[dict[str, float]] = []
            raw: list[dict[str, float]] = []
            for index in range(args.runs):
                solo.append(streamed_run(client, model_name, index, args.max_tokens))
                raw.append(streamed_run(peer, model_name, index, args.max_tokens))
                print(f"run {index}: solo {solo[-1]}, llama_cpp.server {raw[-1]}",
                      file=sys.stderr)  # fmt: skip
        finally:
            process.terminate()
            peer_process.terminate()
            process.wait(timeout=60)
            peer_process.wait(timeout=60)
    solo_summary, raw_summary = summary(solo), summary(raw)
    isolation = config.isolation.get("llm")
    llm_nice = args.nice if args.nice is not None else (isolation.nice if isolation else 0)
    ratio = solo_summary["tokens_per_second_median"] / raw_summary["tokens_per_second_median"]
    ttft_gap = solo_summary["ttft_ms_median"] - raw_summary["ttft_ms_median"]
    print(json.dumps({
        "bench": "openai_chat_streamed_vs_llama_cpp_server",
        "model": model_name, "profile": args.profile, "max_tokens": args.max_tokens,
        "runs": args.runs, "threads": threads.generating, "llm_nice": llm_nice,
        "solo_v1": solo_summary, "llama_cpp_server": raw_summary,
        "tokens_per_second_ratio": round(ratio, 3),
        "ttft_difference_ms": round(ttft_gap, 1),
        "meets_target": ratio >= TARGET_RATIO and ttft_gap <= TARGET_TTFT_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "python": platform.python_version(),
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
