"""The tools agents may use, as plain functions over Solo's actors (no CrewAI import here).

Each `ToolSpec` names a tool, says what it does (CrewAI shows the description and the
argument schema to the model), and runs it with a `ToolContext` for the run. `crew.py`
wraps specs into CrewAI `BaseTool`s. A tool answers problems it expects (memory down, a bad
expression) with a sentence the agent can read and act on; an exception from a tool is a
bug, and the run fails with it (see docs/agents.md, "Failures").

Nothing here runs commands or opens connections: the tools only ask other actors by name.
The tools of MCP servers (``[[mcp.servers]]``, each tool named in its allow-list) are tools
here too, named ``<server>_<tool>``: a call is a `CallTool` ask to the server's actor.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

import supervisors
from solo_actors.agents.arithmetic import ExpressionError, evaluate
from solo_actors.config.schema import McpConfig
from solo_actors.messages import (
    CallTool,
    JsonValue,
    Memories,
    MemoryFilter,
    ReadRows,
    Recall,
    Rows,
    StoreFailure,
    ToolResult,
)
from solo_actors.names import MCP_NAME, MEMORY_NAME, STORE_NAME

HISTORY_TURNS = 6
MEMORY_RESULTS = 5


@dataclass(frozen=True)
class ToolContext:
    """What a tool knows about the run it serves."""

    input: str
    conversation_id: str | None
    timeout: float
    """Seconds to wait on the memory or store actor."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, what the model is told about it, its arguments and its code.

    ``subject`` names the argument the run's input fills when a task's description uses the
    tool as a placeholder (``{memory_search}``): the tool is then called before the crew
    starts and its answer put there (see `workflows.py`). ``needs`` names the actors it asks
    (registered names), so ``solo agents run`` starts them for the workflows that use it.
    """

    name: str
    description: str
    args: type[BaseModel]
    run: Callable[..., str]
    subject: str | None = None
    needs: tuple[str, ...] = ()

    def input_arguments(self, text: str) -> dict[str, str]:
        """The arguments that make ``text`` (a run's input) the tool's subject."""
        return {self.subject: text} if self.subject else {}


class NoArguments(BaseModel):
    """The tool takes no arguments."""


class QueryArguments(BaseModel):
    query: str = Field(description="what to look for, in a few words")


class ExpressionArguments(BaseModel):
    expression: str = Field(description="arithmetic such as (12.5 + 3) * 4 / 2")


class HistoryArguments(BaseModel):
    turns: int = Field(default=HISTORY_TURNS, ge=1, le=50, description="how many recent turns")


class McpArguments(BaseModel):
    """The arguments the MCP server declares for the tool, passed on as given."""

    model_config = ConfigDict(extra="allow")


def search_memory(context: ToolContext, query: str) -> str:
    """Memories nearest in meaning to ``query``, one per line."""
    try:
        answer = supervisors.ask(
            MEMORY_NAME, Recall(query=query, k=MEMORY_RESULTS, filter=MemoryFilter()),
            timeout=context.timeout,
        )  # fmt: skip
    except supervisors.UNANSWERED as error:
        why = supervisors.why_unanswered(error, context.timeout)
        return f"Memory {why}, so nothing could be recalled; answer without it."
    if not isinstance(answer, Memories):
        return f"Memory gave an unexpected answer ({type(answer).__name__})."
    if answer.error:
        return f"Memory could not search: {answer.error}"
    if not answer.items:
        return f"No memories about {query!r}."
    return "\n".join(f"- {item.text}" for item in answer.items)


def current_datetime(context: ToolContext) -> str:
    """The local date, weekday and time."""
    moment = datetime.datetime.now().astimezone()
    return moment.strftime("%A %d %B %Y, %H:%M (%Z)")


def calculate(context: ToolContext, expression: str) -> str:
    try:
        return f"{expression} = {evaluate(expression)}"
    except ExpressionError as error:
        return f"Could not calculate {expression!r}: {error}"


def conversation_history(context: ToolContext, turns: int = HISTORY_TURNS) -> str:
    """The most recent turns of the run's conversation (of any, for a run started without
    one), oldest first."""
    equals: dict[str, JsonValue] = (
        {"conversation_id": context.conversation_id} if context.conversation_id else {}
    )
    request = ReadRows(table="turns", equals=equals, limit=turns)
    try:
        answer = supervisors.ask(STORE_NAME, request, timeout=context.timeout)
    except supervisors.UNANSWERED as error:
        why = supervisors.why_unanswered(error, context.timeout)
        return f"The store {why}, so the conversation history is unavailable."
    if isinstance(answer, StoreFailure):
        return f"The conversation history is unavailable: {answer.message}"
    if not isinstance(answer, Rows) or not answer.rows:
        return "There is no conversation history yet."
    user, reply = answer.columns.index("user_text"), answer.columns.index("reply_text")
    lines = [f"User: {row[user]}\nAssistant: {row[reply]}" for row in reversed(answer.rows)]
    return "\n".join(lines)


BUILTIN_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="memory_search",
        description="Search the assistant's long-term memories of past conversations.",
        args=QueryArguments,
        run=search_memory,
        subject="query",
        needs=(MEMORY_NAME,),
    ),
    ToolSpec(
        name="current_datetime",
        description="The current local date, weekday and time.",
        args=NoArguments,
        run=current_datetime,
    ),
    ToolSpec(
        name="calculator",
        description="Evaluate arithmetic exactly: + - * / // % ** and sqrt, abs, round, min, max.",
        args=ExpressionArguments,
        run=calculate,
        subject="expression",
    ),
    ToolSpec(
        name="conversation_history",
        description="The most recent turns of the current conversation with the user.",
        args=HistoryArguments,
        run=conversation_history,
        needs=(STORE_NAME,),
    ),
)


def call_mcp(owner: str, tool: str, context: ToolContext, **arguments: object) -> str:
    """One MCP tool, run by the actor of its server."""
    request = CallTool(name=tool, arguments=dict(arguments))
    try:
        answer = supervisors.ask(owner, request, timeout=context.timeout)
    except supervisors.UNANSWERED as error:
        why = supervisors.why_unanswered(error, context.timeout)
        return f"The MCP server {owner} {why}, so {tool} is unavailable."
    if not isinstance(answer, ToolResult):
        return f"{tool} gave an unexpected answer ({type(answer).__name__})."
    return f"{tool} failed: {answer.content}" if answer.error else answer.content


def mcp_tools(mcp: McpConfig) -> tuple[ToolSpec, ...]:
    """A tool per allowed tool of each MCP server (a "*" allow-list names none here: a
    workflow names its tools before any server runs)."""
    return tuple(
        ToolSpec(
            name=f"{server.name}_{tool}",
            description=f"The {tool} tool of the MCP server {server.name}.",
            args=McpArguments,
            run=functools.partial(call_mcp, server.actor_name, tool),
            needs=(MCP_NAME,),
        )
        for server in mcp.servers
        for tool in server.tools
        if tool != "*"
    )


def toolbox(
    extra: tuple[ToolSpec, ...] = (), mcp: McpConfig | None = None
) -> Mapping[str, ToolSpec]:
    """Tools by name: the built-in ones, those of the MCP servers in ``mcp``, plus
    ``extra`` (tests add faulty ones)."""
    servers = mcp_tools(mcp) if mcp is not None else ()
    return {spec.name: spec for spec in (*BUILTIN_TOOLS, *servers, *extra)}
