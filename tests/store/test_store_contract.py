"""The store contract: every test runs on DuckDB and on PostgreSQL (see backends.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    FORGOTTEN_WORDS,
    BackupStore,
    DeleteUser,
    Flush,
    ForgetMentions,
    GetStoreStats,
    ListItem,
    ReadRows,
    RecordEvent,
    RecordEvents,
    RecordMetric,
    RecordTurn,
    RevokeApiTokens,
    SaveApiToken,
    SaveListItem,
    SaveSession,
    SaveSkillItem,
    SaveUser,
    SkillItem,
    StageTimes,
    StoreFailure,
    TokensRevoked,
    UserDeleted,
)
from solo_actors.store import backend as store_backend
from solo_actors.store.actor import StoreActor
from solo_actors.store.backend import StoreInputError
from solo_actors.store.backends import open_backend
from solo_actors.store.backup import make_backup, restore_backup
from solo_actors.store.rows import hash_token
from solo_actors.store.schema import LATEST_VERSION, MIGRATIONS, SKILL_ITEMS_V4, TABLES
from tests.store.backends import BackendConfig

ASK = 30.0


@pytest.fixture
def config(backend_config: BackendConfig) -> Config:
    return backend_config()


@pytest.fixture
def store(config: Config) -> Iterator[supervisors.SupervisedRef]:
    ref = StoreActor.start(config)
    yield ref
    if ref.is_alive():
        ref.stop()


def all_writes(conversation: str = "c1") -> list[object]:
    report = supervisors.ExitReport(
        supervisor="solo", child_id="llm", reason=supervisors.ExitReason.crash(RuntimeError("x"))
    )
    return [
        RecordTurn(turn_id=f"{conversation}-t1", conversation_id=conversation, user_text="hi",
                   reply_text="hello", model="m", completion_tokens=3, tokens_per_second=40.0,
                   times=StageTimes(wake=1.0, done=2.5)),
        RecordEvents(events=[RecordEvent(kind="wake", source="voice", data={"n": i})
                             for i in range(5)]),
        RecordMetric(name="llm.tokens_per_s", value=41.5, labels={"model": "m"}),
        SaveUser(user_id="u1", name="Ana"),
        SaveApiToken(token_hash=hash_token("secret"), user_id="u1", label="cli"),
        SaveSession(session_id="s1", user_id="u1", expires_at=time.time() + 60),
        SaveSkillItem(item=SkillItem(item_id=f"{conversation}-timer", kind="timer",
                                     label="pasta", due_at=2_000_000_000.25, length=600.0)),
        SaveListItem(item=ListItem(item_id=f"{conversation}-milk", list_name="shopping",
                                   text="oat milk")),
        report,
    ]  # fmt: skip


def read(store: supervisors.SupervisedRef, table: str, **query: object) -> list[dict]:
    rows = store.ask(ReadRows(table=table, **query), timeout=ASK)
    assert not isinstance(rows, StoreFailure), rows.message
    return [dict(zip(rows.columns, row, strict=True)) for row in rows.rows]


def test_migrations_are_recorded_and_idempotent(config: Config) -> None:
    backend = open_backend(config)
    backend.open()
    try:
        assert backend.schema_version() == LATEST_VERSION
        assert backend.migrate() == []  # a second run applies nothing
    finally:
        backend.close()
    again = open_backend(config)
    again.open()
    try:
        assert again.schema_version() == LATEST_VERSION
    finally:
        again.close()


def test_every_kind_of_write_is_read_back(store: supervisors.SupervisedRef) -> None:
    for message in all_writes():
        store.tell(message)
    assert store.ask(Flush(), timeout=ASK).durable
    stats = store.ask(GetStoreStats(), timeout=ASK)
    assert stats.rows == {"conversations": 1, "turns": 1, "events": 5, "metrics": 1,
                          "reports": 1, "users": 1, "api_tokens": 1, "sessions": 1,
                          "skill_items": 1, "list_items": 1}  # fmt: skip
    turn = read(store, "turns")[0]
    assert (turn["user_text"], turn["t_wake"], turn["t_done"]) == ("hi", 1.0, 2.5)
    assert abs(turn["created_at"] - time.time()) < 60
    events = read(store, "events", equals={"kind": "wake"}, limit=2)
    assert [json.loads(e["data"]) for e in events] == [{"n": 4}, {"n": 3}]
    assert read(store, "api_tokens")[0]["token_hash"] == hash_token("secret")
    assert read(store, "reports")[0]["child_id"] == "llm"
    (timer,) = read(store, "skill_items", equals={"state": "pending"})
    assert (timer["label"], timer["due_at"], timer["fired_at"]) == ("pasta", 2_000_000_000.25, None)
    (milk,) = read(store, "list_items", equals={"state": "open", "list_name": "shopping"})
    assert (milk["text"], milk["changed_at"]) == ("oat milk", None)


def test_rewrites_replace_and_time_filters_apply(store: supervisors.SupervisedRef) -> None:
    for message in all_writes():
        store.tell(message)
    store.tell(RecordTurn(turn_id="c1-t1", conversation_id="c1", user_text="again",
                          reply_text="hello"))  # fmt: skip
    store.tell(SaveApiToken(token_hash=hash_token("secret"), user_id="u1", revoked=True))
    store.tell(RecordMetric(name="old", value=1.0, at=1_000_000.0))
    assert store.ask(Flush(), timeout=ASK).durable
    assert [t["user_text"] for t in read(store, "turns")] == ["again"]
    assert read(store, "api_tokens")[0]["revoked"] is True
    assert [m["name"] for m in read(store, "metrics", until=2_000_000.0)] == ["old"]
    assert [m["name"] for m in read(store, "metrics", since=2_000_000.0)] == ["llm.tokens_per_s"]


def user_writes(user_id: str, conversation_id: str) -> list[object]:
    return [
        SaveUser(user_id=user_id, name=user_id.title()),
        SaveApiToken(token_hash=hash_token(f"{user_id}-a"), user_id=user_id, label="phone"),
        SaveApiToken(token_hash=hash_token(f"{user_id}-b"), user_id=user_id, label="laptop"),
        SaveSession(session_id=f"{user_id}-s", user_id=user_id, expires_at=time.time() + 60),
        *(RecordTurn(turn_id=f"{conversation_id}-{i}", conversation_id=conversation_id,
                     user_id=user_id, user_text="hi", reply_text="hello") for i in range(3)),
    ]  # fmt: skip


def test_a_user_is_deleted_with_tokens_sessions_and_conversations(
    store: supervisors.SupervisedRef,
) -> None:
    for message in user_writes("ana", "c-ana") + user_writes("rui", "c-rui"):
        store.tell(message)  # not flushed: the delete must flush them first
    deleted = store.ask(DeleteUser(user_id="ana"), timeout=ASK)
    assert deleted == UserDeleted(user_id="ana", rows={
        "api_tokens": 2, "sessions": 1, "turns": 3, "conversations": 1, "users": 1})  # fmt: skip
    assert store.ask(Flush(), timeout=ASK).durable
    for table in ("users", "api_tokens", "sessions", "conversations"):
        assert {row["user_id"] for row in read(store, table)} == {"rui"}, table
    assert {row["conversation_id"] for row in read(store, "turns")} == {"c-rui"}
    again = store.ask(DeleteUser(user_id="ana"), timeout=ASK)
    assert isinstance(again, UserDeleted) and not any(again.rows.values())
    kept = store.ask(DeleteUser(user_id="rui", keep_conversations=True), timeout=ASK)
    assert kept.rows == {"api_tokens": 2, "sessions": 1, "users": 1}
    assert len(read(store, "turns")) == 3


@pytest.mark.parametrize("batch", [1, store_backend.REDACT_BATCH])
def test_forgotten_words_leave_the_transcript_whether_written_or_buffered(
    store: supervisors.SupervisedRef, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ForgetMentions`: a turn that told a forgotten fact keeps neither its words nor the
    reply (which repeats the fact in its own words); a reply that quoted it keeps the rest.
    The texts are looked for a batch at a time: one per statement, or all in one."""
    monkeypatch.setattr(store_backend, "REDACT_BATCH", batch)

    def turn(turn_id: str, said: str, reply: str) -> RecordTurn:
        return RecordTurn(turn_id=turn_id, conversation_id="c", user_text=said, reply_text=reply)

    store.tell(turn("told", "My locker code is 4512.", "Okay, your locker code is 4512."))
    store.tell(turn("unrelated", "Hi.", "Hello."))
    assert store.ask(Flush(), timeout=ASK).durable
    store.tell(turn("said back", "What do you remember?",
                    'You told me: "My locker code is 4512." and "I like tea."'))  # fmt: skip
    store.tell(turn("told again", "Well,  my locker code\nis 4512.", "Okay."))
    store.tell(ForgetMentions(texts=["My locker code is 4512.", "my locker code is 4512."]))
    store.tell(ForgetMentions(texts=["", " "]))  # would match everything: ignored
    assert store.ask(Flush(), timeout=ASK).durable
    words = {row["turn_id"]: (row["user_text"], row["reply_text"]) for row in read(store, "turns")}
    quoted = f'You told me: "{FORGOTTEN_WORDS}" and "I like tea."'
    assert words == {
        "told": (FORGOTTEN_WORDS, FORGOTTEN_WORDS),
        "unrelated": ("Hi.", "Hello."),
        "said back": ("What do you remember?", quoted),
        "told again": (FORGOTTEN_WORDS, FORGOTTEN_WORDS),
    }


def test_api_tokens_are_revoked_by_hash_or_by_user(store: supervisors.SupervisedRef) -> None:
    for message in user_writes("ana", "c-ana") + user_writes("rui", "c-rui"):
        store.tell(message)
    one = store.ask(RevokeApiTokens(token_hash=hash_token("ana-a")), timeout=ASK)
    assert one == TokensRevoked(count=1)
    assert store.ask(RevokeApiTokens(user_id="ana"), timeout=ASK) == TokensRevoked(count=1)
    assert store.ask(RevokeApiTokens(user_id="ana"), timeout=ASK) == TokensRevoked(count=0)
    revoked = {row["token_hash"]: row["revoked"] for row in read(store, "api_tokens")}
    assert revoked == {hash_token("ana-a"): True, hash_token("ana-b"): True,
                       hash_token("rui-a"): False, hash_token("rui-b"): False}  # fmt: skip
    everything = store.ask(RevokeApiTokens(), timeout=ASK)
    assert isinstance(everything, StoreFailure) and "token_hash or a user_id" in everything.message
    assert store.is_alive()


def test_bad_reads_get_a_failure_naming_the_problem(store: supervisors.SupervisedRef) -> None:
    failure = store.ask(ReadRows(table="turnz"), timeout=ASK)
    assert isinstance(failure, StoreFailure)
    assert "turnz" in failure.message and "turns" in failure.message
    failure = store.ask(ReadRows(table="turns", equals={"nope": 1}), timeout=ASK)
    assert "nope" in failure.message and "user_text" in failure.message
    assert store.is_alive()


def test_oversized_and_invalid_text_is_stored_repaired(
    store: supervisors.SupervisedRef, config: Config
) -> None:
    limit = config.store.max_text_bytes
    store.tell(RecordTurn(turn_id="big", conversation_id="c", user_text="é" * limit,
                          reply_text="bad \udcff and nul \x00"))  # fmt: skip
    store.tell(
        RecordTurn(turn_id="bytes", conversation_id="c", user_text=b"caf\xc3 \xff", reply_text="ok")
    )  # type: ignore[arg-type]
    assert store.ask(Flush(), timeout=ASK).durable
    turns = {t["turn_id"]: t for t in read(store, "turns")}
    big = turns["big"]["user_text"]
    assert len(big.encode()) <= limit and big.endswith(f"> {limit}]")
    assert "\x00" not in turns["big"]["reply_text"]
    assert turns["bytes"]["user_text"].startswith("caf\ufffd")


def test_backup_restores_every_row_into_an_empty_store(
    store: supervisors.SupervisedRef, backend_config: BackendConfig, tmp_path: Path
) -> None:
    for message in all_writes():
        store.tell(message)
    done = store.ask(BackupStore(out=str(tmp_path / "b.tar")), timeout=ASK)
    assert Path(done.path).stat().st_size == done.size_bytes > 0
    before = {name: read(store, name, limit=1000) for name in TABLES}

    fresh = backend_config(solo__var_dir=str(tmp_path / "fresh"))
    backend = open_backend(fresh)
    backend.open()
    try:
        manifest = restore_backup(backend, fresh, Path(done.path))
        assert manifest.rows == {name: len(rows) for name, rows in before.items()}
        columns_rows = {name: backend.read(name, {}, None, None, 1000) for name in TABLES}
        with pytest.raises(StoreInputError, match="not empty"):
            restore_backup(backend, fresh, Path(done.path))
    finally:
        backend.close()
    after = {
        n: [dict(zip(c, r, strict=True)) for r in rows] for n, (c, rows) in columns_rows.items()
    }
    assert after == before


def test_stats_report_partitions_and_size(store: supervisors.SupervisedRef, config: Config) -> None:
    stats = store.ask(GetStoreStats(), timeout=ASK)
    assert stats.schema_version == LATEST_VERSION and stats.size_bytes > 0
    if config.store.backend == "postgres":
        month = time.strftime("%Y%m", time.gmtime())
        assert f"events_{month}" in stats.partitions and "metrics_default" in stats.partitions
        assert len([p for p in stats.partitions if p.startswith("events_2")]) == (
            config.store.partitions_ahead + 1
        )
    else:
        assert stats.partitions == []


def test_backup_of_a_store_without_rows_still_restores(
    config: Config, backend_config: BackendConfig, tmp_path: Path
) -> None:
    backend = open_backend(config)
    backend.open()
    try:
        path = make_backup(backend, config, tmp_path / "empty.tar")
    finally:
        backend.close()
    fresh = backend_config(solo__var_dir=str(tmp_path / "fresh"))
    target = open_backend(fresh)
    target.open()
    try:
        assert restore_backup(target, fresh, path).rows == dict.fromkeys(TABLES, 0)
        assert target.schema_version() == LATEST_VERSION
    finally:
        target.close()


def test_a_store_of_the_previous_schema_is_upgraded_without_loss(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database made before skill_items.room, .repeats and .paused_left (migrations 5, 6
    and 8) and the lists (7) keeps its items, which ring once on Solo's own speaker, and
    takes items with a room, a repeat or paused, and list items, once upgraded."""
    monkeypatch.setattr(store_backend, "MIGRATIONS", MIGRATIONS[:4])
    old = open_backend(config)
    old.open()
    try:
        assert old.schema_version() == 4
        v4 = SKILL_ITEMS_V4
        marks = ", ".join([old.placeholder] * len(v4.columns))
        times = [old.dialect.from_epoch.format(m) if c.kind == "time" else m
                 for c, m in zip(v4.columns, marks.split(", "), strict=True)]  # fmt: skip
        with old.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO skill_items ({', '.join(v4.column_names)}) "
                f"VALUES ({', '.join(times)})",
                ("old-timer", 1_700_000_000.0, "timer", "pasta", 2_000_000_000.5, 600.0,
                 "pending", None),
            )  # fmt: skip
    finally:
        old.close()
    monkeypatch.undo()

    store = StoreActor.start(config)  # opens and migrates, as at a start after an upgrade
    try:
        (kept,) = read(store, "skill_items", equals={"item_id": "old-timer"})
        columns = ("label", "due_at", "state", "room", "repeats", "paused_left")
        assert tuple(kept[c] for c in columns) == (
            "pasta", 2_000_000_000.5, "pending", None, None, None)  # fmt: skip
        item = SkillItem(item_id="new", kind="reminder", label="stretch", due_at=2e9,
                         room="kitchen", repeats="weekdays")  # fmt: skip
        store.tell(SaveSkillItem(item=item))
        assert store.ask(Flush(), timeout=ASK).durable
        (new,) = read(store, "skill_items", equals={"room": "kitchen"})
        assert (new["item_id"], new["repeats"]) == ("new", "weekdays")
        paused = SkillItem(item_id="held", kind="timer", label="tea", due_at=2e9, length=300.0,
                           state="paused", paused_left=123.5)  # fmt: skip
        store.tell(SaveSkillItem(item=paused))
        assert store.ask(Flush(), timeout=ASK).durable
        (held,) = read(store, "skill_items", equals={"state": "paused"})
        assert (held["item_id"], held["paused_left"]) == ("held", 123.5)
        store.tell(SaveListItem(item=ListItem(list_name="shopping", text="eggs")))
        assert store.ask(Flush(), timeout=ASK).durable
        assert [row["text"] for row in read(store, "list_items")] == ["eggs"]
    finally:
        store.stop()
    upgraded = open_backend(config)
    upgraded.open()
    try:
        assert upgraded.schema_version() == LATEST_VERSION == 8
    finally:
        upgraded.close()
