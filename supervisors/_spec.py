"""Child specifications and supervisor flags, as data.

These mirror OTP's ``child_spec()`` map and ``sup_flags()`` map, as frozen
msgspec structs validated on construction. ``start`` is a factory returning
the ``SupervisedRef`` of a started actor (``MyActor.start`` itself is one);
OTP's ``{M, F, A}`` becomes ``start`` plus ``args``. ``isolation="process"`` runs a
worker in its own OS process (see ``supervisors._process``), tuned by ``ProcessOptions``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from supervisors._backoff import Backoff
from supervisors._codec import Codec, MsgspecCodec
from supervisors._mailbox import MailboxLimit

__all__ = [
    "DEFAULT_WORKER_SHUTDOWN",
    "ChildSpec",
    "ChildType",
    "Isolation",
    "ProcessOptions",
    "Restart",
    "Shutdown",
    "Strategy",
    "SupFlags",
]

Restart = Literal["permanent", "transient", "temporary"]
ChildType = Literal["worker", "supervisor"]
Shutdown = float | Literal["brutal_kill", "infinity"]
Strategy = Literal["one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"]
Isolation = Literal["thread", "process"]

DEFAULT_WORKER_SHUTDOWN = 5.0
"""OTP's default shutdown for workers, in seconds (supervisors: infinity)."""


class ProcessOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How a process-isolated child runs: its codec, heartbeat and resource limits.

    * ``codec``: turns its messages into bytes and back (``supervisors._codec``); the
      default carries plain values only.
    * ``heartbeat``: seconds the process may go without a sign of life (it sends one
      several times a second, from a thread of its own) before it is declared hung,
      killed with SIGKILL, and exits with reason ``hung``. Catches a process that is
      stopped, or stuck in native code that holds the GIL.
    * ``memory_mb``: ceiling on its resident memory (RSS, watched from the parent);
      above it the process is killed and exits with reason ``memory_limit``.
    * ``cpus``: CPU numbers it may run on (``os.sched_setaffinity``), applied in the
      child before anything else runs, so every thread it starts inherits them.
    * ``nice``: its nice level (-20..19; below the parent's needs privileges).
    * ``init``: called (picklable, no arguments) in the child before the actor
      starts, e.g. to configure logging as the parent did.
    * ``standby``: keep a spare process loaded (past ``on_start``) for the next
      (re)start to adopt in milliseconds (``supervisors._standby``). Its ``on_start`` then
      ran before the restart: fine for actors whose ``on_start`` only loads resources.
    """

    codec: Codec = msgspec.field(default_factory=MsgspecCodec)
    heartbeat: float = 5.0
    memory_mb: float | None = None
    cpus: tuple[int, ...] | None = None
    nice: int | None = None
    init: Callable[[], Any] | None = None
    standby: bool = False

    def __post_init__(self) -> None:
        if not callable(getattr(self.codec, "encode", None)) or not callable(
            getattr(self.codec, "decode", None)
        ):
            raise ValueError(f"codec must have encode() and decode(), got {self.codec!r}")
        if not self.heartbeat > 0:
            raise ValueError(f"heartbeat must be > 0 seconds, got {self.heartbeat!r}")
        if self.memory_mb is not None and not self.memory_mb > 0:
            raise ValueError(f"memory_mb must be > 0, got {self.memory_mb!r}")
        if self.cpus is not None and (
            not self.cpus or not all(isinstance(cpu, int) and cpu >= 0 for cpu in self.cpus)
        ):
            raise ValueError(f"cpus must be CPU numbers (ints >= 0), got {self.cpus!r}")
        if self.nice is not None and not (isinstance(self.nice, int) and -20 <= self.nice <= 19):
            raise ValueError(f"nice must be an int in -20..19, got {self.nice!r}")
        if self.init is not None and not callable(self.init):
            raise ValueError(f"init must be callable, got {self.init!r}")
        if not isinstance(self.standby, bool):
            raise ValueError(f"standby must be True or False, got {self.standby!r}")


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
    * ``isolation``: ``thread`` (default: an actor thread in this process) or
      ``process`` (a worker in its own OS process behind a stand-in actor, see
      ``supervisors._process``); ``process`` holds that process's options.
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
    isolation: Isolation = "thread"
    process: ProcessOptions | None = None

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
        if self.isolation not in ("thread", "process"):
            raise ValueError(
                f"child {self.id!r}: isolation must be 'thread' or 'process', "
                f"got {self.isolation!r}"
            )
        if self.isolation == "process" and self.type != "worker":
            raise ValueError(f"child {self.id!r}: only workers can run in their own process")

    @property
    def process_options(self) -> ProcessOptions:
        """``process``, or the defaults when it is None."""
        return self.process if self.process is not None else _DEFAULT_PROCESS

    @property
    def shutdown_policy(self) -> Shutdown:
        """``shutdown`` with OTP's type-dependent default applied."""
        if self.shutdown is not None:
            return self.shutdown
        return "infinity" if self.type == "supervisor" else DEFAULT_WORKER_SHUTDOWN


_DEFAULT_PROCESS = ProcessOptions()


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
