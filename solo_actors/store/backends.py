"""Which store backend a config asks for: the one module that knows them all.

`backend` holds the interface the backends implement, so it cannot name them without an
import cycle; this module picks one. Each backend is imported only when chosen: psycopg is
not loaded for DuckDB, nor DuckDB for PostgreSQL.
"""

from __future__ import annotations

from solo_actors.config import Config
from solo_actors.store.backend import StoreBackend

__all__ = ["open_backend"]


def open_backend(config: Config) -> StoreBackend:
    """The configured backend, not yet opened."""
    if config.store.backend == "postgres":
        from solo_actors.store.postgres_backend import PostgresBackend

        return PostgresBackend(config)
    from solo_actors.store.duckdb_backend import DuckDBBackend

    return DuckDBBackend(config)
