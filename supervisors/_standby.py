"""Hot standby: a spare process per isolated child, loaded and waiting to be adopted.

A process-isolated child's restart costs a Python start and its model load (seconds). With
``ProcessOptions(standby=True)`` its supervisor keeps one spare: a process spawned ahead
of time that has run its actor's ``on_start`` and waits, registered nowhere in the tree,
receiving no mail. When the supervisor (re)starts the child, the stand-in adopts the spare
if it is alive: a ready one makes the restart cost milliseconds, one still loading saves
what it has loaded so far (it gets the child's priority back at once). The next spare is
then spawned in the background, by its own reader thread, at a lower priority while it
loads (``process_host.STANDBY_NICE``). Without a spare the child starts the normal way,
with the same reports and errors.

A spare that dies while waiting is logged and replaced, after a backoff
(``SPARE_BACKOFF``) so one that always fails (a missing model) does not spin; it is no
child of the tree: no report, no restart intensity. Spares are stopped when their child
is terminated for good (``close``); they die with the parent as children do.
"""

from __future__ import annotations

import logging
import threading
import time

from supervisors._backoff import Backoff
from supervisors._process_link import ProcessLifecycle, ProcessLink
from supervisors._registry import Registry
from supervisors._spec import ChildSpec

__all__ = ["SPARE_BACKOFF", "SPARE_STOP_GRACE", "Standby"]

logger = logging.getLogger("supervisors")

SPARE_BACKOFF = Backoff(min=1.0, max=60.0)
"""Delay before replacing a spare that died while waiting, by consecutive deaths; a spare
that waited longer than ``max`` before dying starts the count again."""

SPARE_STOP_GRACE = 2.0
"""Seconds a discarded spare gets to run its ``on_stop`` before it is killed."""


class Standby:
    """The spare process of one isolated child (one ``ChildSpec``), for its supervisor.

    ``take`` runs in the child's stand-in thread, ``refill`` and ``close`` in the
    supervisor's, a dead spare's replacement in that spare's reader thread.
    """

    def __init__(self, spec: ChildSpec, path: str, registry: Registry) -> None:
        self._spec = spec
        self._path = path
        self._registry = registry
        self._lock = threading.Lock()
        self._spare: ProcessLink | None = None
        self._replacing = False
        """A dead spare's reader thread is waiting out the backoff to replace it."""
        self._deaths = 0
        self._closed = threading.Event()

    @property
    def ready_pid(self) -> int | None:
        """The pid of the spare if it is ready to be adopted (for status)."""
        spare = self._spare
        return spare.pid if spare is not None and spare.ready else None

    def take(self, lifecycle: ProcessLifecycle) -> ProcessLink | None:
        """Hand the spare to the stand-in of ``lifecycle``; None if there is none alive.

        A spare still loading is taken too: it is further along than a new process
        would be, and if it fails to start, that is the child's start error, as it
        would be on the normal path."""
        with self._lock:
            spare = self._spare
            if spare is None or not spare.adopt(lifecycle):
                return None
            self._spare = None
            self._deaths = 0
        logger.info("%s adopted its spare process %s", self._path, spare.pid)
        return spare

    def refill(self) -> None:
        """Spawn a spare unless one is there or coming (returns at once)."""
        with self._lock:
            if self._closed.is_set() or self._spare is not None or self._replacing:
                return
            self._spare = self._spawn()

    def close(self) -> None:
        """The child is terminated for good: stop the spare, wait until it is reaped."""
        self._closed.set()
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.discard(SPARE_STOP_GRACE)

    def _spawn(self) -> ProcessLink:
        return ProcessLink(self._spec, self._path, self._registry, None, spare=self._died)

    def _died(self, spare: ProcessLink) -> None:
        """A spare ended before it was adopted (its reader thread): replace it, later."""
        with self._lock:
            if self._spare is not spare or self._closed.is_set():
                return
            self._spare = None
            self._replacing = True
            waited = time.monotonic() - spare.started_at if spare.started.is_set() else 0.0
            if waited >= SPARE_BACKOFF.max:
                self._deaths = 0  # it waited long enough: a fresh failure
            delay = SPARE_BACKOFF.delay(self._deaths)
            self._deaths += 1
        logger.warning(
            "the spare process %s of %s exited while waiting (%s); another in %.1fs",
            spare.pid,
            self._path,
            spare.exit_reason,
            delay,
        )
        self._closed.wait(delay)
        with self._lock:
            self._replacing = False
            if not self._closed.is_set() and self._spare is None:
                self._spare = self._spawn()
