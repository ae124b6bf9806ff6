"""Supervisor reports: typed records of what happened in a tree, and sinks.

OTP supervisors emit progress reports (a child started) and error reports
(child_terminated, start_error, shutdown_error, reached_max_restart_intensity)
to the logger. Here every event is a frozen msgspec struct, tagged with its
``kind`` so a stream of them encodes to JSON and decodes back
(``msgspec.json.decode(data, type=AnyReport)``):

========== ==============================================================
kind       emitted when
========== ==============================================================
start      a child started (``context``: init, restart or dynamic)
exit       a child exited by itself (any reason, normal ones included)
restart    the supervisor decided to restart a child (after its exit)
shutdown   the supervisor stopped a child (``reason``: how it ended)
start_error a child failed to start
hung       a child missed its heartbeat deadline (then killed: ``exit``)
escalation restart intensity exceeded: the supervisor gives up and exits
========== ==============================================================

Reports go to sinks: anything with an ``emit(report)`` method. Sinks are
called synchronously by the supervisor, so they must be quick; a sink that
raises is logged and otherwise ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Literal, Protocol

import msgspec

from supervisors._reasons import ExitReason

__all__ = [
    "AnyReport",
    "EscalationReport",
    "ExitReport",
    "HungReport",
    "Report",
    "ReportKind",
    "Reporter",
    "RestartReport",
    "ShutdownReport",
    "Sink",
    "StartErrorReport",
    "StartReport",
]

logger = logging.getLogger("supervisors")

ReportKind = Literal["start", "exit", "restart", "shutdown", "start_error", "hung", "escalation"]


class Report(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Fields shared by every report; ``kind`` is the tag of the subclass."""

    supervisor: str
    """Path of the reporting supervisor, e.g. ``"solo/voice"``."""
    child_id: str | None
    child_name: str | None = None
    urn: str | None = None
    """The child's actor URN, when it had a running actor."""
    context: str = ""
    reason: ExitReason | None = None
    traceback: str = ""
    restarts: int = 0
    """How many times the child has been restarted so far."""
    timestamp: float = msgspec.field(default_factory=time.time)
    monotonic: float = msgspec.field(default_factory=time.monotonic)

    @property
    def kind(self) -> ReportKind:
        """The report's kind (its msgspec tag)."""
        tag = self.__struct_config__.tag
        assert isinstance(tag, str)
        return tag  # type: ignore[return-value]

    @property
    def path(self) -> str:
        """Path of the child the report is about (the supervisor's if none)."""
        return self.supervisor if self.child_id is None else f"{self.supervisor}/{self.child_id}"


class StartReport(Report, tag="start", frozen=True):
    """A child started."""


class ExitReport(Report, tag="exit", frozen=True):
    """A child exited by itself."""


class RestartReport(Report, tag="restart", frozen=True):
    """The supervisor is restarting a child (and, by strategy, its siblings)."""


class ShutdownReport(Report, tag="shutdown", frozen=True):
    """The supervisor stopped a child."""


class StartErrorReport(Report, tag="start_error", frozen=True):
    """A child failed to start."""


class HungReport(Report, tag="hung", frozen=True):
    """A child missed its heartbeat deadline and is being killed."""


class EscalationReport(Report, tag="escalation", frozen=True):
    """Restart intensity exceeded: the supervisor stops and exits."""


AnyReport = (
    StartReport
    | ExitReport
    | RestartReport
    | ShutdownReport
    | StartErrorReport
    | HungReport
    | EscalationReport
)
"""The type to decode a report with."""


class Sink(Protocol):
    """Receives reports. Must be quick, thread-safe, and should not raise."""

    def emit(self, report: Report) -> None: ...


class Reporter:
    """Fans reports out to sinks; a failing sink never reaches the caller."""

    def __init__(self, sinks: Iterable[Sink] = ()) -> None:
        self._sinks = tuple(sinks)

    def emit(self, report: Report) -> None:
        for sink in self._sinks:
            try:
                sink.emit(report)
            except Exception:
                logger.exception("report sink %r failed", sink)
