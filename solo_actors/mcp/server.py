"""Solo as an MCP server: its skills, its memory and Solo itself as MCP tools.

`build_server` makes an MCP server (the official SDK's low-level `Server`) whose tools are
answered by Solo's actors, never around them:

- the skills' tools (the current time, timers, alarms, reminders, sums), as the skills
  actor lists them (`ListTools`) and runs them (`CallTool`): a timer set here is a durable
  timer like a spoken one, listed by ``GET /timers``;
- ``recall_memory``: the memories nearest in meaning to a query (`Recall` to memory);
- ``ask_solo``: a whole turn through the dialogue actor (skills first, then the llm), with
  memories, recorded like any other turn.

The same server is served on stdio by ``solo mcp`` and over streamable HTTP at /mcp on the
API server (`solo_actors.api.mcp_route`). Actor calls block, so each runs in a worker thread;
a down or busy actor is an MCP tool error with the reason, never a hang.
"""

from __future__ import annotations

from typing import Any

import anyio
import pykka
from mcp import types
from mcp.server.lowlevel import Server

import supervisors
from solo_actors.dialogue import converse
from solo_actors.messages import (
    CallTool,
    ListTools,
    Memories,
    MemoryFilter,
    Recall,
    ToolResult,
    Tools,
)
from solo_actors.names import MEMORY_NAME, SKILLS_NAME

IDENTITY = {"server": "solo", "conversation": "mcp"}
"""The name this MCP server gives itself, and the conversation "ask Solo" goes to unless the
caller names one."""
"""The conversation ``ask_solo`` turns belong to unless the call names one."""
RECALL_RESULTS = 5

OWN_TOOLS = (
    types.Tool(
        name="recall_memory",
        description="Search Solo's long-term memories of past conversations by meaning.",
        inputSchema={
            "type": "object",
            "properties": {"query": {"type": "string", "description": "what to look for"}},
            "required": ["query"],
        },
    ),
    types.Tool(
        name="ask_solo",
        description="Ask Solo, the user's local assistant, anything; it answers as it "
        "would a spoken question (skills first, then its language model).",
        inputSchema={
            "type": "object",
            "properties": {
                "question": {"type": "string"},
                "conversation": {
                    "type": "string",
                    "description": "optional conversation id, to continue one",
                },
            },
            "required": ["question"],
        },
    ),
)


class ToolFailed(Exception):
    """A tool that did not run; the SDK returns the message as an MCP tool error."""


def _ask(name: str, message: Any, timeout: float) -> Any:
    try:
        return supervisors.ask(name, message, timeout=timeout)
    except supervisors.UNANSWERED as error:
        raise ToolFailed(f"Solo's {name} {supervisors.why_unanswered(error, timeout)}") from None


def skill_tools(timeout: float) -> list[types.Tool]:
    answer = _ask(SKILLS_NAME, ListTools(), timeout)
    if not isinstance(answer, Tools):
        raise ToolFailed(f"the skills gave no tool list ({type(answer).__name__})")
    return [
        types.Tool(name=tool.name, description=tool.description, inputSchema=tool.parameters)
        for tool in answer.items
    ]


def run_tool(name: str, arguments: dict[str, Any], timeout: float) -> str:
    """Run one tool through Solo's actors; its answer as text, or `ToolFailed`."""
    if name == "recall_memory":
        query = Recall(query=str(arguments["query"]), k=RECALL_RESULTS, filter=MemoryFilter())
        memories = _ask(MEMORY_NAME, query, timeout)
        if not isinstance(memories, Memories) or memories.error:
            raise ToolFailed(f"memory could not search: {getattr(memories, 'error', memories)}")
        return "\n".join(f"- {item.text}" for item in memories.items) or "No memories match."
    if name == "ask_solo":
        conversation = str(arguments.get("conversation") or IDENTITY["conversation"])
        try:
            done = converse(str(arguments["question"]), conversation, source="api", timeout=timeout)
        except TimeoutError as error:
            raise ToolFailed(str(error)) from None
        except pykka.ActorDeadError:
            raise ToolFailed("Solo's dialogue is not running") from None
        if done.error:
            raise ToolFailed(f"{done.reply} ({done.error})")
        return done.reply
    result = _ask(SKILLS_NAME, CallTool(name=name, arguments=arguments), timeout)
    if not isinstance(result, ToolResult):
        raise ToolFailed(f"the skills gave no result ({type(result).__name__})")
    if result.error:
        raise ToolFailed(result.content)
    return result.content


def build_server(timeout: float) -> Server[Any, Any]:
    """An MCP server over Solo's actors; `timeout`: seconds one actor call may take."""
    server: Server[Any, Any] = Server(IDENTITY["server"])

    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        skills = await anyio.to_thread.run_sync(skill_tools, timeout)
        return [*skills, *OWN_TOOLS]

    @server.call_tool()  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        text = await anyio.to_thread.run_sync(run_tool, name, arguments, timeout)
        return [types.TextContent(type="text", text=text)]

    return server
