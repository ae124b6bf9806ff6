"""Requests that find a bug in the memory or the store actor, through the running assistant's
API: a read fails alone (a 500 that names the error; the actor keeps running and is not
restarted), a turn whose recall fails is still answered, and a request that crashes its
actor is a 500 that says so, not a 503 that calls a running actor "not running"."""

from __future__ import annotations

import pytest

from solo_actors.memory.index import LanceIndex
from solo_actors.store.duckdb_backend import DuckDBBackend
from tests.api.apikit import RunningApi
from tests.conftest import wait_for


def broken(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("a torn page")


def wait_memory_open(api: RunningApi) -> None:
    """Until memory has opened its index: before, a read fails for that reason, not ours."""
    wait_for(lambda: api.get("/memories", scope="read").status_code == 200, "memory to open")


def restarts(api: RunningApi, path: str) -> int:
    node = api.node(path)
    assert node is not None, path
    return node.restarts


def test_a_memory_read_that_fails_fails_alone(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    wait_memory_open(api)
    before = restarts(api, "solo/memory")
    monkeypatch.setattr(LanceIndex, "newest", broken)
    for _ in range(6):  # more than the tree's restart intensity allows in its period
        failed = api.get("/memories", scope="read")
        assert failed.status_code == 500, failed.text
        assert failed.json()["error"].startswith(
            "memory failed on this request (RuntimeError: a torn page) and keeps running"
        ), failed.text
    monkeypatch.undo()
    assert api.get("/memories", scope="read").status_code == 200
    node = api.node("solo/memory")
    assert node is not None and node.restarts == before
    assert node.figures["requests_failed"] == 6
    assert "failed on a ListMemories and goes on" in api.log.getvalue()


def test_a_turn_whose_recall_fails_is_still_answered(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dialogue asks memory before every llm request: a recall that fails costs the turn
    its memories, not its answer, and the dialogue does not crash on it either."""
    wait_memory_open(api)
    before = {path: restarts(api, path) for path in ("solo/memory", "solo/dialogue")}
    monkeypatch.setattr(LanceIndex, "search", broken)
    asked = api.post("/ask", scope="control", json={"text": "Hello there, how are you?"})
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["reply"].strip() and not answer["model"].startswith("skills:"), answer
    assert {path: restarts(api, path) for path in before} == before
    assert "memory failed on this request (RuntimeError: a torn page)" in api.log.getvalue()


def test_a_store_read_that_fails_fails_alone(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = restarts(api, "solo/store")
    monkeypatch.setattr(DuckDBBackend, "read", broken)
    failed = api.get("/turns", scope="read")
    assert failed.status_code == 500, failed.text
    assert (
        "failed on this request (RuntimeError: a torn page) and keeps running"
        in (failed.json()["error"])
    ), failed.text
    monkeypatch.undo()
    assert api.get("/turns", scope="read").status_code == 200
    assert restarts(api, "solo/store") == before


def test_a_request_that_crashes_its_actor_is_a_500_that_says_so(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forget is a write, so it is not contained: the bug crashes memory, which its
    supervisor restarts. The client learns that its request did it, and that a retry as it
    is would do it again: a 500, not the 503 "not running" of an actor that is down."""
    before = restarts(api, "solo/memory")
    monkeypatch.setattr(LanceIndex, "delete", broken)
    crashed = api.request("DELETE", "/memories/m-none", scope="control")
    assert crashed.status_code == 500, crashed.text
    assert crashed.json()["error"].startswith(
        "memory crashed on this request (RuntimeError: a torn page); its supervisor restarts it"
    ), crashed.text
    monkeypatch.undo()
    api.wait_running("solo/memory", before + 1)

    def forget_answered() -> int:  # 503 while the restarted actor reopens its index
        status = api.request("DELETE", "/memories/m-none", scope="control").status_code
        return 0 if status == 503 else status

    assert wait_for(forget_answered, "memory to reopen its index after the restart") == 404
