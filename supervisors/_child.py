"""A supervisor's record of one child: its spec, current actor and history.

Only the supervisor's thread writes these records; ``status()`` reads them
from other threads, field by field, which is safe because each field is
replaced atomically and a snapshot may be a moment stale.
"""

from __future__ import annotations

import time
from typing import Any

from supervisors._actor import SupervisedRef
from supervisors._backoff import Backoff
from supervisors._reasons import ExitReason
from supervisors._spec import ChildSpec
from supervisors._standby import Standby
from supervisors._status import NodeState, NodeStatus

__all__ = ["Child"]


class Child:
    """One child of a supervisor."""

    __slots__ = (
        "_heartbeat_mark",
        "backoff_attempt",
        "last_exit",
        "last_uptime",
        "last_urn",
        "monitor",
        "ref",
        "restarts",
        "spec",
        "standby",
        "started_at",
        "started_mono",
        "state",
    )

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.standby: Standby | None = None
        """The hot standby of an isolated child with ``standby`` set, once it started."""
        self.ref: SupervisedRef[Any] | None = None
        self.state: NodeState = "stopped"
        self.monitor = 0
        self.restarts = 0
        self.started_at = 0.0
        self.started_mono = 0.0
        self.last_exit: ExitReason | None = None
        self.last_urn: str | None = None
        """The urn of the incarnation that exited last: under ``simple_one_for_one`` a
        caller names a child by its ref, the old one while a restart is pending."""
        self.last_uptime = 0.0
        self.backoff_attempt = 0
        # (envelope being handled, when mail was first seen waiting behind it);
        # see hung_for.
        self._heartbeat_mark: tuple[object, float] | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    def attach(self, ref: SupervisedRef[Any], monitor: int) -> None:
        """The child's new incarnation ``ref`` is running."""
        self.ref = ref
        self.monitor = monitor
        self.started_at = time.time()
        self.started_mono = time.monotonic()
        self._heartbeat_mark = None
        self.state = "running"

    def close_standby(self) -> None:
        """The child is terminated for good: its spare goes too."""
        standby, self.standby = self.standby, None
        if standby is not None:
            standby.close()

    def detach(self, reason: ExitReason) -> None:
        """The current incarnation exited with ``reason``."""
        if self.ref is not None:
            self.last_urn = self.ref.actor_urn
        self.ref = None
        self.state = "stopped"
        self.last_exit = reason
        self.last_uptime = time.monotonic() - self.started_mono

    def restart_delay(self, backoff: Backoff | None) -> float:
        """Seconds to wait before restarting (0 without a backoff)."""
        if backoff is None:
            return 0.0
        if self.last_uptime >= backoff.max:
            self.backoff_attempt = 0  # it ran long enough: a fresh failure
        delay = backoff.delay(self.backoff_attempt)
        self.backoff_attempt += 1
        return delay

    def hung_for(self, now: float) -> float | None:
        """Seconds the child has taken no message with mail waiting, once that
        reaches its ``heartbeat`` deadline; None while it is not hung.

        Sampled by the supervisor: the clock starts when mail is first seen
        waiting and stops as soon as the actor takes a new message, so an
        actor that was idle for an hour and just got mail is not flagged.
        """
        ref, deadline = self.ref, self.spec.heartbeat
        if ref is None or deadline is None:
            return None
        lifecycle = ref.lifecycle
        current, waiting = lifecycle.progress()
        if lifecycle.reason is not None or not waiting:
            self._heartbeat_mark = None
            return None
        mark = self._heartbeat_mark
        if mark is None or mark[0] is not current:
            self._heartbeat_mark = (current, now)
            return None
        stalled = now - mark[1]
        return stalled if stalled >= deadline else None

    def node(self, parent_path: str, now: float, children: tuple[NodeStatus, ...]) -> NodeStatus:
        """This child as a status node (``children``: its own, if a supervisor)."""
        ref = self.ref
        lifecycle = None if ref is None else ref.lifecycle
        return NodeStatus(
            path=f"{parent_path}/{self.spec.id}",
            id=self.spec.id,
            type=self.spec.type,
            state=self.state,
            name=self.spec.name,
            urn=None if ref is None else ref.actor_urn,
            pid=None if ref is None else ref.pid,
            spare_pid=None if self.standby is None else self.standby.ready_pid,
            started_at=None if ref is None else self.started_at,
            uptime=None if ref is None else now - self.started_mono,
            restarts=self.restarts,
            last_exit=self.last_exit,
            mailbox=0 if lifecycle is None else lifecycle.mailbox_depth,
            mailbox_limit=self.spec.mailbox,
            mailbox_overflow=0 if lifecycle is None else lifecycle.mailbox.overflow,
            figures={} if lifecycle is None else dict(lifecycle.figures),
            children=children,
        )
