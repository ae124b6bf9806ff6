"""The memory contract on both backends (LanceDB and pgvector), with the real ONNX model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import supervisors
from solo_actors.config import Config
from solo_actors.memory.actor import MemoryActor
from solo_actors.memory.embedder import DIMENSIONS
from solo_actors.memory.index import make_index
from solo_actors.messages import (
    Forget,
    GetMemoryStatus,
    ListMemories,
    MemoryFilter,
    MemoryStatus,
    Recall,
    Remember,
)
from solo_actors.models import ResolvedModel
from solo_actors.store.backend import StoreInputError
from solo_actors.store.embedded_pg import EmbeddedPostgres
from tests.conftest import wait_for
from tests.store.backends import BackendConfig

ASK = 30.0
RECALL_TIMEOUT = 2.0  # what the dialogue actor would give a recall


def status(memory: supervisors.SupervisedRef) -> MemoryStatus:
    return memory.ask(GetMemoryStatus(), timeout=ASK)


@pytest.fixture
def config(backend_config: BackendConfig, pulled_model: Callable[[str], ResolvedModel]) -> Config:
    pulled_model("minilm-l6-v2-int8")
    return backend_config()


@pytest.fixture
def memory(config: Config) -> Iterator[supervisors.SupervisedRef]:
    ref = MemoryActor.start(config)
    wait_for(lambda: status(ref).ready, "memory to open its index")
    yield ref
    ref.stop()


def test_a_fact_from_one_conversation_is_recalled_in_a_later_one(
    memory: supervisors.SupervisedRef,
) -> None:
    memory.tell(Remember(text="User: my sister's name is Ana. Solo: Nice to know!",
                         conversation_id="monday", user_id="u1"))  # fmt: skip
    memory.tell(Remember(text="User: remind me to buy tyres for the car.",
                         conversation_id="monday", user_id="u1"))  # fmt: skip
    memory.tell(Remember(text="User: my sister is called Eva.", user_id="someone-else"))
    # Answered after the three remembers are stored (one mailbox, in order): the recall's
    # 2 s are its own, not also theirs (each an embedding and a write; slow on a busy CPU).
    assert status(memory).memories == 3
    found = memory.ask(
        Recall(query="What is my sister called?",
               filter=MemoryFilter(user_id="u1", exclude_conversation_id="friday")),
        timeout=RECALL_TIMEOUT,
    )  # fmt: skip
    assert found.error is None
    assert [item.text for item in found.items] == [
        "User: my sister's name is Ana. Solo: Nice to know!"
    ]  # the tyres are below the similarity floor, Eva belongs to another user
    assert 0.35 <= found.items[0].similarity <= 1.0
    assert found.items[0].conversation_id == "monday"


def test_forget_by_id_and_by_filter(memory: supervisors.SupervisedRef) -> None:
    memory.tell(Remember(text="The garage code is 4711", memory_id="m1", kind="fact"))
    memory.tell(Remember(text="The wifi password is on the fridge", kind="fact",
                         conversation_id="c2"))  # fmt: skip
    memory.tell(Remember(text="Lunch was pasta", kind="exchange", conversation_id="c2"))
    assert memory.ask(Forget(memory_ids=["m1"]), timeout=ASK).count == 1
    assert memory.ask(Forget(filter=MemoryFilter(kind="fact", conversation_id="c2")),
                      timeout=ASK).count == 1  # fmt: skip
    refused = memory.ask(Forget(filter=MemoryFilter()), timeout=ASK)
    assert refused.count == 0 and "empty filter is refused" in refused.error
    both = memory.ask(Forget(memory_ids=["m1"], everything=True), timeout=ASK)
    assert both.count == 0 and "exactly one of" in both.error
    assert status(memory).memories == 1
    assert memory.ask(Forget(everything=True), timeout=ASK).count == 1
    assert status(memory).memories == 0


def test_memories_are_listed_newest_first_a_page_at_a_time(
    memory: supervisors.SupervisedRef,
) -> None:
    for number in range(5):
        memory.tell(Remember(text=f"Fact number {number}", memory_id=f"m{number}",
                             kind="told" if number % 2 else "exchange", at=1000.0 + number,
                             conversation_id="c1" if number < 3 else "c2"))  # fmt: skip
    # Asked straight after the tells, on one mailbox: the listing holds all five.
    first = memory.ask(ListMemories(limit=2), timeout=ASK)
    assert first.error is None and first.total == 5
    assert [item.memory_id for item in first.items] == ["m4", "m3"]
    assert first.items[0].similarity is None and first.items[0].at == 1004.0
    rest = memory.ask(ListMemories(limit=10, offset=2), timeout=ASK)
    assert [item.memory_id for item in rest.items] == ["m2", "m1", "m0"] and rest.total == 5
    told = memory.ask(ListMemories(filter=MemoryFilter(kind="told", conversation_id="c1")),
                      timeout=ASK)  # fmt: skip
    assert [item.text for item in told.items] == ["Fact number 1"] and told.total == 1
    assert memory.ask(ListMemories(offset=9), timeout=ASK).items == []
    bad = memory.ask(ListMemories(limit=0), timeout=ASK)
    assert bad.items == [] and "limit must be 1..1000" in bad.error


def test_bad_text_is_repaired_not_refused(
    memory: supervisors.SupervisedRef, config: Config
) -> None:
    memory.tell(Remember(text="x" * (config.memory.max_text_bytes * 3), memory_id="big"))
    memory.tell(Remember(text="broken \udcff text with nul \x00", memory_id="bad"))
    memory.tell(Remember(text="   ", memory_id="empty"))  # nothing to remember: logged
    found = memory.ask(Recall(query="broken text", k=5, min_similarity=-1.0), timeout=ASK)
    texts = {item.memory_id: item.text for item in found.items}
    assert set(texts) == {"big", "bad"}
    assert len(texts["big"].encode()) <= config.memory.max_text_bytes
    assert "\x00" not in texts["bad"] and "\ufffd" in texts["bad"]
    assert memory.is_alive()


def test_vectors_of_the_wrong_dimension_are_refused(config: Config) -> None:
    index = make_index(config, DIMENSIONS)
    index.open()
    try:
        with pytest.raises(StoreInputError, match="384 dimensions, got shape"):
            index.add([Remember(text="x")], np.zeros((1, 383), dtype=np.float32))
        with pytest.raises(StoreInputError, match="NaN"):
            index.add([Remember(text="x")], np.full((1, DIMENSIONS), np.nan))
        assert index.count() == 0
    finally:
        index.close()


def test_postgres_down_at_start_keeps_remembers_until_it_is_up(
    make_config: Callable[..., Config], pg_server: EmbeddedPostgres, tmp_path: Path,
    pulled_model: Callable[[str], ResolvedModel],
) -> None:  # fmt: skip
    pulled_model("minilm-l6-v2-int8")
    config = make_config(store__backend="postgres", store__pg_dsn=pg_server.dsn,
                         store__retry_min=0.05, store__retry_max=0.2,
                         store__connect_timeout=1.0)  # fmt: skip
    memory = MemoryActor.start(config)
    try:
        memory.tell(Remember(text="The spare key is under the blue pot"))
        wait_for(lambda: status(memory).last_error is not None, "memory to report the error")
        found = memory.ask(Recall(query="where is the key?"), timeout=RECALL_TIMEOUT)
        assert found.items == [] and "unreachable" in found.error
        assert status(memory).pending == 1
        pg_server.start()
        wait_for(lambda: status(memory).ready, "memory to open its index")
        found = memory.ask(Recall(query="where is the spare key?"), timeout=RECALL_TIMEOUT)
        assert [item.text for item in found.items] == ["The spare key is under the blue pot"]
    finally:
        memory.stop()


def test_a_crash_releases_what_the_actor_held_and_keeps_its_remembers(config: Config) -> None:
    """Crashed and restarted five times, memory leaves no opener thread behind and what it
    was told before each crash is recalled after."""
    supervisors.faults.enable()
    root = supervisors.start_supervisor(
        supervisors.SupFlags(intensity=10, period=5),
        [
            supervisors.ChildSpec(
                id="memory", name="memory", start=MemoryActor.start, args=(config,), shutdown=10.0
            )
        ],
        name="memory-crash-test",
    )
    try:
        for crash in range(5):
            memory = supervisors.whereis("memory", timeout=ASK)
            assert memory is not None
            wait_for(lambda ref=memory: status(ref).ready, "memory to open its index")
            memory.tell(Remember(text=f"the spare key {crash} is under the blue pot",
                                 memory_id=f"key-{crash}"))  # fmt: skip
            with pytest.raises(supervisors.ActorExitedError):
                memory.ask(supervisors.Fault("raise", label=f"crash {crash}"), timeout=ASK)
        memory = supervisors.whereis("memory", timeout=ASK)
        assert memory is not None
        wait_for(lambda: status(memory).ready, "memory to open its index")
        openers = [t for t in threading.enumerate() if t.name.startswith("memory-open")]
        assert len(openers) <= 1, [t.name for t in openers]
        kept = memory.ask(Recall(query="where is the spare key?", k=10), timeout=ASK)
        assert kept.error is None
        assert {item.memory_id for item in kept.items} == {f"key-{n}" for n in range(5)}
    finally:
        root.stop()
        supervisors.faults.enable(False)
