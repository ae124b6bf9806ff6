"""Selecting supervisor reports the way an operator asks: by actor, kind and time.

Shared by ``GET /log`` and ``solo log``. Operator kinds add two words to the report kinds:
``crash`` (an abnormal exit, a failed start or a hang) and ``stop`` (a shutdown).
Times are epoch seconds or a duration ago (``90s``, ``10m``, ``2h``, ``1d``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Literal, get_args

import supervisors

QueryKind = Literal[
    "start", "exit", "restart", "shutdown", "start_error", "hung", "escalation", "crash", "stop"
]
QUERY_KINDS: tuple[str, ...] = get_args(QueryKind)
CRASH_KINDS = ("exit", "start_error", "hung")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(raw: str, now: float | None = None) -> float:
    """Epoch seconds from ``1735689600`` or a duration ago; ValueError otherwise."""
    match = DURATION.match(raw.strip())
    if match:
        return (time.time() if now is None else now) - float(match[1]) * UNIT_SECONDS[match[2]]
    return float(raw)


def is_crash(report: supervisors.Report) -> bool:
    return report.kind in CRASH_KINDS and report.reason is not None and not report.reason.is_normal


def kind_matches(report: supervisors.Report, kind: str | None) -> bool:
    if kind is None:
        return True
    if kind == "crash":
        return is_crash(report)
    if kind == "stop":
        return report.kind == "shutdown"
    return report.kind == kind


def actor_matches(report: supervisors.Report, actor: str | None) -> bool:
    """``actor`` is a tree path (the node or anything below it) or a bare child id."""
    if actor is None:
        return True
    actor = actor.rstrip("/")
    path = report.path
    return path == actor or path.startswith(actor + "/") or report.child_id == actor


def select_reports(
    reports: Iterable[supervisors.Report], *, actor: str | None = None,
    kind: str | None = None, since: float | None = None, until: float | None = None,
) -> list[supervisors.Report]:  # fmt: skip
    """The matching reports, in the order given."""
    return [
        report for report in reports
        if actor_matches(report, actor) and kind_matches(report, kind)
        and (since is None or report.timestamp >= since)
        and (until is None or report.timestamp < until)
    ]  # fmt: skip
