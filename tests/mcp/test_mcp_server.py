"""``solo mcp`` against the official ``mcp`` client library: the client starts it on stdio,
lists its tools and calls them; a timer set through MCP is a real timer of the skills
actor, listed by ``GET /timers`` on the API of the same process; bad calls are MCP tool
errors with the reason; "ask Solo" answers through the dialogue actor."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from solo_actors.config import REPO_ROOT

WAIT = 120.0


def read_timers(var_dir: Path) -> list[dict[str, object]]:
    url = (var_dir / "api" / "url").read_text().strip()
    token = (var_dir / "api" / "admin.token").read_text().strip()
    request = urllib.request.Request(url + "/timers", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return json.load(response)["timers"]


async def session_with_solo(var_dir: Path, check: object) -> None:
    environment = {**os.environ, "SOLO__SOLO__VAR_DIR": str(var_dir)}
    server = StdioServerParameters(
        command=sys.executable,
        args=["run.py", "mcp", "--profile", "test"],
        env=environment,
        cwd=str(REPO_ROOT),
    )
    with anyio.fail_after(WAIT):
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await check(session)  # type: ignore[operator]


def test_solo_mcp_lists_its_tools_and_sets_a_timer(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"

    async def check(session: ClientSession) -> None:
        names = [tool.name for tool in (await session.list_tools()).tools]
        assert {"get_current_time", "set_timer", "list_timers", "set_reminder"} <= set(names)
        assert {"recall_memory", "ask_solo"} <= set(names)
        result = await session.call_tool("set_timer", {"duration": "10 minutes", "name": "tea"})
        assert not result.isError and "10 minutes" in result.content[0].text  # type: ignore[union-attr]
        timers = await anyio.to_thread.run_sync(read_timers, var_dir)
        assert [(t["label"], t["remaining_s"] > 590) for t in timers] == [("tea", True)]
        listed = await session.call_tool("list_timers", {})
        assert "tea timer" in listed.content[0].text  # type: ignore[union-attr]
        refused = await session.call_tool("set_timer", {"duration": "minus 5 minutes"})
        assert refused.isError and "negative" in refused.content[0].text  # type: ignore[union-attr]
        missing = await session.call_tool("set_timer", {})
        assert missing.isError  # the input schema's required argument, checked by the SDK
        answer = await session.call_tool("ask_solo", {"question": "What is 17 times 23?"})
        assert not answer.isError and "391" in answer.content[0].text  # type: ignore[union-attr]

    anyio.run(session_with_solo, var_dir, check)
