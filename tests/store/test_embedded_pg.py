"""The embedded PostgreSQL survives losing the race for the port it probed as free."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from solo_actors.store import embedded_pg
from solo_actors.store.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError


def test_a_port_taken_after_the_probe_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy, embedded_pg.free_port()])
        monkeypatch.setattr(embedded_pg, "free_port", lambda: next(ports))
        server = EmbeddedPostgres(tmp_path / "pg")
        assert server.port == busy
        server.start()
        try:
            assert server.port != busy
            with psycopg.connect(server.dsn) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
        finally:
            server.stop()


def test_a_port_the_caller_chose_is_not_replaced(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = EmbeddedPostgres(tmp_path / "pg", port=taken.getsockname()[1])
        with pytest.raises(EmbeddedPostgresError, match="Fix:"):
            server.start()


def test_a_port_whose_dsn_was_handed_out_is_not_replaced(tmp_path: Path) -> None:
    """A client given the DSN before the start (a store told to wait for its database)
    would dial the old port for ever: the start fails, naming the port, instead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = EmbeddedPostgres(tmp_path / "pg")
        server.port = busy  # as if the probed port were taken between the probe and the start
        assert f":{busy}/" in server.dsn
        with pytest.raises(EmbeddedPostgresError, match="Fix:"):
            server.start()
        assert server.port == busy
