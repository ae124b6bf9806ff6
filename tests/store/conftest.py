"""Store suite fixtures: see tests/store/backends.py (shared with tests/memory)."""

from tests.store.backends import backend_config, pg_admin_dsn, pg_server

__all__ = ["backend_config", "pg_admin_dsn", "pg_server"]
