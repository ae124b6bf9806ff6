"""The store's tables and versioned migrations, as data rendered for each SQL dialect.

Each table is declared once (`Table`); a `Dialect` turns the declaration into DuckDB or
PostgreSQL DDL, so the two backends cannot drift apart. Migrations are numbered and applied in
order inside one transaction each; ``schema_version`` records which ones ran, so applying them
again is a no-op. Timestamps are UTC: ``TIMESTAMP`` in DuckDB (no time zone library needed to
read them back), ``timestamptz`` in PostgreSQL; rows carry them as epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Column kinds, mapped to a type per dialect.
TEXT, INT, FLOAT, TIME, JSON, BOOL = "text", "int", "float", "time", "json", "bool"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    time_partitioned: bool = False
    """Range-partitioned by ``created_at`` on PostgreSQL (and subject to retention)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def kind_of(self, column: str) -> str:
        return next(c.kind for c in self.columns if c.name == column)


def _c(name: str, kind: str, nullable: bool = True) -> Column:
    return Column(name, kind, nullable)


CONVERSATIONS = Table(
    "conversations",
    (_c("conversation_id", TEXT, False), _c("created_at", TIME, False), _c("user_id", TEXT),
     _c("title", TEXT)),
    primary_key=("conversation_id",),
)  # fmt: skip
TURNS = Table(
    "turns",
    (
        _c("turn_id", TEXT, False), _c("conversation_id", TEXT), _c("created_at", TIME, False),
        _c("user_text", TEXT, False), _c("reply_text", TEXT, False), _c("model", TEXT),
        _c("prompt_tokens", INT), _c("completion_tokens", INT), _c("tokens_per_second", FLOAT),
        _c("time_to_first_token", FLOAT), _c("finish_reason", TEXT),
        # Monotonic stage timestamps of the voice turn; latencies are their differences.
        _c("t_wake", FLOAT), _c("t_speech_end", FLOAT), _c("t_transcript", FLOAT),
        _c("t_first_token", FLOAT), _c("t_first_audio", FLOAT), _c("t_done", FLOAT),
    ),
    primary_key=("turn_id",),
)  # fmt: skip
EVENTS = Table(
    "events",
    (_c("created_at", TIME, False), _c("kind", TEXT, False), _c("source", TEXT, False),
     _c("data", JSON)),
    time_partitioned=True,
)  # fmt: skip
METRICS = Table(
    "metrics",
    (_c("created_at", TIME, False), _c("name", TEXT, False), _c("value", FLOAT, False),
     _c("labels", JSON)),
    time_partitioned=True,
)  # fmt: skip
REPORTS = Table(
    "reports",
    (_c("report_id", TEXT, False), _c("created_at", TIME, False), _c("kind", TEXT, False),
     _c("supervisor", TEXT, False), _c("child_id", TEXT), _c("reason", TEXT), _c("body", JSON)),
    primary_key=("report_id",),
)  # fmt: skip
USERS = Table(
    "users",
    (_c("user_id", TEXT, False), _c("created_at", TIME, False), _c("name", TEXT, False),
     _c("role", TEXT, False)),
    primary_key=("user_id",),
)  # fmt: skip
API_TOKENS = Table(
    "api_tokens",
    (_c("token_hash", TEXT, False), _c("user_id", TEXT, False), _c("created_at", TIME, False),
     _c("label", TEXT), _c("expires_at", TIME), _c("revoked", BOOL, False)),
    primary_key=("token_hash",),
)  # fmt: skip
SESSIONS = Table(
    "sessions",
    (_c("session_id", TEXT, False), _c("user_id", TEXT, False), _c("created_at", TIME, False),
     _c("expires_at", TIME, False), _c("data", JSON)),
    primary_key=("session_id",),
)  # fmt: skip
SKILL_ITEMS_V4 = Table(
    "skill_items",
    (_c("item_id", TEXT, False), _c("created_at", TIME, False), _c("kind", TEXT, False),
     _c("label", TEXT, False), _c("due_at", TIME, False), _c("length", FLOAT, False),
     _c("state", TEXT, False), _c("fired_at", TIME)),
    primary_key=("item_id",),
)  # fmt: skip
"""skill_items as migration 4 created it: a migration's DDL never changes once released."""
ROOM = _c("room", TEXT)
"""skill_items.room (migration 5): the room an item rings in; NULL: Solo's own speaker."""
REPEATS = _c("repeats", TEXT)
"""skill_items.repeats (migration 6): when an alarm or reminder comes again; NULL: once."""
PAUSED_LEFT = _c("paused_left", FLOAT)
"""skill_items.paused_left (migration 8): a paused timer's seconds left; NULL: not paused."""
SKILL_ITEMS = Table(
    "skill_items", (*SKILL_ITEMS_V4.columns, ROOM, REPEATS, PAUSED_LEFT), primary_key=("item_id",)
)
"""The skills actor's timers, alarms and reminders; cancelled and fired ones stay as history."""

LIST_ITEMS = Table(
    "list_items",
    (_c("item_id", TEXT, False), _c("created_at", TIME, False), _c("list_name", TEXT, False),
     _c("text", TEXT, False), _c("state", TEXT, False), _c("changed_at", TIME)),
    primary_key=("item_id",),
)  # fmt: skip
"""The user's lists (shopping, to-do ...); crossed-off items stay as history."""

INITIAL_TABLES = (CONVERSATIONS, TURNS, EVENTS, METRICS, REPORTS, USERS, API_TOKENS, SESSIONS)
TABLES: dict[str, Table] = {
    table.name: table for table in (*INITIAL_TABLES, SKILL_ITEMS, LIST_ITEMS)
}
VERSION_TABLE = "schema_version"
MEMORY_TABLE = "memories"
"""The memory actor's pgvector table: in the same database, so backups include it."""


@dataclass(frozen=True)
class Dialect:
    name: str
    types: dict[str, str]
    epoch: str
    """SQL turning a time column ``{}`` into epoch seconds."""
    from_epoch: str
    """SQL turning epoch seconds ``{}`` into a time value."""

    def create_table(self, table: Table) -> list[str]:
        columns = [
            f"{c.name} {self.types[c.kind]}{'' if c.nullable else ' NOT NULL'}"
            for c in table.columns
        ]
        if table.primary_key:
            columns.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
        partition = (
            " PARTITION BY RANGE (created_at)"
            if table.time_partitioned and self.name == "postgres"
            else ""
        )
        statements = [f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(columns)}){partition}"]
        if table.time_partitioned:
            if self.name == "postgres":
                # Rows outside every dated partition land here instead of failing the insert.
                statements.append(
                    f"CREATE TABLE IF NOT EXISTS {table.name}_default "
                    f"PARTITION OF {table.name} DEFAULT"
                )
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {table.name}_created_at ON {table.name} (created_at)"
            )
        return statements

    def select_columns(self, table: Table) -> str:
        """Every column of ``table`` as plain Python values (times as epoch, JSON as text)."""
        rendered = []
        for column in table.columns:
            if column.kind == TIME:
                rendered.append(f"{self.epoch.format(column.name)} AS {column.name}")
            elif column.kind == JSON:
                rendered.append(f"CAST({column.name} AS TEXT) AS {column.name}")
            else:
                rendered.append(column.name)
        return ", ".join(rendered)


DUCKDB = Dialect(
    "duckdb",
    {TEXT: "VARCHAR", INT: "BIGINT", FLOAT: "DOUBLE", TIME: "TIMESTAMP", JSON: "JSON",
     BOOL: "BOOLEAN"},
    epoch="epoch_us({}) / 1e6",
    from_epoch="make_timestamp(CAST({} * 1e6 AS BIGINT))",
)  # fmt: skip
POSTGRES = Dialect(
    "postgres",
    {TEXT: "text", INT: "bigint", FLOAT: "double precision", TIME: "timestamptz",
     JSON: "jsonb", BOOL: "boolean"},
    epoch="extract(epoch FROM {})::double precision",
    from_epoch="to_timestamp({})",
)  # fmt: skip


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]


def _initial_tables(dialect: Dialect) -> list[str]:
    return [sql for table in INITIAL_TABLES for sql in dialect.create_table(table)]


def _skill_items(dialect: Dialect) -> list[str]:
    return [
        *dialect.create_table(SKILL_ITEMS_V4),
        "CREATE INDEX IF NOT EXISTS skill_items_state ON skill_items (state, due_at)",
    ]


def _skill_item_rooms(dialect: Dialect) -> list[str]:
    # Nullable with no default: every existing item keeps ringing on Solo's own speaker.
    return [f"ALTER TABLE skill_items ADD COLUMN {ROOM.name} {dialect.types[ROOM.kind]}"]


def _skill_item_repeats(dialect: Dialect) -> list[str]:
    # Nullable with no default: every existing item still comes once.
    return [f"ALTER TABLE skill_items ADD COLUMN {REPEATS.name} {dialect.types[REPEATS.kind]}"]


def _skill_item_paused(dialect: Dialect) -> list[str]:
    # Nullable with no default: no existing timer is paused.
    return [f"ALTER TABLE skill_items ADD COLUMN {PAUSED_LEFT.name} "
            f"{dialect.types[PAUSED_LEFT.kind]}"]  # fmt: skip


def _list_items(dialect: Dialect) -> list[str]:
    return [
        *dialect.create_table(LIST_ITEMS),
        "CREATE INDEX IF NOT EXISTS list_items_state ON list_items (state, list_name)",
    ]


def _lookup_indexes(dialect: Dialect) -> list[str]:
    return [
        "CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation_id, created_at)",
        "CREATE INDEX IF NOT EXISTS metrics_name ON metrics (name, created_at)",
        "CREATE INDEX IF NOT EXISTS reports_created_at ON reports (created_at)",
    ]


# PostgreSQL only: keeps dated partitions of events and metrics ahead of time and drops the
# ones past retention. A plpgsql function rather than Python so pg_cron can run it as well.
# A partition is filled from the default one before it is attached, so rows that arrived
# early (a clock far ahead) never block its creation.
MAINTAIN_FUNCTION = """
CREATE OR REPLACE FUNCTION solo_maintain(step text, ahead int, keep_days int)
RETURNS void LANGUAGE plpgsql SET timezone TO 'UTC' AS $fn$
DECLARE
    parent text;
    start_at timestamptz;
    part text;
    old record;
    fmt text := CASE step WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END;
    width interval := ('1 ' || step)::interval;
BEGIN
    FOREACH parent IN ARRAY ARRAY['events', 'metrics'] LOOP
        FOR i IN 0..ahead LOOP
            start_at := date_trunc(step, now()) + i * width;
            part := parent || '_' || to_char(start_at, fmt);
            CONTINUE WHEN to_regclass(part) IS NOT NULL;
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE created_at >= %L AND '
                           'created_at < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           parent || '_default', start_at, start_at + width, part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent, part, start_at, start_at + width);
        END LOOP;
        CONTINUE WHEN keep_days <= 0;
        FOR old IN
            SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
            WHERE h.inhparent = parent::regclass AND c.relname ~ ('^' || parent || '_[0-9]+$')
        LOOP
            IF to_timestamp(substring(old.relname FROM '[0-9]+$'), fmt) + width
               <= now() - keep_days * interval '1 day' THEN
                EXECUTE format('DROP TABLE %I', old.relname);
            END IF;
        END LOOP;
        EXECUTE format('DELETE FROM %I WHERE created_at < %L', parent || '_default',
                       now() - keep_days * interval '1 day');
    END LOOP;
END
$fn$
"""


def _partition_maintenance(dialect: Dialect) -> list[str]:
    return [MAINTAIN_FUNCTION] if dialect.name == "postgres" else []


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "conversations, turns, events, metrics, reports, users, tokens, sessions",
              _initial_tables),
    Migration(2, "lookup indexes for the API's queries", _lookup_indexes),
    Migration(3, "partition maintenance function (PostgreSQL)", _partition_maintenance),
    Migration(4, "skill_items: timers, alarms and reminders", _skill_items),
    Migration(5, "skill_items.room: the room an item rings in", _skill_item_rooms),
    Migration(6, "skill_items.repeats: when an alarm or reminder comes again", _skill_item_repeats),
    Migration(7, "list_items: the user's shopping, to-do and other lists", _list_items),
    Migration(8, "skill_items.paused_left: a paused timer's time left", _skill_item_paused),
)  # fmt: skip
LATEST_VERSION = MIGRATIONS[-1].version

VERSION_TABLE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY, "
    "description VARCHAR NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)
