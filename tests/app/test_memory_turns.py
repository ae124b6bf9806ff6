"""Long-term memory through the whole tree: a fact told in one conversation is recalled in a
later one, and every turn is recorded in the store."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import supervisors
from solo_actors.config import load_config
from solo_actors.dialogue import converse
from solo_actors.messages import Flush, Flushed, GetMemoryStatus, MemoryStatus, ReadRows, Rows
from solo_actors.runtime.app import start_tree
from tests.conftest import config_environment


@pytest.fixture(scope="module")
def default_model_tree(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[supervisors.SupervisorRef]:
    var_dir = tmp_path_factory.mktemp("memory") / "var"
    # The tiny test model can't be relied on to use a memory; the default model does.
    overrides = {"llm.model": "qwen2.5-coder-0.5b-instruct-q4_k_m", "llm.max_tokens": 48}
    root = start_tree(load_config("test", environ=config_environment(var_dir, overrides)))
    yield root
    root.stop()


def wait_for_memories(count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = supervisors.ask("memory", GetMemoryStatus(), timeout=10)
        assert isinstance(status, MemoryStatus), status
        if status.memories >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"memory holds fewer than {count} memories after {timeout} s")


def test_a_fact_from_one_conversation_is_recalled_in_another(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    told = converse("Please remember this: my sister's name is Ana.", "first-conversation")
    assert told.error is None, told.error
    wait_for_memories(1)  # the exchange is remembered by a tell after the reply

    asked = converse("What is my sister's name?", "second-conversation")
    assert asked.error is None, asked.error
    assert asked.memories_used >= 1
    assert "Ana" in asked.reply, asked.reply


def test_every_turn_is_recorded_in_the_store(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    done = converse("Say the word blue.", "recorded-conversation")
    flushed = supervisors.ask("store", Flush(), timeout=10)
    assert isinstance(flushed, Flushed) and flushed.durable
    rows = supervisors.ask(
        "store",
        ReadRows(table="turns", equals={"conversation_id": "recorded-conversation"}),
        timeout=10,
    )
    assert isinstance(rows, Rows), rows
    record = dict(zip(rows.columns, rows.rows[0], strict=True))
    assert record["turn_id"] == done.turn_id
    assert record["user_text"] == "Say the word blue."
    assert record["reply_text"] == done.reply


def test_turns_go_on_without_memory_when_it_is_down(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    default_model_tree.terminate_child("memory")
    try:
        done = converse("Hello there.", "no-memory-conversation")
        assert done.error is None and done.memories_used == 0
    finally:
        default_model_tree.restart_child("memory")
