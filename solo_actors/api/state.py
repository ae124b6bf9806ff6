"""What the API's handlers share: settings, tokens, limits, the turn router and the tree.

One `ApiState` lives in the aiohttp application (``app[STATE]``). Everything here is read
without messaging a busy actor: the tree comes from the root supervisor's lock-protected
``status()`` snapshot, declared specs from `solo_actors.tree`, turn replies from the api
actor's own mailbox via `TurnRouter`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pykka
from aiohttp import web

import supervisors
from solo_actors.api.auth import RateLimiter, TokenStore
from solo_actors.api.origin import HostPolicy
from solo_actors.config import Config
from solo_actors.messages import LLMDone, LLMError, LLMToken, TurnDone

TurnMessage = LLMToken | LLMDone | LLMError | TurnDone | supervisors.Down
"""A turn's replies; a `supervisors.Down` says the actor serving it exited (`watch`)."""


EARLY_DOWNS = 64
"""Downs kept for a `TurnRouter.watch` still to come (a demonitored one never comes)."""


class TurnRouter:
    """Hands each turn's replies, which arrive in the api actor's thread, to the asyncio
    queue of the request waiting for that turn."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue[TurnMessage]]] = {}
        self._monitors: dict[int, str] = {}
        self._early: dict[int, supervisors.Down] = {}
        """Downs that came before `watch` named their turn (the actor was already gone)."""
        self._lock = threading.Lock()

    def expect(self, turn_id: str) -> asyncio.Queue[TurnMessage]:
        """A queue for ``turn_id``'s messages; call from the event loop."""
        queue: asyncio.Queue[TurnMessage] = asyncio.Queue()
        with self._lock:
            self._waiting[turn_id] = (asyncio.get_running_loop(), queue)
        return queue

    def watch(self, monitor: supervisors.MonitorRef, turn_id: str) -> None:
        """The `supervisors.Down` of ``monitor`` (on the actor serving ``turn_id``) is that
        turn's message: its request fails at once instead of waiting for its timeout."""
        with self._lock:
            early = self._early.pop(monitor.id, None)
            if early is None:
                self._monitors[monitor.id] = turn_id
        if early is not None:
            self._put(turn_id, early)

    def forget(self, turn_id: str) -> None:
        with self._lock:
            self._waiting.pop(turn_id, None)
            for ref, watched in list(self._monitors.items()):
                if watched == turn_id:
                    del self._monitors[ref]

    def deliver(self, message: TurnMessage) -> None:
        """Route ``message`` by its turn id; replies to forgotten turns are dropped."""
        with self._lock:
            if isinstance(message, supervisors.Down):
                turn_id = self._monitors.pop(message.ref.id, None)
                if turn_id is None:
                    self._early[message.ref.id] = message
                    while len(self._early) > EARLY_DOWNS:
                        del self._early[next(iter(self._early))]
                    return
            else:
                turn_id = message.turn_id
        if turn_id is not None:
            self._put(turn_id, message)

    def _put(self, turn_id: str, message: TurnMessage) -> None:
        with self._lock:
            waiting = self._waiting.get(turn_id)
        if waiting is not None:
            loop, queue = waiting
            # The loop may be closing (api shutdown): the request is gone with it.
            try:
                loop.call_soon_threadsafe(queue.put_nowait, message)
            except RuntimeError:
                self.forget(turn_id)


@dataclass
class ApiState:
    """Shared by every handler of one running server."""

    config: Config
    root_name: str
    actor_name: str
    """The api actor's registered name: the ``reply_to`` of its turns."""
    tokens: TokenStore
    router: TurnRouter
    per_token: RateLimiter
    per_address: RateLimiter
    hosts: HostPolicy
    """The Host and Origin values the server answers to."""
    started_at: float = field(default_factory=time.time)
    process: psutil.Process = field(default_factory=psutil.Process)
    status_cache: tuple[float, bytes] | None = None
    """(monotonic time, encoded body) of the last /status answer."""
    _process_sample: tuple[float, dict[str, float]] | None = None

    def root(self) -> supervisors.SupervisorRef:
        """The running root supervisor, found by its path (it has no registered name)."""
        root = self.supervisor_at(self.root_name)
        if root is None:
            raise ApiError(503, "the supervision tree is not running")
        return root

    def supervisor_at(self, path: str) -> supervisors.SupervisorRef | None:
        for ref in pykka.ActorRegistry.get_by_class(supervisors.Supervisor):
            if isinstance(ref, supervisors.SupervisorRef) and ref.path == path and ref.is_alive():
                return ref
        return None

    def tree(self) -> supervisors.NodeStatus:
        return self.root().status()

    def process_figures(self) -> dict[str, float]:
        """RSS, threads and CPU of this process, sampled at most once a second (reading
        /proc costs about a millisecond)."""
        now = time.monotonic()
        if self._process_sample is None or now - self._process_sample[0] > 1.0:
            process = self.process
            with process.oneshot():
                figures = {"pid": process.pid, "rss_bytes": process.memory_info().rss,
                           "threads": process.num_threads(),
                           "cpu_percent": process.cpu_percent(None)}  # fmt: skip
            self._process_sample = (now, figures)
        return self._process_sample[1]

    def apply(self, config: Config) -> None:
        """Take the settings of a reloaded config that apply without a restart."""
        settings = config.api
        for limiter, rate in ((self.per_token, settings.rate_per_token),
                              (self.per_address, settings.rate_per_address)):  # fmt: skip
            limiter.rate, limiter.burst = rate, settings.rate_burst
        self.config = config


def walk(node: supervisors.NodeStatus) -> Iterator[supervisors.NodeStatus]:
    """``node`` and every node below it, depth first."""
    yield node
    for child in node.children:
        yield from walk(child)


class ApiError(Exception):
    """An HTTP error answered as ``{"error": message, ...extra}``."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


STATE = web.AppKey("state", ApiState)
SCOPE = web.RequestKey("scope", str)
"""The scope of the request's token (``admin`` for every request when auth is off)."""
TOKEN_ID = web.RequestKey("token_id", str)
