"""``solo db`` on a stopped assistant: stats, migrate, backup then restore into an empty store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from solo_actors.cli import main
from solo_actors.config import Config
from solo_actors.messages import Flush, RecordEvent
from solo_actors.store.actor import StoreActor
from tests.conftest import config_environment


def run_cli(monkeypatch: pytest.MonkeyPatch, var_dir: Path, *args: str) -> int:
    for key, value in config_environment(var_dir, {}).items():
        monkeypatch.setenv(key, value)
    return main(["--profile", "test", *args])


def test_backup_restore_stats_migrate(
    make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = make_config()
    store = StoreActor.start(config)
    for i in range(7):
        store.tell(RecordEvent(kind="k", source="cli", data={"i": i}))
    assert store.ask(Flush(), timeout=30).durable
    var = tmp_path / "var"
    try:  # DuckDB: one process at a time; the running store holds the file
        other = subprocess.run(
            [sys.executable, "-m", "solo_actors", "--profile", "test", "db", "stats"],
            env={**os.environ, **config_environment(var, {})}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert other.returncode == 1 and "Only one process" in other.stderr
    finally:
        store.stop()
    out = tmp_path / "b.tar"
    assert run_cli(monkeypatch, var, "db", "backup", "--out", str(out)) == 0
    assert run_cli(monkeypatch, var, "db", "restore", str(out)) == 1  # not empty
    assert "not empty" in capsys.readouterr().err
    fresh = tmp_path / "fresh"
    assert run_cli(monkeypatch, fresh, "db", "restore", str(out)) == 0
    assert run_cli(monkeypatch, fresh, "db", "migrate") == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, fresh, "db", "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["rows"]["events"] == 7 and stats["schema_version"] == 3
