"""A seeded fault injector: every ``interval`` seconds, one fault in one randomly picked actor.

Faults go through supported paths only: a ``supervisors.Fault`` message (handled by the
actor loop of every ``SupervisedActor`` when fault injection is enabled) makes an actor
raise in its own thread or block ("hang"). Each injection is recorded with the future of its
ask, so that afterwards we know whether it *fired* (the actor died of exactly this fault, or
hung for it) or was *missed* (the actor was down, restarting, or died of an earlier fault
first) and can match supervisor reports to injections one to one.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import pykka

import supervisors

FaultKind = Literal["raise", "hang"]

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
        registry: supervisors.Registry = supervisors.default_registry,
    ) -> None:
        self.targets = targets
        self.random = random.Random(seed)
        self.interval = interval
        self.kinds = kinds
        self.registry = registry
        self.injections: list[Injection] = []
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
        seconds = HANG_SECONDS if kind == "hang" else 0.0
        try:
            injection.future = ref.ask(
                supervisors.Fault(kind, seconds, injection.label), block=False
            )
        except pykka.ActorDeadError as error:
            injection.outcome, injection.detail = "missed", str(error)
        return injection

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.inject(self.random.choice(self.targets), self.random.choice(self.kinds))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def resolve(self, timeout: float) -> None:
        """Settle every injection's outcome; queued faults get ``timeout`` s to run."""
        deadline = time.monotonic() + timeout
        for injection in self.injections:
            injection.resolve(max(0.1, deadline - time.monotonic()))

    def fired(self, kind: FaultKind | None = None) -> list[Injection]:
        return [i for i in self.injections if i.outcome == "fired" and kind in (None, i.kind)]
