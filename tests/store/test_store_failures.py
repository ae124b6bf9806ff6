"""What the store does when things go wrong: crashes, a locked file, PostgreSQL going away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from solo_actors.config import Config
from solo_actors.messages import (
    FORGOTTEN_WORDS,
    Flush,
    ForgetMentions,
    GetStoreStats,
    ReadRows,
    RecordEvent,
    RecordTurn,
    Rows,
    StoreFailure,
    StoreStats,
)
from solo_actors.store.actor import FORGETTING_LINE, UNSENT_DIR, StoreActor
from solo_actors.store.backend import StoreBackend
from solo_actors.store.embedded_pg import EmbeddedPostgres
from tests.conftest import wait_for

ROWS = 500
ASK = 30.0

WRITER = textwrap.dedent("""
    import sys, time
    from solo_actors.config import load_config
    from solo_actors.messages import Flush, GetStoreStats, RecordEvent
    from solo_actors.store.actor import StoreActor
    config = load_config("test", environ={"SOLO__SOLO__VAR_DIR": sys.argv[1],
                                          "SOLO__STORE__FLUSH_INTERVAL_MS": "50"})
    store = StoreActor.start(config)
    for i in range(int(sys.argv[2])):
        store.tell(RecordEvent(kind="k", source="crash-test", data={"i": i}))
    if sys.argv[3] == "ack":
        assert store.ask(Flush(), timeout=30).durable
    else:  # no Flush: wait until the store's own interval timer has written every row
        deadline = time.monotonic() + 60
        while store.ask(GetStoreStats(), timeout=30).buffered:  # answered after the tells
            assert time.monotonic() < deadline, "the flush interval never flushed the rows"
            time.sleep(0.01)
    print("written", flush=True)
    time.sleep(60)  # killed long before
""")


def stats(store: object) -> StoreStats:
    result = store.ask(GetStoreStats(), timeout=ASK)  # type: ignore[attr-defined]
    assert isinstance(result, StoreStats), result
    return result


@pytest.mark.parametrize("mode", ["ack", "interval"])
def test_a_write_survives_kill_9_after_its_ack_or_the_flush_interval(
    tmp_path: Path, mode: str
) -> None:
    """kill -9 the writing process: after `Flush` acks, or once the flush interval (50 ms)
    wrote the tells without one, every row is in the file."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), str(ROWS), mode],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    try:
        assert child.stdout is not None
        # Log lines come first. In "interval" mode the child waits until the store reports
        # nothing buffered: a fixed sleep after the tells raced the flush on a busy CPU.
        assert "written\n" in iter(child.stdout.readline, "")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    with duckdb.connect(str(tmp_path / "solo.duckdb")) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (ROWS,)


def test_a_locked_duckdb_file_is_reported_and_writes_wait(
    make_config: Callable[..., Config],
) -> None:
    config = make_config()
    path = config.solo.var_path(config.store.duckdb_file)
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
         "sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    store = StoreActor.start(config)
    try:
        store.tell(RecordEvent(kind="k", source="s"))
        failure = store.ask(ReadRows(table="events"), timeout=ASK)
        assert isinstance(failure, StoreFailure)
        assert "lock" in failure.message and "Only one process" in failure.message
        assert not store.ask(Flush(), timeout=ASK).durable
        holder.communicate("\n", timeout=10)  # the other process lets go
        wait_for(lambda: store.ask(Flush(), timeout=ASK).durable, "a durable flush")
        assert stats(store).rows["events"] == 1
    finally:
        holder.kill()
        holder.wait(10)
        store.stop()


def pg_config(
    make_config: Callable[..., Config], server: EmbeddedPostgres, **more: object
) -> Config:
    return make_config(store__backend="postgres", store__pg_dsn=server.dsn, store__retry_min=0.05,
                       store__retry_max=0.2, store__connect_timeout=1.0, **more)  # fmt: skip


def test_postgres_down_at_start_then_up(
    make_config: Callable[..., Config], pg_server: EmbeddedPostgres
) -> None:
    store = StoreActor.start(pg_config(make_config, pg_server))
    try:
        store.tell(RecordEvent(kind="early", source="s"))
        failure = store.ask(ReadRows(table="events"), timeout=ASK)
        assert isinstance(failure, StoreFailure) and "unreachable" in failure.message
        pg_server.start()
        wait_for(lambda: store.ask(Flush(), timeout=ASK).durable, "a durable flush")
        assert stats(store).rows["events"] == 1
    finally:
        store.stop()


def test_postgres_down_mid_run_keeps_writes_up_to_the_buffer_limit(
    make_config: Callable[..., Config], pg_server: EmbeddedPostgres
) -> None:
    pg_server.start()
    store = StoreActor.start(pg_config(make_config, pg_server, store__buffer_max_rows=100))
    try:
        store.tell(RecordEvent(kind="before", source="s"))
        assert store.ask(Flush(), timeout=ASK).durable
        pg_server.stop("immediate")
        for i in range(150):  # 100 fit in the buffer, 50 are past the limit
            store.tell(RecordEvent(kind="during", source="s", data={"i": i}))
        flushed = store.ask(Flush(), timeout=ASK)
        assert not flushed.durable and flushed.buffered == 100 and flushed.error
        assert store.is_alive()
        pg_server.start()
        wait_for(lambda: store.ask(Flush(), timeout=ASK).durable, "a durable flush")
        result = stats(store)
        assert result.dropped == 50
        rows = store.ask(ReadRows(table="events", limit=1000), timeout=ASK)
        kinds = [row[1] for row in rows.rows]
        assert kinds.count("during") == 100 and kinds.count("before") == 1
        assert kinds.count("store.dropped") == 1  # the loss is on record, not silent
    finally:
        store.stop()


def test_writes_unsent_at_stop_are_replayed_at_the_next_start(
    make_config: Callable[..., Config], pg_server: EmbeddedPostgres
) -> None:
    config = pg_config(make_config, pg_server)
    store = StoreActor.start(config)
    store.tell(RecordEvent(kind="kept", source="s"))
    store.stop()  # PostgreSQL never came up
    assert list(config.solo.var_path(UNSENT_DIR).glob("*.jsonl"))
    pg_server.start()
    again = StoreActor.start(config)
    try:
        wait_for(lambda: again.ask(Flush(), timeout=ASK).durable, "a durable flush")
        assert stats(again).rows["events"] == 1
        assert not list(config.solo.var_path(UNSENT_DIR).glob("*.jsonl"))
    finally:
        again.stop()


def test_words_forgotten_while_the_database_is_down_leave_it_once_back(
    make_config: Callable[..., Config], pg_server: EmbeddedPostgres
) -> None:
    """A forget while PostgreSQL is down blanks the buffered turn at once (no row of the
    unsent file holds its words: only the forget itself, still owed) and the written one
    after the next start, once it is back."""
    config = pg_config(make_config, pg_server)
    pg_server.start()
    store = StoreActor.start(config)
    store.tell(RecordTurn(turn_id="written", conversation_id="c", user_text="My pin is 1234.",
                          reply_text="Okay, your pin is 1234."))  # fmt: skip
    assert store.ask(Flush(), timeout=ASK).durable
    pg_server.stop("immediate")
    store.tell(RecordTurn(turn_id="buffered", conversation_id="c", user_text="My pin is 1234.",
                          reply_text="Okay."))  # fmt: skip
    store.tell(ForgetMentions(texts=["My pin is 1234."]))
    assert not store.ask(Flush(), timeout=ASK).durable
    store.stop()
    unsent = list(config.solo.var_path(UNSENT_DIR).glob("*.jsonl"))
    lines = [line for path in unsent for line in path.read_text().splitlines()]
    assert lines and [line for line in lines if "1234" in line] == [
        f'["{FORGETTING_LINE}",["My pin is 1234."]]'
    ], lines
    pg_server.start()
    again = StoreActor.start(config)
    try:
        wait_for(lambda: again.ask(Flush(), timeout=ASK).durable, "a durable flush")

        def transcript() -> dict[str, tuple[str, str]]:
            rows = again.ask(ReadRows(table="turns"), timeout=ASK)
            assert isinstance(rows, Rows), rows
            turns = [dict(zip(rows.columns, row, strict=True)) for row in rows.rows]
            return {turn["turn_id"]: (turn["user_text"], turn["reply_text"]) for turn in turns}

        blank = (FORGOTTEN_WORDS, FORGOTTEN_WORDS)
        # The forget is applied on connecting, after the replayed rows' flush.
        wait_for(lambda: transcript() == {"written": blank, "buffered": blank},
                 "the forgotten words to leave the transcript")  # fmt: skip
        wait_for(lambda: not list(config.solo.var_path(UNSENT_DIR).glob("*.jsonl")),
                 "the replayed unsent file to be deleted")  # fmt: skip
    finally:
        again.stop()


def test_a_forget_the_database_refuses_is_logged_and_the_store_goes_on(
    make_config: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal that would repeat at every try (not an unreachable database) must not
    crash the store in a loop: it is logged and dropped, and writes go on."""

    def refuse(*_args: object) -> int:
        raise RuntimeError("the database refused the update")

    monkeypatch.setattr(StoreBackend, "redact_turns", refuse)
    store = StoreActor.start(make_config())
    try:
        store.tell(ForgetMentions(texts=["My pin is 1234."]))
        store.tell(RecordEvent(kind="after", source="s"))
        assert store.ask(Flush(), timeout=ASK).durable
        assert store.is_alive() and stats(store).rows["events"] == 1
    finally:
        store.stop()
