"""Where memories and their vectors live: one interface, LanceDB and pgvector behind it.

Vectors are unit length (see `embedder`), so cosine similarity is ``1 - cosine distance``
on both. LanceDB searches exactly until ``memory.index_min_rows`` memories, then builds an
IVF_HNSW_SQ index, searched with ``nprobes`` partitions and exact re-ranking of
``k * refine_factor`` candidates; rows added after the index are searched exactly as well.
The memory actor calls `compact` every ``memory.maintenance_interval`` and runs
`build_index` on a helper thread when `wants_index` says so. pgvector keeps an HNSW
(cosine) index from the start; ``ef_search`` sets its recall, and
iterative scans keep filtered recalls from coming back short.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from solo_actors.config import Config
from solo_actors.messages import MemoryFilter, MemoryItem, Remember
from solo_actors.remembered import words_said
from solo_actors.store.backend import StoreInputError, StoreUnavailable, pg_dsn
from solo_actors.store.schema import MEMORY_TABLE

LISTED_COLUMNS = ["memory_id", "text", "kind", "user_id", "conversation_id", "meta", "at"]
"""What a LanceDB listing reads: not the vectors."""
RECALLED_COLUMNS = [*LISTED_COLUMNS, "_distance"]
"""What a LanceDB recall reads. ``_distance`` is named: LanceDB adds it unasked today with a
deprecation warning on stderr at every recall (in the middle of a terminal conversation),
and will stop adding it."""

FORGET_READ = 10_000
"""Memories a forget reads first, whose words the others who keep them then forget."""

_json = msgspec.json.Encoder()
_meta = msgspec.json.Decoder(dict[str, str | int | float | bool | None])


class MemoryIndex(ABC):
    """Memories with their vectors; every method may raise `StoreUnavailable`."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _add(self, memories: Sequence[Remember], vectors: np.ndarray) -> None: ...

    @abstractmethod
    def search(
        self, vector: np.ndarray, k: int, where: MemoryFilter, min_similarity: float
    ) -> list[MemoryItem]:
        """The ``k`` nearest memories passing ``where``, similarity >= ``min_similarity``."""

    @abstractmethod
    def newest(
        self, where: MemoryFilter | None, limit: int, offset: int, memory_ids: Sequence[str] = ()
    ) -> tuple[list[MemoryItem], int]:
        """Memories passing ``where`` (and among ``memory_ids``, if given), newest first:
        ``limit`` of them from ``offset``, and how many pass in all."""

    @abstractmethod
    def delete(self, memory_ids: Sequence[str], where: MemoryFilter | None) -> int:
        """Delete by id and/or filter; neither given (no conditions) deletes every memory."""

    def forget(
        self, memory_ids: Sequence[str], where: MemoryFilter | None
    ) -> tuple[int, list[str]]:
        """`delete`, and the user's words of what it deleted (spaces made one, none empty),
        read first: what whoever else keeps them (the llm's histories, the store's
        transcript) is to forget too (`ForgetMentions`)."""
        doomed, _ = self.newest(where, FORGET_READ, 0, memory_ids)
        count = self.delete(memory_ids, where)
        # An empty text would match every exchange and turn: none is given.
        said = (" ".join(words_said(item.text, item.meta).split()) for item in doomed)
        return count, [words for words in said if words]

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def compact(self) -> None:
        """Tidy the storage after many small writes; quick, run on the actor's thread."""

    @abstractmethod
    def purge(self) -> None:
        """After a delete: rewrite the storage so that what was deleted leaves its files
        now, not at a compaction after ``memory.version_retention``. Whole-table work: the
        memory actor runs it once after a burst of forgets (`PURGE_AFTER`)."""

    @abstractmethod
    def wants_index(self) -> bool:
        """Whether `build_index` should run (it may take long: run it off the hot path)."""

    @abstractmethod
    def build_index(self) -> None:
        """(Re)build the ANN index; safe beside `search`, not beside writes."""

    @abstractmethod
    def layout(self) -> dict[str, int]:
        """Figures on the storage's shape (versions, files), for the status."""

    def add(self, memories: Sequence[Remember], vectors: np.ndarray) -> None:
        """Store memories (replacing equal ids) with one vector each, of the right size."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(memories), self.dimensions):
            raise StoreInputError(
                f"expected {len(memories)} vectors of {self.dimensions} dimensions, got shape "
                f"{vectors.shape}: vectors must come from the configured embeddings model "
                "(memory.model); a different model needs a new memories table"
            )
        if not np.isfinite(vectors).all():
            raise StoreInputError("vectors contain NaN or infinity: the embedding failed")
        self._add(memories, vectors)


def _conditions(
    where: MemoryFilter | None, quote: Any, memory_ids: Sequence[str] = ()
) -> list[str]:
    """SQL conditions for a filter and ids; ``quote`` renders a literal for the dialect."""
    conditions = [f"memory_id IN ({', '.join(map(quote, memory_ids))})"] if memory_ids else []
    if where is None:
        return conditions
    conditions += [
        f"{column} = {quote(value)}"
        for column, value in (
            ("user_id", where.user_id),
            ("conversation_id", where.conversation_id),
            ("kind", where.kind),
        )
        if value is not None
    ]
    if where.exclude_conversation_id is not None:
        conditions.append(
            f"(conversation_id IS NULL OR conversation_id <> "
            f"{quote(where.exclude_conversation_id)})"
        )
    return conditions


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _lance_item(row: dict[str, Any], similarity: float | None) -> MemoryItem:
    return MemoryItem(
        memory_id=row["memory_id"], text=row["text"], similarity=similarity, kind=row["kind"],
        user_id=row["user_id"], conversation_id=row["conversation_id"],
        meta=_meta.decode(row["meta"]), at=row["at"],
    )  # fmt: skip


class LanceIndex(MemoryIndex):
    def __init__(self, config: Config, dimensions: int) -> None:
        super().__init__(dimensions)
        self.folder = config.solo.var_path(config.memory.lance_dir)
        self.settings = config.memory
        self.table: Any = None
        self.indexed = False
        self.built_rows = 0

    def schema(self) -> pa.Schema:
        return pa.schema([
            ("memory_id", pa.string()), ("text", pa.string()), ("kind", pa.string()),
            ("user_id", pa.string()), ("conversation_id", pa.string()), ("meta", pa.string()),
            ("at", pa.float64()), ("vector", pa.list_(pa.float32(), self.dimensions)),
        ])  # fmt: skip

    def open(self) -> None:
        import lancedb

        self.folder.mkdir(parents=True, exist_ok=True)
        db = lancedb.connect(str(self.folder))
        self.table = db.create_table(MEMORY_TABLE, schema=self.schema(), exist_ok=True)
        stored = self.table.schema.field("vector").type.list_size
        if stored != self.dimensions:
            raise StoreInputError(
                f"the memories in {self.folder} hold {stored}-d vectors but memory.model makes "
                f"{self.dimensions}-d ones: move the folder aside to start a new memory"
            )
        self.indexed = bool(self.table.list_indices())
        self.built_rows = self.table.count_rows() if self.indexed else 0

    def close(self) -> None:
        self.table = None

    def _add(self, memories: Sequence[Remember], vectors: np.ndarray) -> None:
        data = pa.Table.from_pydict(
            {
                "memory_id": [m.memory_id for m in memories],
                "text": [m.text for m in memories],
                "kind": [m.kind for m in memories],
                "user_id": [m.user_id for m in memories],
                "conversation_id": [m.conversation_id for m in memories],
                "meta": [_json.encode(m.meta).decode() for m in memories],
                "at": [m.at for m in memories],
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(vectors.ravel(), pa.float32()), self.dimensions
                ),
            },
            schema=self.schema(),
        )
        (
            self.table.merge_insert("memory_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(data)
        )

    def compact(self) -> None:
        """Every write is a new LanceDB version with its own small files: merge the files,
        fold rows added since the index was built into it, and delete versions older than
        ``memory.version_retention`` (a backup copying the folder still reads them)."""
        self._optimize(timedelta(seconds=self.settings.version_retention))

    def purge(self) -> None:
        """Compact and keep only the latest version: the deleted rows' text is in the older
        versions' files until then. A folder backup copied at this moment may miss files."""
        self._optimize(timedelta(0))

    def _optimize(self, retention: timedelta) -> None:
        # LanceDB warns that dropping every older version fails their readers: no other
        # process works on the table, and the actor waits for an index build before it
        # writes, so there are none.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "optimize.cleanup_older_than=0", UserWarning)
            self.table.optimize(cleanup_older_than=retention)

    def wants_index(self) -> bool:
        """From ``index_min_rows`` on; again (new partitions) once the table has grown
        ``reindex_growth`` times since the last build, as folded-in rows skew the old ones."""
        rows = self.table.count_rows()
        if rows < self.settings.index_min_rows:
            return False
        return not self.indexed or rows >= self.built_rows * self.settings.reindex_growth

    def build_index(self) -> None:
        rows = self.table.count_rows()
        self.table.create_index(
            metric="cosine", index_type="IVF_HNSW_SQ", vector_column_name="vector",
            num_partitions=max(1, int(math.sqrt(rows) / 4)), replace=True,
        )  # fmt: skip
        self.indexed, self.built_rows = True, rows

    def layout(self) -> dict[str, int]:
        fragments = self.table.stats()["fragment_stats"]["num_fragments"]
        return {"versions": len(self.table.list_versions()), "fragments": int(fragments),
                "indices": len(self.table.list_indices())}  # fmt: skip
        self.indexed = True

    def search(
        self, vector: np.ndarray, k: int, where: MemoryFilter, min_similarity: float
    ) -> list[MemoryItem]:
        query = self.table.search(vector, vector_column_name="vector").distance_type("cosine")
        conditions = _conditions(where, _sql_string)
        if conditions:
            query = query.where(" AND ".join(conditions), prefilter=True)
        if self.indexed:
            query = query.nprobes(self.settings.nprobes).refine_factor(self.settings.refine_factor)
        found = query.limit(k).select(RECALLED_COLUMNS).to_list()
        items = [_lance_item(row, 1 - row["_distance"]) for row in found]
        return [item for item in items if item.similarity is not None
                and item.similarity >= min_similarity]  # fmt: skip

    def newest(
        self, where: MemoryFilter | None, limit: int, offset: int, memory_ids: Sequence[str] = ()
    ) -> tuple[list[MemoryItem], int]:
        condition = " AND ".join(_conditions(where, _sql_string, memory_ids)) or None
        total = int(self.table.count_rows(condition))
        if not total:
            return [], 0
        # A scan has no ORDER BY: read the matching rows' ids and times only, sort, then read
        # the page's rows (the dashboard lists the newest often; texts are most of a row).
        query = self.table.search()
        if condition is not None:
            query = query.where(condition)
        times = query.select(["memory_id", "at"]).limit(total).to_arrow()
        order = pc.sort_indices(times, [("at", "descending"), ("memory_id", "ascending")])
        page = times["memory_id"].take(order[offset : offset + limit]).to_pylist()
        if not page:
            return [], total
        rows = (
            self.table.search().where(" AND ".join(_conditions(None, _sql_string, page)))
            .select(LISTED_COLUMNS).limit(len(page)).to_list()
        )  # fmt: skip
        position = {memory_id: place for place, memory_id in enumerate(page)}
        rows.sort(key=lambda row: position[row["memory_id"]])
        return [_lance_item(row, None) for row in rows], total

    def delete(self, memory_ids: Sequence[str], where: MemoryFilter | None) -> int:
        conditions = _conditions(where, _sql_string, memory_ids)
        before = self.table.count_rows()
        self.table.delete(" AND ".join(conditions) or "true")
        return before - self.table.count_rows()

    def count(self) -> int:
        return int(self.table.count_rows())


PG_LISTED = (
    "memory_id, text, kind, user_id, conversation_id, meta, extract(epoch FROM at)::double "
    "precision"
)
"""A memory's columns, in `_pg_item`'s order: not the vector."""


def _pg_conditions(
    where: MemoryFilter | None, memory_ids: Sequence[str] = ()
) -> tuple[list[str], list[Any]]:
    """The conditions with ``%s`` placeholders, and their parameters in order."""
    params: list[Any] = []

    def placeholder(value: str) -> str:
        params.append(value)
        return "%s"

    return _conditions(where, placeholder, memory_ids), params


def _where_sql(conditions: list[str]) -> str:
    return "WHERE " + " AND ".join(conditions) if conditions else ""


def _pg_item(row: Sequence[Any], similarity: float | None) -> MemoryItem:
    return MemoryItem(
        memory_id=row[0],
        text=row[1],
        kind=row[2],
        user_id=row[3],
        conversation_id=row[4],
        meta=row[5],
        at=row[6],
        similarity=similarity,
    )


class PgVectorIndex(MemoryIndex):
    def __init__(self, config: Config, dimensions: int) -> None:
        super().__init__(dimensions)
        self.store = config.store
        self.settings = config.memory
        self.pool: Any = None

    def open(self) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout

        dsn = pg_dsn(self.store)
        timeout = self.store.connect_timeout
        try:
            # The vector type must exist before pool connections can register it.
            with psycopg.connect(dsn, connect_timeout=max(1, round(timeout)),
                                 autocommit=True) as connection:  # fmt: skip
                self._create(connection)
            pool = ConnectionPool(
                dsn, min_size=1, max_size=2, open=False, timeout=timeout,
                kwargs={"connect_timeout": max(1, round(timeout)), "autocommit": True},
                configure=self._configure, name="solo-memory",
            )  # fmt: skip
            try:
                pool.open(wait=True, timeout=timeout)
            except PoolTimeout:
                pool.close()
                raise
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise StoreUnavailable(f"PostgreSQL (memories) is unreachable: {error}") from error
        self.pool = pool

    def _configure(self, connection: Any) -> None:
        """Once per pooled connection, so a recall is one round trip: the vector type, and
        the HNSW search settings for the session (not SET LOCAL in a transaction per query).
        A connection that died is not checked on every checkout (a round trip too): the
        first query on it fails, the actor reconnects and the pool is new."""
        from pgvector.psycopg import register_vector

        register_vector(connection)
        connection.execute(f"SET hnsw.ef_search = {int(self.settings.ef_search)}")
        connection.execute("SET hnsw.iterative_scan = relaxed_order")

    def _create(self, connection: Any) -> None:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {MEMORY_TABLE} (memory_id text PRIMARY KEY, "
            "text text NOT NULL, kind text NOT NULL, user_id text, conversation_id text, "
            f"meta jsonb NOT NULL, at timestamptz NOT NULL, embedding vector({self.dimensions}) "
            "NOT NULL)"
        )
        connection.execute(
            f"CREATE INDEX IF NOT EXISTS {MEMORY_TABLE}_embedding ON {MEMORY_TABLE} "
            "USING hnsw (embedding vector_cosine_ops)"
        )
        # Listing is newest first (`newest`): without it, a sort of every row each time.
        connection.execute(f"CREATE INDEX IF NOT EXISTS {MEMORY_TABLE}_at ON {MEMORY_TABLE} (at)")
        stored = connection.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'embedding'", (MEMORY_TABLE,),
        ).fetchone()[0]  # fmt: skip
        if stored != self.dimensions:
            raise StoreInputError(
                f"the {MEMORY_TABLE} table holds {stored}-d vectors but memory.model makes "
                f"{self.dimensions}-d ones: rename the table to start a new memory"
            )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _run(self, work: Any) -> Any:
        import psycopg
        from psycopg_pool import PoolTimeout

        if self.pool is None:
            raise StoreUnavailable("PostgreSQL (memories) is not connected")
        try:
            with self.pool.connection() as connection:
                return work(connection)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise StoreUnavailable(f"PostgreSQL (memories) went away: {error}") from error

    def _add(self, memories: Sequence[Remember], vectors: np.ndarray) -> None:
        from psycopg.types.json import Jsonb

        rows = [
            (m.memory_id, m.text, m.kind, m.user_id, m.conversation_id, Jsonb(m.meta),
             datetime.fromtimestamp(m.at, UTC), vector)
            for m, vector in zip(memories, vectors, strict=True)
        ]  # fmt: skip
        sql = (
            f"INSERT INTO {MEMORY_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (memory_id) DO UPDATE SET text = EXCLUDED.text, kind = EXCLUDED.kind, "
            "user_id = EXCLUDED.user_id, conversation_id = EXCLUDED.conversation_id, "
            "meta = EXCLUDED.meta, at = EXCLUDED.at, embedding = EXCLUDED.embedding"
        )

        def insert(connection: Any) -> None:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)

        self._run(insert)

    def search(
        self, vector: np.ndarray, k: int, where: MemoryFilter, min_similarity: float
    ) -> list[MemoryItem]:
        conditions, params = _pg_conditions(where)
        # One vector parameter, sent binary; ORDER BY the output column still uses the index.
        # psycopg prepares the statement on its first run, so later recalls skip planning.
        sql = (
            f"SELECT {PG_LISTED}, embedding <=> %b AS distance "
            f"FROM {MEMORY_TABLE} {_where_sql(conditions)} ORDER BY distance LIMIT %b"
        )
        vector = np.asarray(vector, dtype=np.float32)
        rows = self._run(
            lambda connection: connection.execute(
                sql, [vector, *params, k], prepare=True, binary=True
            ).fetchall()
        )
        return [
            _pg_item(row, 1.0 - float(row[7])) for row in rows
            if 1.0 - float(row[7]) >= min_similarity
        ]  # fmt: skip

    def newest(
        self, where: MemoryFilter | None, limit: int, offset: int, memory_ids: Sequence[str] = ()
    ) -> tuple[list[MemoryItem], int]:
        conditions, params = _pg_conditions(where, memory_ids)
        where_sql = _where_sql(conditions)
        listing = (
            f"SELECT {PG_LISTED} FROM {MEMORY_TABLE} {where_sql} "
            "ORDER BY at DESC, memory_id LIMIT %s OFFSET %s"
        )
        counting = f"SELECT count(*) FROM {MEMORY_TABLE} {where_sql}"

        def read(connection: Any) -> tuple[list[MemoryItem], int]:
            rows = connection.execute(listing, [*params, limit, offset]).fetchall()
            total = connection.execute(counting, params).fetchone()[0]
            return [_pg_item(row, None) for row in rows], int(total)

        listed: tuple[list[MemoryItem], int] = self._run(read)
        return listed

    def delete(self, memory_ids: Sequence[str], where: MemoryFilter | None) -> int:
        conditions, params = _pg_conditions(where, memory_ids)
        sql = f"DELETE FROM {MEMORY_TABLE} {_where_sql(conditions)}"
        return int(self._run(lambda connection: connection.execute(sql, params).rowcount))

    # PostgreSQL's autovacuum tidies the table, and the HNSW index grows in place.

    def compact(self) -> None:
        return

    def purge(self) -> None:
        """Nothing here: PostgreSQL's vacuum reclaims deleted rows (``autovacuum``)."""

    def wants_index(self) -> bool:
        return False

    def build_index(self) -> None:
        return

    def layout(self) -> dict[str, int]:
        return {}

    def count(self) -> int:
        sql = f"SELECT count(*) FROM {MEMORY_TABLE}"
        return int(self._run(lambda connection: connection.execute(sql).fetchone()[0]))


def make_index(config: Config, dimensions: int) -> MemoryIndex:
    if config.store.backend == "postgres":
        return PgVectorIndex(config, dimensions)
    return LanceIndex(config, dimensions)
