"""Listing memories newest first (``GET /memories``, the dashboard, "what do you remember"):
`MemoryIndex.newest` against the plain way with the raw library, in the same run.

Prints one JSON object. 20,000 memories of sentence length go into LanceDB and pgvector
through the index classes the memory actor uses; the median of listing the newest 20 is
timed for `newest` and for the raw way (LanceDB: scan every row's columns and sort in
Python; PostgreSQL: the page, ``ORDER BY at DESC LIMIT 20``, and the count, with psycopg
on one connection, no pool, no items), and their ratio (raw / newest: above 1 is faster).
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
from typing import Any

import numpy as np
import psycopg

from solo_actors.config import load_config
from solo_actors.memory.embedder import DIMENSIONS
from solo_actors.memory.index import LISTED_COLUMNS, LanceIndex, MemoryIndex, make_index
from solo_actors.messages import MemoryFilter, Remember
from solo_actors.store.embedded_pg import EmbeddedPostgres
from solo_actors.store.schema import MEMORY_TABLE

MEMORIES = 20_000
CHUNK = 2_000
PAGE = 20
RUNS = 30


def load(index: MemoryIndex) -> None:
    rng = np.random.default_rng(7)
    for start in range(0, MEMORIES, CHUNK):
        told = [Remember(text=f"The user said: fact number {n}, told in a sentence of about "
                         "the length people use.", kind="told", at=1000.0 + n)
                for n in range(start, start + CHUNK)]  # fmt: skip
        vectors = rng.standard_normal((CHUNK, DIMENSIONS)).astype(np.float32)
        index.add(told, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def median_ms(call: Callable[[], Any]) -> float:
    call()  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def figures(solo: Callable[[], Any], raw: Callable[[], Any]) -> dict[str, float]:
    solo_ms, raw_ms = median_ms(solo), median_ms(raw)
    return {"newest_p50_ms": solo_ms, "raw_p50_ms": raw_ms, "ratio": round(raw_ms / solo_ms, 2)}


def lance_raw(index: LanceIndex) -> list[dict[str, Any]]:
    rows = index.table.search().select(LISTED_COLUMNS).limit(MEMORIES).to_list()
    return sorted(rows, key=lambda row: row["at"], reverse=True)[:PAGE]


def main() -> None:
    result: dict[str, object] = {"bench": "memory_listing", "memories": MEMORIES, "page": PAGE}
    everything = MemoryFilter()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        lance = make_index(load_config("test", environ={"SOLO__SOLO__VAR_DIR": str(root)}),
                           DIMENSIONS)  # fmt: skip
        assert isinstance(lance, LanceIndex)
        lance.open()
        load(lance)
        result["lancedb"] = figures(lambda: lance.newest(everything, PAGE, 0),
                                    lambda: lance_raw(lance))  # fmt: skip
        lance.close()
        server = EmbeddedPostgres(root / "pg")
        server.start()
        try:
            pg = make_index(load_config("test", environ={
                "SOLO__SOLO__VAR_DIR": str(root), "SOLO__STORE__BACKEND": "postgres",
                "SOLO__STORE__PG_DSN": server.dsn,
            }), DIMENSIONS)  # fmt: skip
            pg.open()
            load(pg)
            with psycopg.connect(server.dsn, autocommit=True) as connection:
                columns = "memory_id, text, kind, user_id, conversation_id, meta, at"
                page = f"SELECT {columns} FROM {MEMORY_TABLE} ORDER BY at DESC LIMIT {PAGE}"
                count = f"SELECT count(*) FROM {MEMORY_TABLE}"
                result["pgvector"] = figures(
                    lambda: pg.newest(everything, PAGE, 0),
                    lambda: (
                        connection.execute(page).fetchall(),
                        connection.execute(count).fetchone(),
                    ),
                )
            pg.close()
        finally:
            server.stop()
    result["load_average"] = [round(value, 2) for value in os.getloadavg()]
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
