"""The live streams: ``GET /events`` (server-sent events) and ``GET /ws`` (WebSocket).

Both subscribe to the events hub. They treat a client going away as the ordinary end it is,
and re-check their token every ``api.token_recheck`` seconds: a revoked token ends the
stream (an SSE ``revoked`` event, or WebSocket close code 4401).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from solo_actors.api.auth import scope_allows
from solo_actors.api.common import (
    ENCODER,
    state_of,
)
from solo_actors.api.state import SCOPE, TOKEN_ID, ApiError, ApiState
from solo_actors.runtime.events import HUB, TOPICS, Event, Topic

SSE_HEARTBEAT = 15.0
"""Seconds between SSE comments that keep idle proxies from closing the stream."""


def requested_topics(request: web.Request) -> frozenset[Topic]:
    raw = request.query.get("topics")
    if raw is None:
        return frozenset(TOPICS)
    topics = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = topics - set(TOPICS)
    if unknown or not topics:
        raise ApiError(400, f"query parameter `topics` takes a comma-separated subset of "
                       f"{', '.join(TOPICS)}; got {raw!r}")  # fmt: skip
    return frozenset(topics)  # type: ignore[arg-type]


class Subscriber:
    """A hub subscription woken through the event loop (the hub publishes from actor
    threads, so the wake-up crosses threads with call_soon_threadsafe)."""

    def __init__(self, state: ApiState, topics: frozenset[Topic]) -> None:
        self.loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()
        self.subscription = HUB.subscribe(topics, state.config.api.event_queue, self.wake)

    def wake(self) -> None:
        """Called by the hub on a publisher's thread: wake the waiting task."""
        self.loop.call_soon_threadsafe(self.ready.set)

    async def next_batch(self, timeout: float) -> list[Event]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        self.ready.clear()
        return self.subscription.drain()

    def close(self) -> None:
        self.subscription.close()


async def send_sse(response: web.StreamResponse, event: str, data: Any,
                   event_id: int | None = None) -> None:  # fmt: skip
    head = f"id: {event_id}\n" if event_id is not None else ""
    await response.write(f"{head}event: {event}\ndata: ".encode() + ENCODER.encode(data) + b"\n\n")


def token_live(request: web.Request) -> bool:
    """Whether the token a stream was opened with is still valid (no token: auth is off)."""
    token_id = request.get(TOKEN_ID)
    return token_id is None or state_of(request).tokens.is_live(token_id)


async def events(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    subscriber = Subscriber(state, requested_topics(request))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})  # fmt: skip
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        dropped = 0
        checked = written = loop.time()
        while True:
            wait = min(SSE_HEARTBEAT, state.config.api.token_recheck)
            batch = await subscriber.next_batch(wait)
            now = loop.time()
            if now - checked >= state.config.api.token_recheck:
                checked = now
                if not token_live(request):
                    await send_sse(response, "revoked", {"error": "the token was revoked",
                                                         "status": 401})  # fmt: skip
                    return response
            if batch:
                written = now
            elif now - written >= SSE_HEARTBEAT:
                written = now
                await response.write(b": keep-alive\n\n")
            for event in batch:
                await send_sse(response, event.topic, event, event.id)
            if subscriber.subscription.dropped != dropped:
                dropped = subscriber.subscription.dropped
                await send_sse(response, "dropped", {"dropped": dropped})
    except ConnectionResetError:
        return response  # the client went away: the ordinary end of a stream
    finally:  # the client went away, the token was revoked, or the server is stopping
        subscriber.close()


REVOKED_CLOSE = 4401
"""WebSocket close code for a missing, wrong or revoked token (401 in the 4000 range)."""


async def websocket(request: web.Request) -> web.WebSocketResponse:
    state = state_of(request)
    topics = requested_topics(request)
    socket = web.WebSocketResponse(heartbeat=SSE_HEARTBEAT)
    await socket.prepare(request)
    if request.get(SCOPE) is None and not await authenticate_socket(request, socket):
        return socket
    subscriber = Subscriber(state, topics)
    # A reader task notices the client closing while the writer waits for events.
    reader = asyncio.create_task(drain_socket(socket))
    loop = asyncio.get_running_loop()
    checked = loop.time()
    try:
        while not socket.closed and not reader.done():
            for event in await subscriber.next_batch(1.0):
                await socket.send_str(ENCODER.encode(event).decode())
            if loop.time() - checked >= state.config.api.token_recheck:
                checked = loop.time()
                if not token_live(request):
                    await socket.close(code=REVOKED_CLOSE, message=b"token revoked")
    except ConnectionResetError:
        pass  # the client went away: the ordinary end of a stream
    finally:
        reader.cancel()
        subscriber.close()
        await socket.close()
    return socket


async def drain_socket(socket: web.WebSocketResponse) -> None:
    async for message in socket:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return


async def authenticate_socket(request: web.Request, socket: web.WebSocketResponse) -> bool:
    """Browsers cannot set headers on a WebSocket: the first frame may carry the token,
    as ``{"token": "..."}``. Closes the socket (4401/4403) when it does not."""
    state = state_of(request)
    try:
        message = await socket.receive(timeout=5.0)
        token = msgspec.json.decode(message.data, type=dict[str, str]).get("token", "")
    except (TimeoutError, ValueError, msgspec.DecodeError, TypeError):
        token = ""  # no frame, not JSON, not UTF-8, or not an object of strings
    entry = state.tokens.authenticate(token) if token else None
    if entry is None:
        await socket.close(code=REVOKED_CLOSE, message=b'send {"token": "..."} first')
        return False
    if not scope_allows(entry.scope, "read"):
        await socket.close(code=4403, message=b"needs scope read")
        return False
    request[SCOPE] = entry.scope
    request[TOKEN_ID] = entry.id
    return True
