"""What the API's handlers share: settings, tokens, limits and the tree.

One `ApiState` lives in the aiohttp application (``app[STATE]``). Everything here is read
without messaging a busy actor: the tree comes from the root supervisor's lock-protected
``status()`` snapshot, declared specs from the `DeclaredTree` the api was started with.
(Each ``/ask`` waits for its turn's replies in an inbox of its own, ``supervisors.inbox``.)
"""

from __future__ import annotations

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
from solo_actors.api.specs import DeclaredTree
from solo_actors.config import Config


@dataclass
class ApiState:
    """Shared by every handler of one running server."""

    config: Config
    root_name: str
    actor_name: str
    """The api actor's registered name."""
    declared: DeclaredTree
    """The tree as declared (`api.specs`), handed to the api when it starts."""
    tokens: TokenStore
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
