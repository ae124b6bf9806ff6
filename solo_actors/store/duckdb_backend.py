"""The embedded store: one DuckDB file, written only by the process that opened it.

DuckDB takes a file lock: a second process can't open the file while the assistant runs
(that is reported as `StoreUnavailable`, naming the holder). Batches go in as Arrow tables, one
``INSERT ... SELECT`` per table per transaction, which costs about the same as one row.
Backups use ``EXPORT DATABASE`` (Parquet) and ``IMPORT DATABASE``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from solo_actors.config import Config
from solo_actors.store.backend import Batch, Cursor, Row, StoreBackend, StoreUnavailable
from solo_actors.store.schema import BOOL, DUCKDB, FLOAT, INT, TABLES, TIME, Table

ARROW_TYPES = {INT: pa.int64(), FLOAT: pa.float64(), BOOL: pa.bool_(), TIME: pa.timestamp("us")}


class _DuckCursor(Cursor):
    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        result = self.connection.execute(sql, list(params) if params else None)
        return result.fetchall() if result.description else []


def arrow_batch(table: Table, rows: Sequence[Row]) -> pa.Table:
    """Rows (times as epoch seconds) as an Arrow table with the store's column types."""
    arrays = []
    for index, column in enumerate(table.columns):
        values = [row[index] for row in rows]
        if column.kind == TIME:
            values = [None if v is None else round(v * 1_000_000) for v in values]
        arrays.append(pa.array(values, type=ARROW_TYPES.get(column.kind, pa.string())))
    return pa.Table.from_arrays(arrays, names=list(table.column_names))


class DuckDBBackend(StoreBackend):
    dialect = DUCKDB
    placeholder = "?"

    def __init__(self, config: Config) -> None:
        self.path = config.solo.var_path(config.store.duckdb_file)
        self.retention_days = config.store.retention_days
        self.connection: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection = duckdb.connect(str(self.path))
        except duckdb.IOException as error:
            raise StoreUnavailable(
                f"cannot open the DuckDB file {self.path}: {error}. Only one process may "
                "write it: stop the other Solo (or `solo db` command) holding it, or use "
                "`solo db` only while the assistant is stopped."
            ) from error
        self.migrate()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.connection is None:
            raise StoreUnavailable(f"the DuckDB file {self.path} is not open")
        return self.connection

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        connection = self._connection()
        connection.begin()
        try:
            yield _DuckCursor(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()

    def insert(self, batch: Batch) -> None:
        with self.transaction() as cursor:
            assert isinstance(cursor, _DuckCursor)
            for name, rows in batch.items():
                if not rows:
                    continue
                table = TABLES[name]
                cursor.connection.register("incoming", arrow_batch(table, rows))
                try:
                    cursor.execute(self.insert_sql(table, "SELECT * FROM incoming"))
                finally:
                    cursor.connection.unregister("incoming")

    def size_bytes(self) -> int:
        wal = self.path.with_name(self.path.name + ".wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())

    def partitions(self) -> list[str]:
        return []  # DuckDB has no table partitions; retention deletes rows instead

    def maintain(self, now: float) -> None:
        if not self.retention_days:
            return
        cutoff = now - self.retention_days * 86400
        with self.transaction() as cursor:
            for name in ("events", "metrics"):
                cursor.execute(
                    f"DELETE FROM {name} WHERE created_at < {self.dialect.from_epoch.format('?')}",
                    (cutoff,),
                )

    def dump(self, folder: Path) -> None:
        self._connection().execute(f"EXPORT DATABASE '{folder}' (FORMAT parquet)")

    def load(self, folder: Path) -> None:
        connection = self._connection()
        # IMPORT DATABASE creates the tables itself: drop the fresh, empty ones first.
        for name in [*TABLES, "schema_version"]:
            connection.execute(f"DROP TABLE IF EXISTS {name}")
        connection.execute(f"IMPORT DATABASE '{folder}'")
        connection.execute("CHECKPOINT")
        self.migrate()  # a backup from an older version is brought up to date
