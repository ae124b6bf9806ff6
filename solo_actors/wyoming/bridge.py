"""From asyncio to Solo's actors and back: one request, its replies, and the serving actor's
fate.

A coroutine serving a Wyoming peer opens a `Request` for a key (a request, turn or stream
id), tells an actor a message whose ``reply_to`` is the owning actor's registered name, and
awaits the replies. They arrive in the owning actor's thread (its mailbox), which hands each
to `Bridge.deliver`; the bridge puts it on the request's asyncio queue. The request monitors
the actor it asked (`supervisors.monitor`), so when that actor exits mid-request the
coroutine gets a `ServiceError` at once, and a reply that never comes ends at the timeout.
Nothing blocks the event loop, and nothing blocks the actor.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pykka

import supervisors
from solo_actors.messages import (
    IntentsRecognized,
    LLMDone,
    LLMError,
    LLMToken,
    Message,
    SpeechEnded,
    Synthesized,
    SynthesizedAudio,
    Transcribed,
    TurnDone,
    WakeResult,
)


class ServiceError(RuntimeError):
    """A request Solo could not serve; the message says why, fit to send to the peer."""


class Request:
    """The replies to one request, in the order they were sent."""

    def __init__(self, bridge: Bridge, key: str, target: str, timeout: float | None) -> None:
        self.bridge, self.key, self.target, self.timeout = bridge, key, target, timeout
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.watch: supervisors.MonitorRef | None = None

    def send(self, message: Message) -> None:
        """Tell the target ``message``; a `ServiceError` if it is not running or busy."""
        if self.watch is None:
            self.watch = self.bridge.watch(self)
        outcome = supervisors.cast(self.target, message)
        if outcome == "noproc":
            raise ServiceError(f"Solo's {self.target} is not running just now; try again")
        if outcome == "busy":
            raise ServiceError(f"Solo's {self.target} is busy; try again in a moment")

    async def next(self) -> Any:
        """The next reply; a `ServiceError` if the target exited or ``timeout`` passed."""
        try:
            reply = await asyncio.wait_for(self.queue.get(), self.timeout)
        except TimeoutError:
            raise ServiceError(
                f"Solo's {self.target} did not answer within {self.timeout:g} s "
                "(wyoming.reply_timeout)"
            ) from None
        if isinstance(reply, supervisors.Down):
            raise ServiceError(
                f"Solo's {self.target} stopped while serving this request ({reply.reason}); "
                "it is being restarted: try again"
            )
        return reply

    def close(self) -> None:
        self.bridge.forget(self)


class Bridge:
    """Routes replies, received by ``owner``'s thread, to the requests waiting for them."""

    def __init__(self, owner: pykka.ActorRef[Any]) -> None:
        self.owner = owner
        self.requests: dict[str, Request] = {}
        self.watches: dict[int, Request] = {}
        self.lock = threading.Lock()

    def open(self, key: str, target: str, timeout: float | None) -> Request:
        """A request for ``key``'s replies from ``target``; call in the event loop."""
        request = Request(self, key, target, timeout)
        with self.lock:
            self.requests[key] = request
        return request

    def watch(self, request: Request) -> supervisors.MonitorRef:
        ref = supervisors.monitor(request.target, self.owner)
        with self.lock:
            self.watches[ref.id] = request
        return ref

    def forget(self, request: Request) -> None:
        with self.lock:
            self.requests.pop(request.key, None)
            if request.watch is not None:
                self.watches.pop(request.watch.id, None)
        if request.watch is not None:
            supervisors.demonitor(request.watch)

    def deliver(self, key: str, message: Any) -> None:
        """Hand ``message`` to the request of ``key``; one no longer waited for is dropped."""
        with self.lock:
            request = self.requests.get(key)
        if request is not None:
            self._put(request, message)

    def down(self, down: supervisors.Down) -> None:
        with self.lock:
            request = self.watches.get(down.ref.id)
        if request is not None:
            self._put(request, down)

    @staticmethod
    def _put(request: Request, message: Any) -> None:
        # A closed loop (RuntimeError): the server stopped, and its peers with it.
        with contextlib.suppress(RuntimeError):
            request.loop.call_soon_threadsafe(request.queue.put_nowait, message)


def reply_key(message: Any) -> str | None:
    """The request a reply belongs to (its request, stream or turn id); None: not a reply."""
    match message:
        case Transcribed() | SynthesizedAudio() | Synthesized() | IntentsRecognized():
            return message.request_id
        case WakeResult() | SpeechEnded():
            return message.stream_id
        case LLMToken() | LLMDone() | LLMError() | TurnDone():
            return message.turn_id
    return None
