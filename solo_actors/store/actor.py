"""The ``store`` actor: the single writer of Solo's database, and the reader for the API.

Writes arrive as tells (`RecordTurn`, `RecordEvent(s)`, `RecordMetric`, `SaveUser`,
`SaveApiToken`, `SaveSession`, and supervisor reports as they are) and go to a bounded
buffer, flushed in one transaction when ``store.flush_rows`` rows are waiting or
``store.flush_interval_ms`` after the first buffered row, and on stop. So a told write is
durable at most one flush interval later; `Flush` (ask) makes it durable now and says so.
Operator asks (`DeleteUser`, `RevokeApiTokens`) flush first, then change rows in one
transaction. `ForgetMentions` (tell, from the memory actor when the user had Solo forget
something) blanks those words in the turns that told or quoted them, in the buffer at once
and in the database now or, while it is unreachable, once it is back.

When the database can't be reached (PostgreSQL down, the DuckDB file locked by another
process) the actor stays up: it keeps buffering, reconnects with exponential backoff
(``store.retry_min``..``retry_max``), answers reads with `StoreFailure`, and flushes once back.
Past ``store.buffer_max_rows`` newer writes are dropped, counted, logged, and recorded as a
``store.dropped`` event once the database is back. A buffer that can't be written when the
actor stops or crashes is saved to ``var/store-unsent/`` and replayed at the next start;
rows the database refuses for their content go to ``var/store-rejected/`` with the error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    FORGOTTEN_WORDS,
    BackupDone,
    BackupStore,
    DeleteUser,
    Flush,
    Flushed,
    ForgetMentions,
    GetStoreStats,
    ReadRows,
    RecordEvent,
    RevokeApiTokens,
    Rows,
    StoreFailure,
    StoreStats,
    TokensRevoked,
    UserDeleted,
)
from solo_actors.names import STORE_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.store.backend import (
    Batch,
    StoreBackend,
    StoreError,
    StoreUnavailable,
)
from solo_actors.store.backends import open_backend
from solo_actors.store.backup import make_backup
from solo_actors.store.buffer import WriteBuffer
from solo_actors.store.rows import WRITE_TYPES, rows_of
from solo_actors.store.schema import TABLES

UNSENT_DIR = "store-unsent"
REJECTED_DIR = "store-rejected"
FORGETTING_LINE = "forget mentions"
"""An unsent file's line of `ForgetMentions` texts still owed to the database, in place of
a table's name."""

_spool_encoder = msgspec.json.Encoder()
_spool_decoder = msgspec.json.Decoder(tuple[str, list[Any]])


class _FlushDue(msgspec.Struct, frozen=True):
    """Timer: the flush interval of the oldest buffered row has passed."""


class _Reconnect(msgspec.Struct, frozen=True):
    """Timer: try the database again."""


class _Maintain(msgspec.Struct, frozen=True):
    """Timer: partitions ahead and retention."""


class StoreActor(supervisors.SupervisedActor):
    contained = (ReadRows, GetStoreStats)
    """The reads: a bug one of them finds (a client chose the table and filter) fails that
    request alone, rather than a restart that reconnects to the database and sets the
    buffered writes aside to disk under every other caller."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.settings = config.store
        self.log = get_logger(STORE_NAME)
        self.backend: StoreBackend = open_backend(config)
        self.buffer = WriteBuffer(self.settings.buffer_max_rows)
        self.up = False
        self.last_error: str | None = None
        self.attempt = 0
        self.flush_pending = False
        self.reconnect_pending = False
        self.flushed_rows = 0
        self.dropped_reported = 0
        self.replayed: list[Path] = []
        self.forgetting: list[str] = []
        """`ForgetMentions` texts not yet applied to the database's turns (it was down)."""

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        self._replay_unsent()
        self._connect()
        self.send_after(self.settings.maintenance_interval, _Maintain())

    def on_stop(self) -> None:
        self._flush()
        self._forget_in_database()
        if self.buffer.size or self.forgetting:
            self._save_unsent()
        self.backend.close()

    def on_failure(self, *_exc_info: object) -> None:
        if self.buffer.size or self.forgetting:
            self._save_unsent()
        self.backend.close()

    # -- messages -----------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, WRITE_TYPES):
            self._buffer(message)
            return None
        match message:
            case _FlushDue():
                self.flush_pending = False
                self._flush()
            case _Reconnect():
                self.reconnect_pending = False
                self._connect()
            case _Maintain():
                self._maintain()
                self.send_after(self.settings.maintenance_interval, _Maintain())
            case Flush():
                self._flush()
                return Flushed(
                    durable=self.buffer.size == 0, buffered=self.buffer.size,
                    error=None if self.up else self.last_error,
                )  # fmt: skip
            case ReadRows():
                return self._serve(lambda: self._read(message))
            case GetStoreStats():
                return self._serve(self._stats)
            case BackupStore():
                return self._serve(lambda: self._backup(message))
            case DeleteUser():
                return self._serve(lambda: self._delete_user(message))
            case RevokeApiTokens():
                return self._serve(lambda: self._revoke(message))
            case ForgetMentions(texts=texts):
                self._forget_mentions(texts)
            case _:
                self.log.warning("unknown message ignored", type=type(message).__name__)
        return None

    def _buffer(self, message: object) -> None:
        for table, row in rows_of(message, self.settings.max_text_bytes):
            if not self.buffer.add(table, row) and self.buffer.dropped == 1:
                self.log.error(
                    "write buffer full: new writes are dropped until the database is back",
                    limit=self.settings.buffer_max_rows, last_error=self.last_error,
                )  # fmt: skip
        if self.buffer.size >= self.settings.flush_rows:
            self._flush()
        elif self.buffer.size and not self.flush_pending:
            self.flush_pending = True
            self.send_after(self.settings.flush_interval_ms / 1000, _FlushDue())
        self._publish()

    def _serve(self, work: Any) -> Any:
        """Run a read-like request; a failure is the reply, not a crash."""
        if not self.up:
            return StoreFailure(message=f"the store's database is unavailable: {self.last_error}")
        try:
            return work()
        except StoreUnavailable as error:
            self._went_down(error)
            return StoreFailure(message=str(error))
        except StoreError as error:
            return StoreFailure(message=str(error))

    def _read(self, request: ReadRows) -> Rows:
        columns, rows = self.backend.read(
            request.table, request.equals, request.since, request.until, request.limit
        )
        return Rows(table=request.table, columns=columns, rows=[list(row) for row in rows])

    def _stats(self) -> StoreStats:
        return StoreStats(
            backend=self.settings.backend,
            schema_version=self.backend.schema_version(),
            rows=self.backend.count_rows(),
            size_bytes=self.backend.size_bytes(),
            partitions=self.backend.partitions(),
            buffered=self.buffer.size,
            dropped=self.buffer.dropped,
            backend_up=self.up,
        )

    def _backup(self, request: BackupStore) -> BackupDone:
        self._flush()
        path = make_backup(self.backend, self.config, Path(request.out) if request.out else None)
        return BackupDone(path=str(path), size_bytes=path.stat().st_size)

    def _delete_user(self, request: DeleteUser) -> UserDeleted:
        self._flush()  # a buffered SaveUser or turn must not bring the user back later
        rows = self.backend.delete_user(request.user_id, request.keep_conversations)
        self.log.info("user deleted", user_id=request.user_id, rows=rows)
        return UserDeleted(user_id=request.user_id, rows=rows)

    def _revoke(self, request: RevokeApiTokens) -> TokensRevoked:
        self._flush()  # a buffered SaveApiToken is revoked too
        count = self.backend.revoke_tokens(request.token_hash, request.user_id)
        self.log.info("API tokens revoked", count=count, user_id=request.user_id)
        return TokensRevoked(count=count)

    def _forget_mentions(self, texts: list[str]) -> None:
        """Forget ``texts`` in the transcript (`StoreBackend.redact_turns`): in the buffered
        turns now (so no row spooled at a stop holds them), in the written ones in the
        database now or, while it is down, at the next connect (`forgetting`, the texts, is
        spooled with the unsent rows at a stop, until then)."""
        blanked = self.buffer.forget_mentions(texts, FORGOTTEN_WORDS)
        self.forgetting.extend(texts)
        self._forget_in_database()
        self.log.info("turns forgotten", buffered=blanked, waiting=len(self.forgetting))

    def _forget_in_database(self) -> None:
        if not self.up or not self.forgetting:
            return
        try:
            count = self.backend.redact_turns(self.forgetting, FORGOTTEN_WORDS)
        except StoreUnavailable as error:
            self._went_down(error)
            return
        except Exception as error:  # refused for what it is: kept, it would fail at every try
            self.log.error("the transcript could not forget; its turns keep those words",
                           texts=len(self.forgetting), error=str(error),
                           fix="delete the turns (solo db delete-user) or report this")  # fmt: skip
            count = 0
        self.forgetting.clear()
        self._replayed_done()
        self.log.info("turns forgotten in the database", turns=count)

    def _replayed_done(self) -> None:
        """Delete the unsent files replayed at start once all they held is in the database."""
        if self.buffer.size or self.forgetting:
            return
        for path in self.replayed:
            path.unlink(missing_ok=True)
        self.replayed.clear()

    # -- database -----------------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self.backend.open()
        except StoreUnavailable as error:
            self._went_down(error)
            return
        self.up, self.attempt, self.last_error = True, 0, None
        self.log.info("store ready", backend=self.settings.backend,
                      version=self.backend.schema_version())  # fmt: skip
        self._maintain()
        self._flush()
        self._forget_in_database()

    def _went_down(self, error: Exception) -> None:
        if self.up or self.last_error is None:
            self.log.error("store database unavailable; buffering writes and retrying",
                           error=str(error), buffered=self.buffer.size)  # fmt: skip
        self.up, self.last_error = False, str(error)
        self.backend.close()
        if not self.reconnect_pending:
            self.reconnect_pending = True
            backoff = supervisors.Backoff(self.settings.retry_min, self.settings.retry_max)
            self.send_after(backoff.delay(self.attempt), _Reconnect())
            self.attempt += 1
        self._publish()

    def _maintain(self) -> None:
        if not self.up:
            return
        try:
            self.backend.maintain(time.time())
        except StoreUnavailable as error:
            self._went_down(error)

    def _flush(self) -> None:
        if not self.up or not self.buffer.size:
            return
        batch = self.buffer.batch()
        try:
            self.backend.insert(batch)
        except StoreUnavailable as error:
            self._went_down(error)
            return
        except Exception as error:  # the database refused the content: isolate it per table
            self._insert_per_table(batch, error)
        self.flushed_rows += self.buffer.size
        self.buffer.clear()
        self._replayed_done()
        self._record_drops()
        self._publish()

    def _insert_per_table(self, batch: Batch, first_error: Exception) -> None:
        self.log.error("batch refused; retrying table by table", error=str(first_error))
        for table, rows in batch.items():
            try:
                self.backend.insert({table: rows})
            except StoreUnavailable:
                raise
            except Exception as error:
                self._reject(table, rows, error)

    def _record_drops(self) -> None:
        """Once the database is back, the number of writes lost to a full buffer is a row
        (written past the buffer, which may be full again)."""
        lost = self.buffer.dropped - self.dropped_reported
        if not lost:
            return
        event = RecordEvent(kind="store.dropped", source=STORE_NAME, data={"rows": lost})
        try:
            self.backend.insert({"events": [rows_of(event, self.settings.max_text_bytes)[0][1]]})
        except StoreUnavailable as error:
            self._went_down(error)
            return
        self.dropped_reported = self.buffer.dropped
        self.log.error("writes were dropped while the database was unavailable", rows=lost)

    # -- files for rows that could not be written ------------------------------------------

    def _spool_path(self, folder: str) -> Path:
        directory = self.config.solo.var_path(folder)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9}.jsonl"

    def _save_unsent(self) -> None:
        path = self._spool_path(UNSENT_DIR)
        with path.open("wb") as stream:
            for table, rows in self.buffer.batch().items():
                for row in rows:
                    stream.write(_spool_encoder.encode((table, row)) + b"\n")
            if self.forgetting:
                stream.write(_spool_encoder.encode((FORGETTING_LINE, self.forgetting)) + b"\n")
        self.log.error("database unavailable at stop: buffered writes saved for the next start",
                       rows=self.buffer.size, forgetting=len(self.forgetting),
                       path=str(path))  # fmt: skip
        self.buffer.clear()
        self.forgetting.clear()

    def _replay_unsent(self) -> None:
        directory = self.config.solo.var_path(UNSENT_DIR)
        for path in sorted(directory.glob("*.jsonl")) if directory.exists() else []:
            with path.open("rb") as stream:
                for line in stream:
                    table, row = _spool_decoder.decode(line)
                    if table in TABLES:
                        self.buffer.add(table, tuple(row))
                    elif table == FORGETTING_LINE:
                        self.forgetting.extend(row)
            self.replayed.append(path)
        if self.replayed:
            self.log.info("replaying writes saved at the last stop", rows=self.buffer.size)

    def _reject(self, table: str, rows: Any, error: Exception) -> None:
        path = self._spool_path(REJECTED_DIR)
        with path.open("wb") as stream:
            stream.write(_spool_encoder.encode({"table": table, "error": str(error)}) + b"\n")
            for row in rows:
                stream.write(_spool_encoder.encode(row) + b"\n")
        self.log.error("rows refused by the database were set aside", table=table,
                       rows=len(rows), error=str(error), path=str(path))  # fmt: skip

    def _publish(self) -> None:
        self.publish_figures(
            buffered=self.buffer.size, flushed_rows=self.flushed_rows,
            dropped=self.buffer.dropped, backend_up=int(self.up),
        )  # fmt: skip
