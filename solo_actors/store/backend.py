"""One interface to the store's database, two implementations (DuckDB and PostgreSQL).

`StoreBackend` holds everything that does not depend on the database: applying migrations,
the generic read, counting rows. The subclasses supply connections, batch inserts, sizes,
partition maintenance and dump/load for backups. Callers (the store actor, ``solo db``)
see `StoreUnavailable` when the database can't be reached (retry later) and
`StoreInputError` when a request itself is wrong (fix the request).
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from solo_actors.config.schema import StoreConfig
from solo_actors.store.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    TABLES,
    TIME,
    VERSION_TABLE,
    VERSION_TABLE_DDL,
    Dialect,
    Table,
)

Row = tuple[Any, ...]
Batch = Mapping[str, Sequence[Row]]
"""Rows to insert per table name; each row follows the table's column order."""


REDACT_BATCH = 100
"""Texts one transcript scan of `StoreBackend.redact_turns` looks for."""


class StoreError(RuntimeError):
    """Base of the store's errors; the message says what was wrong and how to fix it."""


class StoreUnavailable(StoreError):
    """The database can't be reached now (down, locked, refused); retrying may succeed."""


class StoreInputError(StoreError, ValueError):
    """A request names an unknown table or column, or has a bad value."""


class Cursor(ABC):
    """The little a migration or read needs from a database connection."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class StoreBackend(ABC):
    """A store database; open it, then write batches and read rows."""

    dialect: Dialect
    placeholder: str
    """Query parameter marker: ``?`` (DuckDB) or ``%s`` (psycopg)."""

    @abstractmethod
    def open(self) -> None:
        """Connect and apply pending migrations; `StoreUnavailable` if it can't."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor whose statements commit together, or roll back on an exception."""

    @abstractmethod
    def insert(self, batch: Batch) -> None:
        """Insert (or, for tables with a primary key, replace) rows, all in one transaction."""

    @abstractmethod
    def size_bytes(self) -> int: ...

    @abstractmethod
    def partitions(self) -> list[str]: ...

    @abstractmethod
    def maintain(self, now: float) -> None:
        """Create partitions ahead and apply retention (events and metrics)."""

    @abstractmethod
    def dump(self, folder: Path) -> None:
        """Write every table to ``folder`` (which exists and is empty)."""

    @abstractmethod
    def load(self, folder: Path) -> None:
        """Fill an empty store from a `dump` folder."""

    # -- shared -------------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations not yet recorded, in order; return the versions applied."""
        applied: list[int] = []
        with self.transaction() as cursor:
            self._lock_for_migration(cursor)
            cursor.execute(VERSION_TABLE_DDL)
            done = {row[0] for row in cursor.execute(f"SELECT version FROM {VERSION_TABLE}")}
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in migration.statements(self.dialect):
                    cursor.execute(statement)
                cursor.execute(
                    f"INSERT INTO {VERSION_TABLE} VALUES ({', '.join([self.placeholder] * 3)})",
                    (migration.version, migration.description, time.time()),
                )
                applied.append(migration.version)
        return applied

    def _lock_for_migration(self, cursor: Cursor) -> None:
        """Keep two processes from migrating at once (DuckDB: the file lock does it)."""
        del cursor

    def schema_version(self) -> int:
        with self.transaction() as cursor:
            rows = cursor.execute(f"SELECT max(version) FROM {VERSION_TABLE}")
        return int(rows[0][0] or 0)

    def is_empty(self) -> bool:
        return not any(self.count_rows().values())

    def count_rows(self) -> dict[str, int]:
        with self.transaction() as cursor:
            return {
                name: int(cursor.execute(f"SELECT count(*) FROM {name}")[0][0]) for name in TABLES
            }

    def delete_user(self, user_id: str, keep_conversations: bool) -> dict[str, int]:
        """Delete a user and what hangs on them, in one transaction; rows deleted per table."""
        mark = self.placeholder
        targets = ["api_tokens", "sessions"]
        statements = [
            f"DELETE FROM {table} WHERE user_id = {mark} RETURNING 1" for table in targets
        ]
        if not keep_conversations:
            targets += ["turns", "conversations"]
            statements += [
                "DELETE FROM turns WHERE conversation_id IN (SELECT conversation_id FROM "
                f"conversations WHERE user_id = {mark}) RETURNING 1",
                f"DELETE FROM conversations WHERE user_id = {mark} RETURNING 1",
            ]
        targets.append("users")
        statements.append(f"DELETE FROM users WHERE user_id = {mark} RETURNING 1")
        with self.transaction() as cursor:
            return {
                table: len(cursor.execute(sql, [user_id]))
                for table, sql in zip(targets, statements, strict=True)
            }

    def redact_turns(self, texts: Sequence[str], replacement: str) -> int:
        """Forget ``texts`` in the transcript, in one transaction: a turn whose user words
        hold one (spaces compared as one) keeps ``replacement`` as its user words and reply
        (the reply repeats the fact in its own words); a reply that quotes one (a memory said
        back) keeps ``replacement`` in its place. Returns how many turns were changed.

        Texts go ``REDACT_BATCH`` to a statement, so forgetting everything scans the
        transcript a few times, not once per memory."""
        # Every text holds "": it would blank the whole transcript.
        wanted = [text for text in texts if text.strip()]
        mark = self.placeholder
        changed: set[str] = set()
        with self.transaction() as cursor:
            for first in range(0, len(wanted), REDACT_BATCH):
                batch = wanted[first : first + REDACT_BATCH]
                told = " OR ".join([f"strpos(words, {mark}) > 0"] * len(batch))
                rows = cursor.execute(
                    f"UPDATE turns SET user_text = {mark}, reply_text = {mark} WHERE turn_id IN "
                    rf"(SELECT turn_id FROM (SELECT turn_id, regexp_replace(user_text, '\s+', ' ', "
                    f"'g') AS words FROM turns) AS said WHERE {told}) RETURNING turn_id",
                    [replacement, replacement, *batch],
                )
                changed.update(str(row[0]) for row in rows)
                quoted = " OR ".join([f"strpos(reply_text, {mark}) > 0"] * len(batch))
                replies = cursor.execute(
                    f"SELECT turn_id, reply_text FROM turns WHERE {quoted}", list(batch)
                )
                for turn_id, reply in replies:
                    for text in batch:
                        reply = str(reply).replace(text, replacement)
                    cursor.execute(
                        f"UPDATE turns SET reply_text = {mark} WHERE turn_id = {mark}",
                        [reply, turn_id],
                    )
                    changed.add(str(turn_id))
        return len(changed)

    def revoke_tokens(self, token_hash: str | None, user_id: str | None) -> int:
        """Mark one token (by hash) or all of a user's revoked; how many were not already."""
        if token_hash is None and user_id is None:
            raise StoreInputError("name a token_hash or a user_id: revoking every token of "
                                  "every user is not one request")  # fmt: skip
        where, params = ["NOT revoked"], []
        for column, value in (("token_hash", token_hash), ("user_id", user_id)):
            if value is not None:
                where.append(f"{column} = {self.placeholder}")
                params.append(value)
        sql = f"UPDATE api_tokens SET revoked = true WHERE {' AND '.join(where)} RETURNING 1"
        with self.transaction() as cursor:
            return len(cursor.execute(sql, params))

    def read(
        self,
        table_name: str,
        equals: Mapping[str, Any],
        since: float | None,
        until: float | None,
        limit: int,
    ) -> tuple[list[str], list[Row]]:
        """Rows of one table, newest first (see `messages.ReadRows`)."""
        table = TABLES.get(table_name)
        if table is None:
            raise StoreInputError(
                f"no table {table_name!r}; the store has: {', '.join(sorted(TABLES))}"
            )
        if not 1 <= limit <= 100_000:
            raise StoreInputError(f"limit must be 1..100000, got {limit}")
        where, params = [], []
        for column, value in equals.items():
            if column not in table.column_names:
                raise StoreInputError(
                    f"table {table_name} has no column {column!r}; it has "
                    f"{', '.join(table.column_names)}"
                )
            if table.kind_of(column) == TIME:
                raise StoreInputError(f"{column} is a time: filter it with since/until")
            where.append(f"{column} = {self.placeholder}")
            params.append(value)
        for bound, operator in ((since, ">="), (until, "<")):
            if bound is not None:
                where.append(
                    f"created_at {operator} {self.dialect.from_epoch.format(self.placeholder)}"
                )
                params.append(bound)
        sql = f"SELECT {self.dialect.select_columns(table)} FROM {table.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created_at DESC LIMIT {int(limit)}"
        with self.transaction() as cursor:
            rows = cursor.execute(sql, params)
        return list(table.column_names), rows

    def insert_sql(self, table: Table, source: str) -> str:
        """INSERT of ``source``'s rows: replace on a primary key clash (idempotent writes),
        except conversations, whose first sighting wins."""
        columns = ", ".join(table.column_names)
        if not table.primary_key:
            return f"INSERT INTO {table.name} ({columns}) {source}"
        if table.name == "conversations":
            action = "NOTHING"
        else:
            updates = [c for c in table.column_names if c not in table.primary_key]
            action = "UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        keys = ", ".join(table.primary_key)
        return f"INSERT INTO {table.name} ({columns}) {source} ON CONFLICT ({keys}) DO {action}"


def pg_dsn(settings: StoreConfig) -> str:
    """The PostgreSQL DSN: ``store.pg_dsn``, else $SOLO_PG_DSN; a clear error when neither."""
    dsn = settings.pg_dsn or os.environ.get("SOLO_PG_DSN", "")
    if not dsn:
        raise StoreUnavailable(
            "store.backend is postgres but no DSN is set: export SOLO_PG_DSN="
            "postgresql://USER@HOST:5432/DB (or set store.pg_dsn); see docs/storage.md"
        )
    return dsn


__all__ = [
    "LATEST_VERSION",
    "Batch",
    "Cursor",
    "Row",
    "StoreBackend",
    "StoreError",
    "StoreInputError",
    "StoreUnavailable",
    "pg_dsn",
]
