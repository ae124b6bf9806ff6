"""Report sinks: an in-memory ring buffer and a structlog logger.

``RingBufferSink`` keeps the last N reports for an operator API or a test to
query (and wait on); ``StructlogSink`` logs each report as one structured
event. structlog is imported only when a ``StructlogSink`` is created, so the
library itself needs only pykka and msgspec.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from supervisors._reports import Report, ReportKind

__all__ = ["RingBufferSink", "StructlogSink"]


def _under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, segment-wise."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


class RingBufferSink:
    """Keeps the most recent ``capacity`` reports in memory (thread-safe)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._reports: deque[Report] = deque(maxlen=capacity)
        self._changed = threading.Condition()

    def emit(self, report: Report) -> None:
        with self._changed:
            self._reports.append(report)
            self._changed.notify_all()

    def snapshot(
        self,
        *,
        kind: ReportKind | None = None,
        path_prefix: str | None = None,
        child_id: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[Report]:
        """Reports oldest first, filtered.

        ``path_prefix`` matches the child's path (``report.path``) segment-wise,
        ``since`` is a wall-clock time (``report.timestamp >= since``) and
        ``limit`` keeps the most recent ones.
        """
        with self._changed:
            reports = list(self._reports)
        selected = [
            report
            for report in reports
            if (kind is None or report.kind == kind)
            and (path_prefix is None or _under(report.path, path_prefix))
            and (child_id is None or report.child_id == child_id)
            and (since is None or report.timestamp >= since)
        ]
        return selected if limit is None else selected[-limit:] if limit > 0 else []

    def wait_for(
        self,
        *,
        count: int = 1,
        timeout: float,
        kind: ReportKind | None = None,
        path_prefix: str | None = None,
        child_id: str | None = None,
        since: float | None = None,
    ) -> list[Report]:
        """Block until ``count`` reports match the filters; return them all.

        Returns whatever matched (possibly fewer) when ``timeout`` runs out.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matched = self.snapshot(
                    kind=kind, path_prefix=path_prefix, child_id=child_id, since=since
                )
                remaining = deadline - time.monotonic()
                if len(matched) >= count or remaining <= 0:
                    return matched
                self._changed.wait(remaining)

    def clear(self) -> None:
        """Forget every report."""
        with self._changed:
            self._reports.clear()


class StructlogSink:
    """Logs each report through structlog: ``supervisor.<kind>`` events.

    Failures (abnormal exits, start errors, hangs, escalations) log at error
    level, the rest at info.
    """

    def __init__(self, logger: Any = None) -> None:
        if logger is None:
            import structlog  # optional dependency: imported only when used

            logger = structlog.get_logger("supervisors")
        self._log = logger

    def emit(self, report: Report) -> None:
        failed = report.kind in ("start_error", "hung", "escalation") or (
            report.kind == "exit" and report.reason is not None and not report.reason.is_normal
        )
        log = self._log.error if failed else self._log.info
        log(
            f"supervisor.{report.kind}",
            supervisor=report.supervisor,
            child_id=report.child_id,
            child_name=report.child_name,
            urn=report.urn,
            context=report.context,
            reason=None if report.reason is None else str(report.reason),
            traceback=report.traceback or None,
            restarts=report.restarts,
            timestamp=report.timestamp,
        )
