"""``solo db`` on a stopped assistant: stats, migrate, backup then restore into an empty store,
delete-user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from solo_actors.cli import main
from solo_actors.config import Config
from solo_actors.memory.embedder import DIMENSIONS
from solo_actors.memory.index import MemoryIndex, make_index
from solo_actors.messages import Flush, RecordEvent, RecordTurn, Remember, SaveApiToken, SaveUser
from solo_actors.store.actor import StoreActor
from solo_actors.store.backends import open_backend
from solo_actors.store.rows import hash_token
from solo_actors.store.schema import LATEST_VERSION
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
    assert stats["rows"]["events"] == 7 and stats["schema_version"] == LATEST_VERSION


def test_delete_user_removes_their_rows_and_memories(
    make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = make_config()
    store = StoreActor.start(config)
    for user_id in ("ana", "rui"):
        store.tell(SaveUser(user_id=user_id, name=user_id))
        store.tell(SaveApiToken(token_hash=hash_token(user_id), user_id=user_id))
        store.tell(RecordTurn(turn_id=f"t-{user_id}", conversation_id=f"c-{user_id}",
                              user_id=user_id, user_text="hi", reply_text="hello"))  # fmt: skip
    assert store.ask(Flush(), timeout=30).durable
    store.stop()
    memories = make_index(config, DIMENSIONS)
    memories.open()
    vectors = np.eye(3, DIMENSIONS, dtype=np.float32)
    memories.add([Remember(text="a", user_id="ana"), Remember(text="b", user_id="ana"),
                  Remember(text="c", user_id="rui")], vectors)  # fmt: skip
    memories.close()
    var = tmp_path / "var"
    assert run_cli(monkeypatch, var, "db", "delete-user", "ana") == 0
    out = capsys.readouterr().out
    assert "user ana deleted" in out and "1 turns" in out and "2 memories" in out
    assert run_cli(monkeypatch, var, "db", "delete-user", "ana") == 1
    assert "no user 'ana'" in capsys.readouterr().err
    assert run_cli(monkeypatch, var, "db", "stats", "--json") == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert (rows["users"], rows["api_tokens"], rows["turns"], rows["conversations"]) == (1, 1, 1, 1)
    memories.open()
    try:
        assert memories.count() == 1
    finally:
        memories.close()


def test_forget_memories_forgets_one_kind_or_all(
    make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A user whose Solo kept every question with its reply drops those and keeps what they
    told (docs/storage.md, "What is remembered"); the transcript forgets their words too."""
    config = make_config()
    store = StoreActor.start(config)
    store.tell(RecordTurn(turn_id="told", conversation_id="c", user_text="My dog is Rex.",
                          reply_text="Okay, your dog is Rex."))  # fmt: skip
    store.tell(RecordTurn(turn_id="other", conversation_id="c", user_text="Why?",
                          reply_text="Because."))  # fmt: skip
    assert store.ask(Flush(), timeout=30).durable
    store.stop()
    memories = make_index(config, DIMENSIONS)
    memories.open()
    vectors = np.eye(3, DIMENSIONS, dtype=np.float32)
    kept = [
        Remember(text="User said: Hi\nSolo replied: Hello", kind="exchange"),
        Remember(text="User said: Why not?\nSolo replied: Because", kind="exchange"),
        Remember(text="The user said: My dog is Rex.", kind="told"),
    ]
    memories.add(kept, vectors)
    memories.close()
    var = tmp_path / "var"
    assert run_cli(monkeypatch, var, "db", "forget-memories", "--kind", "exchange") == 0
    said = capsys.readouterr().out
    assert "forgot 2 memories of kind 'exchange', and their words in 0 turns" in said, said
    assert held(memories) == 1
    assert run_cli(monkeypatch, var, "db", "forget-memories", "--all") == 0
    assert "forgot 1 memories, and their words in 1 turns" in capsys.readouterr().out
    assert held(memories) == 0
    assert transcript(config) == {
        "told": ("(forgotten)", "(forgotten)"), "other": ("Why?", "Because."),
    }  # fmt: skip


def transcript(config: Config) -> dict[str, tuple[str, str]]:
    """Each recorded turn's words, read from the stopped store."""
    backend = open_backend(config)
    backend.open()
    try:
        columns, rows = backend.read("turns", {}, None, None, 100)
        turns = [dict(zip(columns, row, strict=True)) for row in rows]
        return {turn["turn_id"]: (turn["user_text"], turn["reply_text"]) for turn in turns}
    finally:
        backend.close()


def held(memories: MemoryIndex) -> int:
    """How many memories the closed index holds (opened for the count, closed again)."""
    memories.open()
    try:
        return memories.count()
    finally:
        memories.close()
