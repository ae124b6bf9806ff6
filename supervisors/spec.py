"""Child specifications and supervisor flags, as data.

These mirror OTP's ``child_spec()`` map and ``sup_flags()`` map, as frozen
msgspec structs validated on construction. ``start`` is a factory returning
the ``SupervisedRef`` of a started actor (``MyActor.start`` itself is one);
OTP's ``{M, F, A}`` becomes ``start`` plus ``args``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from supervisors.backoff import Backoff
from supervisors.mailbox import MailboxLimit

__all__ = [
    "DEFAULT_WORKER_SHUTDOWN",
    "ChildSpec",
    "ChildType",
    "Restart",
    "Shutdown",
    "Strategy",
    "SupFlags",
]

Restart = Literal["permanent", "transient", "temporary"]
ChildType = Literal["worker", "supervisor"]
Shutdown = float | Literal["brutal_kill", "infinity"]
Strategy = Literal["one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"]

DEFAULT_WORKER_SHUTDOWN = 5.0
"""OTP's default shutdown for workers, in seconds (supervisors: infinity)."""


class ChildSpec(msgspec.Struct, frozen=True):
    """How to start, restart and stop one child.

    * ``id``: unique among the supervisor's children.
    * ``start(*args)``: returns the started child's ``SupervisedRef``.
    * ``restart``: ``permanent`` always, ``transient`` after an abnormal
      exit only, ``temporary`` never (and the spec is dropped when it exits).
    * ``shutdown``: seconds a child gets to stop before it is killed,
      ``"brutal_kill"`` to kill at once, or ``"infinity"``; None means OTP's
      default (5 s for workers, infinity for supervisors).
    * ``type``: ``worker`` or ``supervisor``.
    * ``name``: registered name, pointing at the current incarnation.
    * ``heartbeat``: seconds the child may go without taking a message while
      mail is waiting before it is declared hung and restarted.
    * ``backoff``: restart delay for this child (overrides the flags').
    * ``mailbox``: bound on the child's mailbox and what happens past it
      (``reject`` new mail with ``BusyError``, or ``drop_oldest``); None: unbounded.
    """

    id: str
    start: Callable[..., Any]
    args: tuple[Any, ...] = ()
    restart: Restart = "permanent"
    shutdown: Shutdown | None = None
    type: ChildType = "worker"
    name: str | None = None
    heartbeat: float | None = None
    backoff: Backoff | None = None
    mailbox: MailboxLimit | None = None

    def __post_init__(self) -> None:
        if not self.id or "/" in self.id:
            raise ValueError(f"child id must be non-empty and contain no '/': {self.id!r}")
        if not callable(self.start):
            raise ValueError(f"child {self.id!r}: start must be callable")
        if self.restart not in ("permanent", "transient", "temporary"):
            raise ValueError(f"child {self.id!r}: bad restart {self.restart!r}")
        if self.type not in ("worker", "supervisor"):
            raise ValueError(f"child {self.id!r}: bad type {self.type!r}")
        if self.shutdown not in (None, "brutal_kill", "infinity") and not (
            isinstance(self.shutdown, int | float) and 0 <= self.shutdown < math.inf
        ):
            raise ValueError(f"child {self.id!r}: bad shutdown {self.shutdown!r}")
        if self.heartbeat is not None and not self.heartbeat > 0:
            raise ValueError(f"child {self.id!r}: heartbeat must be > 0")

    @property
    def shutdown_policy(self) -> Shutdown:
        """``shutdown`` with OTP's type-dependent default applied."""
        if self.shutdown is not None:
            return self.shutdown
        return "infinity" if self.type == "supervisor" else DEFAULT_WORKER_SHUTDOWN


class SupFlags(msgspec.Struct, frozen=True):
    """Supervisor flags: restart strategy and intensity limit.

    More than ``intensity`` restarts within ``period`` seconds make the
    supervisor stop its children and exit ``shutdown`` (OTP defaults: 1 in
    5 s). ``backoff`` (an extension) delays restarts of every child that does
    not set its own.
    """

    strategy: Strategy = "one_for_one"
    intensity: int = 1
    period: float = 5.0
    backoff: Backoff | None = None

    def __post_init__(self) -> None:
        if self.strategy not in (
            "one_for_one",
            "one_for_all",
            "rest_for_one",
            "simple_one_for_one",
        ):
            raise ValueError(f"bad strategy {self.strategy!r}")
        if not (isinstance(self.intensity, int) and self.intensity >= 0):
            raise ValueError(f"intensity must be an int >= 0, got {self.intensity!r}")
        if not self.period > 0:
            raise ValueError(f"period must be > 0, got {self.period!r}")
