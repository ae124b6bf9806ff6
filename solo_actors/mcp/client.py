"""One MCP server that Solo uses as a client: a supervised actor that owns the connection.

Each ``[[mcp.servers]]`` entry becomes a `McpServerActor` registered as ``mcp.<name>``. It
starts the server (stdio: a child process; streamable HTTP: a connection to its URL) with the
official ``mcp`` SDK, on an asyncio loop in a thread of its own, and answers the tool-owner
messages every tool owner answers: `ListTools` (the server's tools the allow-list lets
through) and `CallTool` (run one, within ``mcp.call_timeout``). It never raises to a caller:
a server that is not connected, a tool not allowed, a timeout or an error of the server is a
`ToolResult` with ``error`` set, in words.

Let it crash: once connected, the actor pings the server every ``mcp.ping_every`` seconds;
a server whose process exited (or whose connection dropped) ends the connection's task, or
fails the ping or the next call, whichever comes first, and the actor then exits with that
reason, so its supervisor restarts it, which starts the server again. A server that cannot
be reached at start is not a crash loop: the actor runs, answers calls with the reason, and
tries again every ``mcp.retry_every`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import sys
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpx
import msgspec
from mcp import ClientSession, McpError, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

import supervisors
from solo_actors.config import Config
from solo_actors.config.schema import McpServer
from solo_actors.messages import CallTool, ListTools, ToolDefinition, ToolResult, Tools
from solo_actors.runtime.logs import get_logger

CLOSE_TIMEOUT = 5.0
"""Seconds the connection gets to close (and stop a stdio server) when the actor exits."""


class McpServerLost(RuntimeError):
    """The connected server stopped answering: its process exited or the link dropped."""


class _Ping(msgspec.Struct, frozen=True):
    """Timer: check the connected server is alive (or try to connect again)."""


class _Retry(msgspec.Struct, frozen=True):
    """Timer: connect a server that could not be reached."""


class _Lost(msgspec.Struct, frozen=True):
    why: str


def allowed(server: McpServer, tool: str) -> bool:
    """The allow-list: nothing unless named; ``"*"`` allows every tool."""
    return "*" in server.tools or tool in server.tools


def result_text(result: mcp_types.CallToolResult) -> str:
    """A tool result as text for a model: its text parts, else its structured content."""
    parts = [part.text for part in result.content if isinstance(part, mcp_types.TextContent)]
    others = [part.type for part in result.content if not isinstance(part, mcp_types.TextContent)]
    if not parts and result.structuredContent is not None:
        parts.append(msgspec.json.encode(result.structuredContent).decode())
    parts += [f"[{kind} content not shown]" for kind in others]
    return "\n".join(parts) or "(no content)"


class McpServerActor(supervisors.SupervisedActor):
    """Owns one MCP server's connection; see the module docstring."""

    def __init__(self, config: Config, server: McpServer) -> None:
        super().__init__()
        self.settings = config.mcp
        self.server = server
        self.name = server.actor_name
        self.log = get_logger(self.name)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"{self.name}-loop", daemon=True
        )
        self.session: ClientSession | None = None
        self.tools: list[ToolDefinition] = []
        self.problem = "connecting"
        self.connection: Future[None] | None = None
        self.closing: asyncio.Event | None = None
        self.retrying = False
        self.counts = dict.fromkeys(("calls", "errors", "connects"), 0)

    # -- lifecycle --------------------------------------------------------------------------

    def on_start(self) -> None:
        self.thread.start()
        self.connect()
        self.send_after(self.settings.ping_every, _Ping())

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()

    def connect(self) -> None:
        self.counts["connects"] += 1
        self.connection = asyncio.run_coroutine_threadsafe(self._run_session(), self.loop)

    def close(self) -> None:
        """End the connection (stopping a stdio server) and the loop's thread."""
        if self.closing is not None:
            self.loop.call_soon_threadsafe(self.closing.set)
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.result(timeout=CLOSE_TIMEOUT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=CLOSE_TIMEOUT)

    async def _run_session(self) -> None:
        """Connect, list the tools, then hold the connection open until closing."""
        server = self.server
        self.closing = asyncio.Event()
        connected = False
        try:
            async with contextlib.AsyncExitStack() as stack:
                if server.command:
                    command = sys.executable if server.command == "python" else server.command
                    parameters = StdioServerParameters(
                        command=command, args=list(server.args), env=dict(server.env) or None
                    )
                    read, write = await stack.enter_async_context(stdio_client(parameters))
                else:
                    client = await stack.enter_async_context(
                        httpx.AsyncClient(
                            headers=dict(server.headers),
                            timeout=httpx.Timeout(self.settings.connect_timeout, read=None),
                            follow_redirects=True,
                        )
                    )
                    read, write, _ = await stack.enter_async_context(
                        streamable_http_client(server.url, http_client=client)
                    )
                session = await stack.enter_async_context(ClientSession(read, write))
                async with asyncio.timeout(self.settings.connect_timeout):
                    await session.initialize()
                    listed = await session.list_tools()
                self.tools = [
                    ToolDefinition(
                        name=tool.name,
                        description=tool.description or "",
                        parameters=tool.inputSchema or {"type": "object"},
                    )
                    for tool in listed.tools
                    if allowed(server, tool.name)
                ]
                self.session, self.problem = session, ""
                connected = True
                self.log.info("mcp server connected", tools=[t.name for t in self.tools])
                await self.closing.wait()
        except Exception as error:
            self.problem = _describe(error) or type(error).__name__
            if connected and not self.closing.is_set():
                # A connected server lost (its process exited): the actor exits, as when a
                # call or the ping finds it gone first, rather than answering "not
                # connected" and reconnecting in place, unseen by its supervisor.
                self.actor_ref.tell(_Lost(why=self.problem))
            raise
        finally:
            self.session = None

    # -- messages ---------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        match message:
            case ListTools():
                return Tools(items=list(self.tools), error=self.down_reason())
            case CallTool():
                return self.call(message)
            case _Ping():
                self.ping()
            case _Retry():
                self.retrying = False
                self.connect()
            case _Lost():
                raise McpServerLost(f"MCP server {self.server.name}: {message.why}")
            case _:
                self.log.warning("unknown message ignored", type=type(message).__name__)
        return None

    def down_reason(self) -> str | None:
        if self.session is not None:
            return None
        return f"the MCP server {self.server.name} is not connected ({self.problem})"

    def call(self, request: CallTool) -> ToolResult:
        self.counts["calls"] += 1
        session = self.session
        if session is None:
            return self.refuse(request, self.down_reason() or "not connected")
        if not allowed(self.server, request.name):
            return self.refuse(
                request,
                f"the tool {request.name} of MCP server {self.server.name} is not allowed "
                f"(mcp.servers tools = {self.server.tools})",
            )
        timeout = self.settings.call_timeout
        running = asyncio.run_coroutine_threadsafe(
            session.call_tool(
                request.name,
                dict(request.arguments),
                read_timeout_seconds=datetime.timedelta(seconds=timeout),
            ),
            self.loop,
        )
        try:
            result = running.result(timeout=timeout + 1)
        except (FutureTimeout, TimeoutError):
            running.cancel()
            return self.refuse(
                request,
                f"the tool {request.name} of MCP server {self.server.name} took longer than "
                f"{timeout:g} s",
            )
        except McpError as error:
            if error.error.code != mcp_types.CONNECTION_CLOSED:
                return self.refuse(
                    request,
                    f"the tool {request.name} of MCP server {self.server.name} failed: "
                    f"{error.error.message}",
                )
            why = error.error.message
            self.actor_ref.tell(_Lost(why=why))  # exit once this caller has its answer
            return self.refuse(request, f"the MCP server {self.server.name} is down ({why})")
        except Exception as error:  # the connection is gone (closed stream, dead process)
            why = _describe(error) or type(error).__name__
            self.actor_ref.tell(_Lost(why=why))  # exit once this caller has its answer
            return self.refuse(request, f"the MCP server {self.server.name} is down ({why})")
        text = result_text(result)
        if result.isError:
            return self.refuse(request, text)
        return ToolResult(call_id=request.call_id, name=request.name, content=text)

    def refuse(self, request: CallTool, message: str) -> ToolResult:
        self.counts["errors"] += 1
        self.publish_figures(**self.counts, connected=self.session is not None)
        return ToolResult(call_id=request.call_id, name=request.name, content=message, error=True)

    def ping(self) -> None:
        """Alive? A connected server that fails the ping ends the actor (restarted)."""
        self.send_after(self.settings.ping_every, _Ping())
        self.publish_figures(**self.counts, connected=self.session is not None)
        session = self.session
        if session is None:
            if not self.retrying and self.connection is not None and self.connection.done():
                self.log.warning("mcp server not connected", problem=self.problem)
                self.retrying = True
                self.send_after(self.settings.retry_every, _Retry())
            return
        pinging = asyncio.run_coroutine_threadsafe(session.send_ping(), self.loop)
        try:
            pinging.result(timeout=self.settings.ping_timeout)
        except Exception as error:
            pinging.cancel()
            why = _describe(error) or "no answer to a ping"
            raise McpServerLost(f"MCP server {self.server.name}: {why}") from None


def _describe(error: BaseException) -> str:
    """Words for an error, looking inside the exception groups anyio raises."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return _describe(error.exceptions[0])
    return str(error)
