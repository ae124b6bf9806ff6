"""A seeded fault injector: every ``interval`` seconds, one fault in one randomly picked actor.

Faults go through supported paths only. An in-process actor gets a ``supervisors.Fault``
message (handled by the actor loop of every ``SupervisedActor`` when fault injection is
enabled) that makes it raise in its own thread or block ("hang"); each such injection is
recorded with the future of its ask, so that afterwards we know whether it *fired* (the
actor died of exactly this fault, or hung for it) or was *missed* (the actor was down,
restarting, or died of an earlier fault first). A process-isolated actor gets a signal
(``sigkill``, ``sigsegv``) sent to its process, as the OOM killer or a native bug would; it
fired when the signal reached a process no earlier injection had hit. Either way supervisor
reports can be matched to injections one to one (by label, or by the process id the exit
reason names).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import pykka

import supervisors

FaultKind = Literal["raise", "hang", "sigkill", "sigsegv"]

SIGNALS: dict[str, signal.Signals] = {"sigkill": signal.SIGKILL, "sigsegv": signal.SIGSEGV}
"""Faults sent to an isolated actor's process, by kind."""

HANG_SECONDS = 1.0
"""How long a hang lasts: long enough to stall requests, short enough to end in the run."""


@dataclass
class Injection:
    """One fault sent: when, to whom, what; and, once resolved, what came of it."""

    number: int
    at: float
    target: str
    kind: FaultKind
    future: Any = field(default=None, repr=False)
    pid: int | None = None
    """The process a signal was sent to."""
    outcome: Literal["pending", "fired", "missed"] = "pending"
    detail: str = ""

    @property
    def label(self) -> str:
        return f"#{self.number}@{self.target}"

    def resolve(self, timeout: float) -> None:
        """Settle the outcome from the ask's answer (waits for a queued fault to run)."""
        if self.outcome != "pending":
            return
        try:
            self.future.get(timeout=timeout)
        except pykka.Timeout:
            self.detail = "still queued"
            return
        except supervisors.ActorExitedError as error:
            cause = error.__cause__
            fired = isinstance(cause, supervisors.InjectedFault) and self.label in str(cause)
            self.outcome = "fired" if fired else "missed"
            self.detail = str(error.reason)
            return
        except pykka.ActorDeadError as error:  # refused: down, or busy
            self.outcome, self.detail = "missed", str(error)
            return
        # Answered: a hang that ran to its end (a raise is never answered).
        self.outcome = "fired" if self.kind == "hang" else "missed"


class FaultInjector:
    """Injects a fault every ``interval`` s into one of ``targets``, from ``seed``."""

    def __init__(
        self,
        targets: list[str],
        *,
        seed: int,
        interval: float = 0.5,
        kinds: tuple[FaultKind, ...] = ("raise", "raise", "hang"),
        process_kinds: tuple[FaultKind, ...] = ("sigkill", "sigsegv"),
        isolated: frozenset[str] = frozenset(),
        registry: supervisors.Registry = supervisors.default_registry,
    ) -> None:
        self.targets = targets
        self.random = random.Random(seed)
        self.interval = interval
        self.kinds = kinds
        self.process_kinds = process_kinds
        self.isolated = isolated
        """Targets that run in their own process: they get signals, not Fault messages
        (a Fault is handled by the actor loop of the process it reaches)."""
        self.registry = registry
        self.injections: list[Injection] = []
        self._signalled: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-injector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def inject(self, target: str, kind: FaultKind) -> Injection:
        injection = Injection(len(self.injections) + 1, time.monotonic(), target, kind)
        self.injections.append(injection)
        ref = self.registry.whereis(target)
        if ref is None:
            injection.outcome, injection.detail = "missed", "not running"
            return injection
        if kind in SIGNALS:
            self._signal(injection, ref.pid)
            return injection
        seconds = HANG_SECONDS if kind == "hang" else 0.0
        try:
            injection.future = ref.ask(
                supervisors.Fault(kind, seconds, injection.label), block=False
            )
        except pykka.ActorDeadError as error:
            injection.outcome, injection.detail = "missed", str(error)
        return injection

    def _signal(self, injection: Injection, pid: int | None) -> None:
        """Send the injection's signal to ``pid``, unless an earlier one already hit it (the
        registry still names a process that died until its restart is registered)."""
        if pid is None or pid in self._signalled:
            injection.outcome, injection.detail = "missed", "its process is already dying"
            return
        try:
            os.kill(pid, SIGNALS[injection.kind])
        except ProcessLookupError:
            injection.outcome, injection.detail = "missed", "its process had ended"
            return
        self._signalled.add(pid)
        injection.pid, injection.outcome = pid, "fired"

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            target = self.random.choice(self.targets)
            kinds = self.process_kinds if target in self.isolated else self.kinds
            self.inject(target, self.random.choice(kinds))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def resolve(self, timeout: float) -> None:
        """Settle every injection's outcome; queued faults get ``timeout`` s to run."""
        deadline = time.monotonic() + timeout
        for injection in self.injections:
            injection.resolve(max(0.1, deadline - time.monotonic()))

    def fired(self, kind: FaultKind | None = None) -> list[Injection]:
        return [i for i in self.injections if i.outcome == "fired" and kind in (None, i.kind)]
