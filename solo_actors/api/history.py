"""What happened: the supervisor report log (``/log``), turns and conversations from the
store (``/turns``, ``/conversations/{id}``), and the memories: recalled for a text or listed
newest first (``GET /memories``), and forgotten (``DELETE /memories/{id}``, ``DELETE
/memories`` by filter or ``?all=true``). A forget also drops the memory's words from the
llm's conversation histories (the memory actor tells it; docs/storage.md).

The report log is read from its files, so it answers whether or not the ``reports`` actor
runs; the store and memory are asked in a worker thread with ``api.actor_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from solo_actors.api.common import (
    ask_actor,
    json_response,
    query_int,
    query_time,
    state_of,
)
from solo_actors.api.report_query import QUERY_KINDS, select_reports
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import (
    Forget,
    Forgotten,
    ListMemories,
    Memories,
    MemoryFilter,
    MemoryList,
    Message,
    ReadRows,
    Recall,
    Rows,
    StoreFailure,
)
from solo_actors.names import MEMORY_NAME, STORE_NAME
from solo_actors.reports import read_reports


async def log(request: web.Request) -> web.Response:
    state = state_of(request)
    kind = request.query.get("kind")
    if kind is not None and kind not in QUERY_KINDS:
        raise ApiError(400, f"query parameter `kind` must be one of {', '.join(QUERY_KINDS)}; "
                       f"got {kind!r}")  # fmt: skip
    directory = state.config.solo.var_path(state.config.reports.dir)
    reports = await asyncio.to_thread(lambda: list(read_reports(directory)))
    limit = query_int(request, "limit", 100, 1, 10_000)
    selected = select_reports(
        reversed(reports), actor=request.query.get("actor"), kind=kind,
        since=query_time(request, "since"), until=query_time(request, "until"),
    )  # fmt: skip
    return json_response({"reports": selected[:limit]})


async def read_store(state: ApiState, request: ReadRows) -> list[dict[str, Any]]:
    answer = await ask_actor(state, STORE_NAME, request, "the store")
    if isinstance(answer, StoreFailure):
        raise ApiError(503, f"the store could not answer: {answer.message}")
    assert isinstance(answer, Rows)
    return [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]


async def turns(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await read_store(state, ReadRows(
        table="turns", since=query_time(request, "since"), until=query_time(request, "until"),
        limit=query_int(request, "limit", 50, 1, 1000),
    ))  # fmt: skip
    return json_response({"turns": rows})


async def conversation(request: web.Request) -> web.Response:
    state = state_of(request)
    conversation_id = request.match_info["id"]
    rows = await read_store(state, ReadRows(
        table="turns", equals={"conversation_id": conversation_id},
        limit=query_int(request, "limit", 200, 1, 10_000),
    ))  # fmt: skip
    if not rows:
        raise ApiError(404, f"no turns recorded for conversation {conversation_id!r}; "
                       "GET /turns lists recent ones")  # fmt: skip
    return json_response({"conversation_id": conversation_id, "turns": rows[::-1]})


async def ask_memory(request: web.Request, message: Message) -> Any:
    """The memory actor's answer to ``message``; 503 saying why when it has none."""
    answer = await ask_actor(state_of(request), MEMORY_NAME, message, "memory")
    error = answer.message if isinstance(answer, StoreFailure) else answer.error
    if error is not None:
        raise ApiError(503, f"memory could not answer: {error}")
    return answer


def memory_filter(request: web.Request) -> MemoryFilter:
    """The ``kind``, ``conversation_id`` and ``user_id`` query parameters."""
    return MemoryFilter(kind=request.query.get("kind"),
                        conversation_id=request.query.get("conversation_id"),
                        user_id=request.query.get("user_id"))  # fmt: skip


async def memories(request: web.Request) -> web.Response:
    """With ``q``: the memories nearest in meaning; without: all of them, newest first.
    Either way only those passing the filter (`memory_filter`)."""
    query = request.query.get("q")
    if query is not None:
        if not query:
            raise ApiError(400, "query parameter `q` is empty: give the text to recall "
                           "memories for, or leave `q` out to list them all")  # fmt: skip
        recall = Recall(
            query=query,
            k=query_int(request, "k", 5, 1, 100),
            filter=memory_filter(request),
        )
        recalled = await ask_memory(request, recall)
        assert isinstance(recalled, Memories)
        return json_response({"query": query, "memories": recalled.items})
    limit = query_int(request, "limit", 50, 1, 1000)
    offset = query_int(request, "offset", 0, 0, 10**9)
    listing = ListMemories(filter=memory_filter(request), limit=limit, offset=offset)
    listed = await ask_memory(request, listing)
    assert isinstance(listed, MemoryList)
    return json_response(
        {"memories": listed.items, "total": listed.total, "limit": limit, "offset": offset}
    )


async def forget_memory(request: web.Request) -> web.Response:
    memory_id = request.match_info["id"]
    forgotten = await ask_memory(request, Forget(memory_ids=[memory_id]))
    assert isinstance(forgotten, Forgotten)
    if not forgotten.count:
        raise ApiError(404, f"no memory {memory_id!r}; GET /memories lists them")
    return json_response({"forgotten": forgotten.count})


async def forget_memories(request: web.Request) -> web.Response:
    """Every memory matching the filter, or with ``all=true`` every memory: never both, and
    never neither (an empty filter is not taken to mean everything)."""
    matching = memory_filter(request)
    everything = request.query.get("all")
    if everything not in (None, "true", "false"):
        raise ApiError(400, f"query parameter `all` must be true or false, got {everything!r}")
    if (everything == "true") == (matching != MemoryFilter()):
        raise ApiError(400, "give a filter (kind, conversation_id, user_id) or all=true to "
                       "forget every memory; not both, and not neither")  # fmt: skip
    forget = Forget(everything=True) if everything == "true" else Forget(filter=matching)
    forgotten = await ask_memory(request, forget)
    assert isinstance(forgotten, Forgotten)
    return json_response({"forgotten": forgotten.count})
