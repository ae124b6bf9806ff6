"""Memory benchmarks: embedding speed, and recall at 100,000 memories on LanceDB and pgvector.

Prints one JSON object. Embeddings: sentences/s for batches and the median latency of one
query, with the catalog's ONNX MiniLM, for the memory actor's embedder and for the bare
onnxruntime session on the same sentences in the same run (and their ratio). Recall:
100,000 synthetic unit vectors (384-d, clustered like sentence embeddings, so nearest
neighbours mean something), searched through the same index classes the memory actor uses
(LanceDB IVF_HNSW_SQ with nprobes and refine; pgvector HNSW with ef_search, and a sweep of
ef_search); p50/p90/p99 latency over the queries and recall@10 against exact search with
numpy in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import psycopg

from solo_actors.config import Config, load_config
from solo_actors.memory.embedder import DIMENSIONS, load_embedder
from solo_actors.memory.index import MemoryIndex, make_index
from solo_actors.messages import MemoryFilter, Remember
from solo_actors.models import resolve_model
from solo_actors.store.embedded_pg import EmbeddedPostgres
from solo_actors.store.schema import MEMORY_TABLE

MEMORIES = 100_000
QUERIES = 100
K = 10
INSERT_CHUNK = 10_000
EF_SEARCH_SWEEP = (20, 80, 120)
NPROBES_SWEEP = (8, 16, 32)


def synthetic_vectors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors whose variance decays over (rotated) directions, as sentence embeddings'
    does, so neighbours stand out from the crowd; queries are near-duplicates of memories."""
    scales = (np.arange(1, DIMENSIONS + 1) ** -0.7).astype(np.float32)
    rotation = np.linalg.qr(rng.standard_normal((DIMENSIONS, DIMENSIONS)))[0].astype(np.float32)
    data = (rng.standard_normal((MEMORIES, DIMENSIONS)).astype(np.float32) * scales) @ rotation
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    noise = (rng.standard_normal((QUERIES, DIMENSIONS)).astype(np.float32) * scales) @ rotation
    queries = data[rng.integers(0, MEMORIES, QUERIES)] + 0.05 * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return data, queries


def bench_embeddings(config: Config) -> dict[str, object]:
    """The memory actor's embedder against the bare onnxruntime session on the same sentences,
    interleaved: the session gets them pre-tokenised and padded in batches of
    ``memory.batch_size``, so the ratio is what tokenising, padding and pooling cost."""
    settings = config.memory
    model = resolve_model(settings.model, config.models, role="embeddings")
    embedder = load_embedder(model.path, settings.max_tokens, settings.batch_size,
                             settings.threads, settings.batch_tokens, settings.spin)  # fmt: skip
    raw = onnxruntime.InferenceSession(str(model.path / "model.onnx"),
                                       providers=["CPUExecutionProvider"])  # fmt: skip
    sentences = [f"User: remind me about item {i}; it matters for the plan of week {i % 52}."
                 for i in range(1_024)]  # fmt: skip
    queries = [f"what did I say about item {i}?" for i in range(100)]

    def feeds(texts: list[str]) -> dict[str, np.ndarray]:
        ids = [encoding.ids for encoding in embedder.tokenizer.encode_batch_fast(texts)]
        width = max(map(len, ids))
        padded = np.array([row + [0] * (width - len(row)) for row in ids], dtype=np.int64)
        mask = (padded != 0).astype(np.int64)
        return {"input_ids": padded, "attention_mask": mask,
                "token_type_ids": np.zeros_like(padded)}  # fmt: skip

    batches = [feeds(sentences[i : i + settings.batch_size])
               for i in range(0, len(sentences), settings.batch_size)]  # fmt: skip
    singles = [feeds([query]) for query in queries]
    embedder.embed(sentences[:64])  # warm-up
    raw.run(None, batches[0])
    rates: dict[str, list[float]] = {"embedder": [], "onnxruntime": []}
    cpu_rates: dict[str, list[float]] = {"embedder": [], "onnxruntime": []}

    def timed(name: str, work: Callable[[], object]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        work()
        rates[name].append(len(sentences) / (time.perf_counter() - started))
        cpu_rates[name].append(len(sentences) / (time.process_time() - cpu))

    for _ in range(3):
        timed("embedder", lambda: embedder.embed(sentences))
        timed("onnxruntime", lambda: [raw.run(None, batch) for batch in batches])
    latencies: dict[str, list[float]] = {"embedder": [], "onnxruntime": []}
    for query, single in zip(queries, singles, strict=True):
        started = time.perf_counter()
        embedder.embed([query])
        latencies["embedder"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        raw.run(None, single)
        latencies["onnxruntime"].append((time.perf_counter() - started) * 1000)
    by_length = {}
    for words in (2, 6, 12, 24):
        # "note 17: " + words: about 1.3 tokens per word, plus [CLS] and [SEP].
        texts = [f"note {i}: " + " ".join(["plan"] * words) for i in range(512)]
        tokens = len(embedder.tokenizer.encode(texts[0]).ids)
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            embedder.embed(texts)
            runs.append(len(texts) / (time.perf_counter() - started))
        by_length[f"{tokens}_tokens"] = round(statistics.median(runs), 1)
    rate = {name: statistics.median(values) for name, values in rates.items()}
    latency = {name: statistics.median(values) for name, values in latencies.items()}
    return {
        "batched_sentences_per_s": round(rate["embedder"], 1),
        "single_query_p50_ms": round(latency["embedder"], 2),
        "single_query_p99_ms": round(float(np.percentile(latencies["embedder"], 99)), 2),
        # Per second of this process's CPU time (all its threads): what a busy machine
        # changes least. An idle machine gives at most threads x this per wall second.
        "batched_sentences_per_cpu_s": round(statistics.median(cpu_rates["embedder"]), 1),
        "onnxruntime_batched_sentences_per_s": round(rate["onnxruntime"], 1),
        "onnxruntime_batched_sentences_per_cpu_s": round(
            statistics.median(cpu_rates["onnxruntime"]), 1
        ),
        "onnxruntime_single_query_p50_ms": round(latency["onnxruntime"], 2),
        "batched_ratio_to_onnxruntime": round(rate["embedder"] / rate["onnxruntime"], 3),
        "single_ratio_to_onnxruntime": round(latency["embedder"] / latency["onnxruntime"], 3),
        "tokens_per_sentence": int(batches[0]["input_ids"].shape[1]),
        # The same embedder on sentences of other lengths: the work grows with the tokens.
        "batched_sentences_per_s_by_length": by_length,
        "settings": {
            "batch_size": settings.batch_size,
            "batch_tokens": settings.batch_tokens,
            "threads": settings.threads,
            "spin": settings.spin,
        },
    }


def reindex_pgvector(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SET maintenance_work_mem = '1GB'")
        admin.execute(f"CREATE INDEX {MEMORY_TABLE}_embedding ON {MEMORY_TABLE} "
                      "USING hnsw (embedding vector_cosine_ops)")  # fmt: skip


def bench_index(
    index: MemoryIndex, data: np.ndarray, queries: np.ndarray,
    after_load: Callable[[], None] = lambda: None,
) -> dict[str, float]:  # fmt: skip
    started = time.perf_counter()
    for start in range(0, MEMORIES, INSERT_CHUNK):
        chunk = data[start : start + INSERT_CHUNK]
        index.add([Remember(text=f"memory {start + i}", memory_id=str(start + i), at=0.0)
                   for i in range(len(chunk))], chunk)  # fmt: skip
    after_load()
    load_s = time.perf_counter() - started
    return {**search_figures(index, data, queries), "load_and_index_s": round(load_s, 1)}


def search_figures(index: MemoryIndex, data: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :K]
    everything = MemoryFilter()
    for query in queries[:10]:
        index.search(query, K, everything, -1.0)  # warm-up
    latencies, hits = [], 0
    for query, truth in zip(queries, exact, strict=True):
        started = time.perf_counter()
        found = index.search(query, K, everything, -1.0)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += len({int(item.memory_id) for item in found} & set(truth.tolist()))
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(float(np.percentile(latencies, 90)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "recall_at_10": round(hits / (QUERIES * K), 4),
    }


def sweep(
    environ: dict[str, str], setting: str, values: tuple[int, ...], data: np.ndarray,
    queries: np.ndarray,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """How recall and latency trade against one ``memory`` search setting, on the index
    already loaded (the default's figures are the main entry)."""
    figures = {}
    for value in values:
        settings = {**environ, f"SOLO__MEMORY__{setting}": str(value)}
        index = make_index(load_config("test", environ=settings), DIMENSIONS)
        index.open()
        figures[str(value)] = search_figures(index, data, queries)
        index.close()
    return figures


def exact_numpy_p50(data: np.ndarray, queries: np.ndarray) -> float:
    latencies = []
    for query in queries[:50]:
        started = time.perf_counter()
        np.argpartition(-(data @ query), K)[:K]
        latencies.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(latencies), 2)


def main() -> None:
    rng = np.random.default_rng(7)
    data, queries = synthetic_vectors(rng)
    result: dict[str, object] = {"bench": "memory", "memories": MEMORIES, "queries": QUERIES}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        lance_environ = {"SOLO__SOLO__VAR_DIR": str(root / "var")}
        lance_config = load_config("test", environ=lance_environ)
        result["embeddings"] = bench_embeddings(lance_config)
        lance = make_index(lance_config, DIMENSIONS)
        lance.open()
        # Built as the memory actor's maintenance would, once the rows are in.
        result["lancedb_ivf_hnsw_sq"] = bench_index(lance, data, queries,
                                                    after_load=lance.build_index)  # fmt: skip
        lance.close()
        result["lancedb_nprobes_sweep"] = sweep(lance_environ, "NPROBES", NPROBES_SWEEP,
                                                data, queries)  # fmt: skip
        server = EmbeddedPostgres(root / "pg")
        server.start()
        try:
            pg_environ = {
                "SOLO__SOLO__VAR_DIR": str(root / "var"),
                "SOLO__STORE__BACKEND": "postgres",
                "SOLO__STORE__PG_DSN": server.dsn,
            }
            pg_config = load_config("test", environ=pg_environ)
            pgvector = make_index(pg_config, DIMENSIONS)
            pgvector.open()
            # A bulk import loads first and indexes after: far faster than 100,000 HNSW inserts.
            with psycopg.connect(server.dsn, autocommit=True) as admin:
                admin.execute(f"DROP INDEX {MEMORY_TABLE}_embedding")
            result["pgvector_hnsw"] = bench_index(pgvector, data, queries, after_load=lambda: (
                reindex_pgvector(server.dsn)))  # fmt: skip
            pgvector.close()
            result["pgvector_ef_search_sweep"] = sweep(pg_environ, "EF_SEARCH", EF_SEARCH_SWEEP,
                                                       data, queries)  # fmt: skip
        finally:
            server.stop()
    result["exact_numpy_p50_ms"] = exact_numpy_p50(data, queries)
    result["load_average"] = [round(value, 2) for value in os.getloadavg()]
    result["targets"] = {"lancedb_p50_ms": 15, "recall_at_10": 0.9, "pgvector_p50_ms": 5,
                         "batched_sentences_per_s": 300, "single_query_ms": 10}  # fmt: skip
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
