"""``POST /mcp``: Solo's MCP server (`solo_actors.mcp.server`) over streamable HTTP.

The official SDK's transport (`StreamableHTTPSessionManager`) is an ASGI application; this
module runs it inside aiohttp behind the API's own guard, so /mcp has the same bearer tokens
(scope "control": its tools act), rate limits, Host/Origin checks and body limit as every
other route. It runs stateless with JSON answers: each POST carries one JSON-RPC message and
gets its answer in the response, so nothing is kept between requests and no stream is left
open. The manager's task group lives in one task of the API's loop, started and stopped with
the application (`mcp_lifespan`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDict

from solo_actors.api.state import STATE, ApiError

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

MANAGER: web.AppKey[StreamableHTTPSessionManager] = web.AppKey("mcp_manager")


@contextlib.asynccontextmanager
async def _running(manager: Any) -> AsyncIterator[None]:
    """Keep the manager's task group in a task of its own (anyio wants it entered and left
    by the same task; aiohttp's start and clean-up steps may run in different ones)."""
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def hold() -> None:
        async with manager.run():
            ready.set()
            await stop.wait()

    task = asyncio.create_task(hold(), name="mcp-http")
    await asyncio.wait([task, asyncio.create_task(ready.wait())], return_when="FIRST_COMPLETED")
    try:
        yield
    finally:
        stop.set()
        await task


async def mcp_lifespan(app: web.Application) -> AsyncIterator[None]:
    """aiohttp clean-up context: the MCP transport, when ``mcp.serve_http`` is on."""
    config = app[STATE].config
    if not config.mcp.serve_http:
        yield
        return
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings

    from solo_actors.mcp.server import build_server

    manager = StreamableHTTPSessionManager(
        app=build_server(config.dialogue.turn_timeout),
        json_response=True,
        stateless=True,
        # The API's guard checks Host and Origin already, with the configured names.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    async with _running(manager):
        app[MANAGER] = manager
        yield


async def handle(request: web.Request) -> web.StreamResponse:
    """One MCP message: handed to the SDK's transport as an ASGI request."""
    manager = request.app.get(MANAGER)
    if manager is None:
        raise ApiError(404, "Solo's MCP server is off here (mcp.serve_http = false)")
    body = await request.read()
    finished = asyncio.Event()
    delivered = False
    response: web.StreamResponse | None = None

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal response
        if message["type"] == "http.response.start":
            headers = CIMultiDict((k.decode(), v.decode()) for k, v in message["headers"])
            headers.popall("content-length", None)  # aiohttp frames the body itself
            response = web.StreamResponse(status=message["status"], headers=headers)
            await response.prepare(request)
        elif message["type"] == "http.response.body" and response is not None:
            await response.write(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.encode(),
        "query_string": request.query_string.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.items()],
        "client": (request.remote or "", 0),
        "server": None,
    }
    try:
        await manager.handle_request(scope, receive, send)
    finally:
        finished.set()
    if response is None:
        raise ApiError(500, "the MCP transport gave no answer")
    with contextlib.suppress(ConnectionResetError):  # the client may go once it has it all
        await response.write_eof()
    return response
