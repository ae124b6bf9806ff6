"""Run inside the wyoming-bench peer venv (.peers/wyoming-bench): measure Wyoming servers with
the `wyoming_bench` library (PyPI wyoming-bench) and print its summaries as one JSON object.

    wyoming_bench_json.py tts HOST:PORT ... --texts-file FILE --rounds N
    wyoming_bench_json.py stt HOST:PORT ... --corpus DIR --rounds N

`bench_wyoming.py` starts the servers and calls this; it is not a benchmark on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from wyoming.asr import Transcribe
from wyoming_bench.stt.bench import bench_stt_server
from wyoming_bench.stt.corpus import load_corpus
from wyoming_bench.stt.reporting import summarize_stt_mode
from wyoming_bench.tts.bench import bench_server
from wyoming_bench.tts.reporting import summarize_mode

MODES = ["non_streaming", "streaming"]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["tts", "stt"])
    parser.add_argument("servers", nargs="+")
    parser.add_argument("--texts-file")
    parser.add_argument("--corpus")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for server in args.servers:
        host, port = server.rsplit(":", 1)
        if args.kind == "tts":
            texts = [t for t in Path(args.texts_file).read_text().splitlines() if t.strip()]
            found = await bench_server(
                host, int(port), texts, MODES, None, None, args.rounds, 1, False, 0.0,
                10.0, 120.0, unique=True,
            )  # fmt: skip
            results[server] = {mode: summarize_mode(found, mode) for mode in MODES}
        else:
            samples = load_corpus(args.corpus)
            found = await bench_stt_server(
                host, int(port), samples, MODES, Transcribe(language="en"), args.rounds, 1,
                False, 1024, 0.0, 10.0, 120.0,
            )  # fmt: skip
            results[server] = {mode: summarize_stt_mode(found, mode) for mode in MODES}
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
