"""Solo's MCP server at POST /mcp, over streamable HTTP, against the official ``mcp`` client
library: behind the API's bearer tokens (control scope), it lists Solo's tools and sets a
timer that ``GET /timers`` then lists."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import httpx
import msgspec
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

import supervisors
from solo_actors.config.schema import McpServer
from solo_actors.mcp.client import McpServerActor
from solo_actors.messages import CallTool, ListTools, ToolResult
from solo_actors.runtime.specs import worker_spec
from tests.api.apikit import RunningApi, running_assistant

WAIT = 60.0


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path_factory.mktemp("api-mcp") / "var")


async def with_session(api: RunningApi, token: str, check: object) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with anyio.fail_after(WAIT):
        async with (
            httpx.AsyncClient(headers=headers, timeout=WAIT) as client,
            streamable_http_client(api.url + "/mcp", http_client=client) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            await check(session)  # type: ignore[operator]


def test_mcp_over_http_sets_a_timer_listed_by_get_timers(api: RunningApi) -> None:
    async def check(session: ClientSession) -> None:
        names = {tool.name for tool in (await session.list_tools()).tools}
        assert {"set_timer", "list_timers", "recall_memory", "ask_solo"} <= names
        result = await session.call_tool("set_timer", {"duration": "15 minutes", "name": "eggs"})
        assert not result.isError, result

    anyio.run(with_session, api, api.tokens["control"], check)
    timers = api.get("/timers", "read").json()["timers"]
    assert [timer["label"] for timer in timers] == ["eggs"]


def test_mcp_needs_a_control_token(api: RunningApi) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert api.post("/mcp", None, json=message).status_code == 401
    assert api.post("/mcp", "read", json=message).status_code == 403
    with pytest.raises(BaseException) as raised:  # the client's own error, in a task group
        anyio.run(with_session, api, api.tokens["read"], lambda session: None)
    assert "403" in repr(raised.value) or isinstance(raised.value, httpx.HTTPStatusError)


def test_the_mcp_client_actor_reaches_a_streamable_http_server(api: RunningApi) -> None:
    server = McpServer(
        name="solo",
        url=api.url + "/mcp",
        headers={"Authorization": f"Bearer {api.tokens['control']}"},
        tools=["calculate"],
    )
    mcp = msgspec.structs.replace(api.config.mcp, servers=[server])
    config = msgspec.structs.replace(api.config, mcp=mcp)
    spec = worker_spec(config, server.actor_name, McpServerActor, server)
    root = supervisors.start_supervisor(supervisors.SupFlags(), [spec], name="mcp-http-test")
    try:
        deadline = time.monotonic() + WAIT
        while (listed := supervisors.ask("mcp.solo", ListTools(), timeout=WAIT)).error:
            assert time.monotonic() < deadline, listed.error
            time.sleep(0.1)
        assert [tool.name for tool in listed.items] == ["calculate"]  # the allow-list
        call = CallTool(name="calculate", arguments={"expression": "17 times 23"})
        result = supervisors.ask("mcp.solo", call, timeout=WAIT)
        assert isinstance(result, ToolResult) and "391" in result.content, result
    finally:
        root.stop()
