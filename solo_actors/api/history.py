"""What happened: the supervisor report log (``/log``), turns and conversations from the
store (``/turns``, ``/conversations/{id}``), and memories recalled for a text (``/memories``).

The report log is read from its files, so it answers whether or not the ``reports`` actor
runs; the store and memory are asked in a worker thread with ``api.actor_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

import supervisors
from solo_actors.api.common import (
    in_thread,
    json_response,
    query_int,
    query_time,
    state_of,
)
from solo_actors.api.report_query import QUERY_KINDS, select_reports
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import (
    Memories,
    MemoryFilter,
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
    timeout = state.config.api.actor_timeout
    answer = await in_thread(
        lambda: supervisors.ask(STORE_NAME, request, timeout=timeout), timeout + 1, "the store"
    )
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


async def memories(request: web.Request) -> web.Response:
    state = state_of(request)
    query = request.query.get("q", "")
    if not query:
        raise ApiError(400, "query parameter `q` is required: the text to recall memories for")
    timeout = state.config.api.actor_timeout
    recall = Recall(
        query=query,
        k=query_int(request, "k", 5, 1, 100),
        filter=MemoryFilter(conversation_id=request.query.get("conversation_id")),
    )
    answer = await in_thread(lambda: supervisors.ask(MEMORY_NAME, recall, timeout=timeout),
                             timeout + 1, "memory")  # fmt: skip
    if isinstance(answer, StoreFailure):
        raise ApiError(503, f"memory could not answer: {answer.message}")
    assert isinstance(answer, Memories)
    if answer.error is not None:
        raise ApiError(503, f"memory could not answer: {answer.error}")
    return json_response({"query": query, "memories": answer.items})
