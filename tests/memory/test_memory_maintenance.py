"""LanceDB maintenance: after many small remembers and forgets the table's versions and files
stay bounded, an index gets built past ``index_min_rows``, and recall keeps working."""

from __future__ import annotations

from collections.abc import Callable

from solo_actors.config import Config
from solo_actors.memory.actor import MemoryActor
from solo_actors.messages import Forget, Memories, MemoryFilter, Recall, Remember
from solo_actors.models import ResolvedModel
from tests.conftest import wait_for
from tests.memory.test_memory_contract import ASK, status

ROUNDS = 420  # 281 memories at the end: past index_min_rows (256)


def test_versions_and_files_stay_bounded_and_an_index_is_built(
    make_config: Callable[..., Config], pulled_model: Callable[[str], ResolvedModel],
) -> None:  # fmt: skip
    pulled_model("minilm-l6-v2-int8")
    config = make_config(memory__maintenance_interval=0.2, memory__version_retention=0.0,
                         memory__index_min_rows=256)  # fmt: skip
    memory = MemoryActor.start(config)
    try:
        wait_for(lambda: status(memory).ready, "memory to open its index")
        for i in range(ROUNDS):
            # One remember and (every third round) one forget: each is a LanceDB version.
            memory.tell(Remember(text=f"note {i}: the meeting about topic {i} moved",
                                 memory_id=f"note-{i}", kind="note"))  # fmt: skip
            if i % 3 == 2:
                forgotten = memory.ask(Forget(memory_ids=[f"note-{i - 1}"]), timeout=ASK)
                assert forgotten.error is None and forgotten.count == 1
        memory.tell(Remember(text="my sister's name is Ana", memory_id="ana", kind="fact"))
        before = status(memory).maintenance_runs
        # Two passes after the last write: the writes are compacted and an index built.
        wait_for(
            lambda: status(memory).maintenance_runs >= before + 2 and not status(memory).indexing,
            "two maintenance passes",
            timeout=120,
        )
        now = status(memory)
        assert now.memories == ROUNDS - ROUNDS // 3 + 1
        assert now.layout["versions"] <= 3, now.layout  # not ~400: old ones were deleted
        assert now.layout["fragments"] <= 16, now.layout  # not one per write
        assert now.layout["indices"] == 1, now.layout
        found: Memories = memory.ask(
            Recall(query="What is my sister called?", k=3, filter=MemoryFilter(kind="fact")),
            timeout=ASK,
        )
        assert found.error is None and [item.memory_id for item in found.items] == ["ana"]
        notes: Memories = memory.ask(
            Recall(query="meeting about topic 7", k=3, min_similarity=-1.0), timeout=ASK
        )
        assert notes.error is None and len(notes.items) == 3
        assert not {item.memory_id for item in notes.items} & {
            f"note-{i}" for i in range(1, ROUNDS, 3)
        }
    finally:
        memory.stop()
