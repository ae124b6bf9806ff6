"""Event ingest into DuckDB through the store actor, against raw DuckDB Arrow inserts.

Prints one JSON object: sustained events/s (median of runs) for one `RecordEvent` tell per
event and for `RecordEvents` batches of 1,000, each timed from the first tell until `Flush`
says everything is durable, and the raw library's rate for the same rows in the same run.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from solo_actors.config import load_config
from solo_actors.messages import Flush, RecordEvent, RecordEvents
from solo_actors.store.actor import StoreActor
from solo_actors.store.duckdb_backend import arrow_batch
from solo_actors.store.rows import rows_of
from solo_actors.store.schema import EVENTS

EVENTS_PER_RUN = 100_000
RUNS = 3
BATCH = 1_000


def through_actor(var_dir: Path, batched: bool) -> float:
    config = load_config("test", environ={"SOLO__SOLO__VAR_DIR": str(var_dir)})
    store = StoreActor.start(config)
    try:
        events = [RecordEvent(kind="bench", source="bench", data={"i": i})
                  for i in range(EVENTS_PER_RUN)]  # fmt: skip
        started = time.perf_counter()
        if batched:
            for start in range(0, EVENTS_PER_RUN, BATCH):
                store.tell(RecordEvents(events=events[start : start + BATCH]))
        else:
            for event in events:
                store.tell(event)
        assert store.ask(Flush(), timeout=300).durable
        return EVENTS_PER_RUN / (time.perf_counter() - started)
    finally:
        store.stop()


def raw_duckdb(var_dir: Path) -> float:
    var_dir.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(var_dir / "raw.duckdb"))
    connection.execute("CREATE TABLE events (created_at TIMESTAMP, kind VARCHAR, "
                       "source VARCHAR, data JSON)")  # fmt: skip
    events = [RecordEvent(kind="bench", source="bench", data={"i": i})
              for i in range(EVENTS_PER_RUN)]  # fmt: skip
    started = time.perf_counter()
    rows = [rows_of(event, 65536)[0][1] for event in events]
    for start in range(0, EVENTS_PER_RUN, 5_000):  # the store's default flush_rows
        connection.register("incoming", arrow_batch(EVENTS, rows[start : start + 5_000]))
        connection.execute("INSERT INTO events SELECT * FROM incoming")
        connection.unregister("incoming")
    rate = EVENTS_PER_RUN / (time.perf_counter() - started)
    connection.close()
    return rate


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        single = [through_actor(root / f"s{i}", batched=False) for i in range(RUNS)]
        batched = [through_actor(root / f"b{i}", batched=True) for i in range(RUNS)]
        raw = [raw_duckdb(root / f"r{i}") for i in range(RUNS)]
    single_rate, batched_rate, raw_rate = (statistics.median(x) for x in (single, batched, raw))
    json.dump({
        "bench": "store_ingest_duckdb",
        "events_per_run": EVENTS_PER_RUN, "runs": RUNS,
        "actor_tell_per_event_events_per_s": round(single_rate),
        "actor_batched_1000_events_per_s": round(batched_rate),
        "raw_duckdb_arrow_events_per_s": round(raw_rate),
        "ratio_tell_per_event_vs_raw": round(single_rate / raw_rate, 3),
        "ratio_batched_vs_raw": round(batched_rate / raw_rate, 3),
        "target_events_per_s": 20_000,
        "meets_target": single_rate >= 20_000,
    }, sys.stdout)  # fmt: skip
    print()


if __name__ == "__main__":
    main()
