"""Introspection results: tree snapshots and OTP's child listings.

``NodeStatus`` is what ``SupervisorRef.status()`` returns for an operator API:
a JSON-encodable tree built from state the supervisors keep up to date, read
without sending any actor a message. ``ChildInfo`` and ``ChildCounts`` are the
results of OTP's ``which_children`` and ``count_children``.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from supervisors._lifecycle import Figure
from supervisors._mailbox import MailboxLimit
from supervisors._reasons import ExitReason
from supervisors._spec import ChildType

__all__ = ["ChildCounts", "ChildInfo", "NodeState", "NodeStatus"]

NodeState = Literal["starting", "running", "restarting", "stopped"]
"""``restarting``: waiting for a (delayed or retried) restart; ``stopped``:
not running and not going to be restarted unless asked (or, under
``one_for_all``/``rest_for_one``, unless a sibling's restart takes it along)."""


class NodeStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One node of a supervision tree snapshot."""

    path: str
    id: str
    type: ChildType
    state: NodeState
    name: str | None = None
    urn: str | None = None
    pid: int | None = None
    """The OS process the node runs in: the tree's own, or an isolated child's."""
    spare_pid: int | None = None
    """An isolated child's hot standby: its spare process, when one is ready to adopt."""
    started_at: float | None = None
    """Wall-clock start time of the current incarnation."""
    uptime: float | None = None
    """Seconds the current incarnation has been running."""
    restarts: int = 0
    last_exit: ExitReason | None = None
    mailbox: int = 0
    """Messages waiting in the node's mailbox."""
    mailbox_limit: MailboxLimit | None = None
    """The bound on the mailbox and its overflow policy (None: unbounded)."""
    mailbox_overflow: int = 0
    """Messages the current incarnation's mailbox refused or dropped past its limit."""
    figures: dict[str, Figure] = msgspec.field(default_factory=dict)
    children: tuple[NodeStatus, ...] = ()

    def find(self, path: str) -> NodeStatus | None:
        """The node at ``path`` in this subtree, or None."""
        if path == self.path:
            return self
        for child in self.children:
            if path == child.path or path.startswith(child.path + "/"):
                return child.find(path)
        return None


class ChildInfo(msgspec.Struct, frozen=True):
    """One entry of ``which_children()``: OTP's ``{Id, Child, Type, Modules}``.

    ``id`` is None for ``simple_one_for_one`` children, as in OTP; ``ref`` is
    None unless the child is running.
    """

    id: str | None
    ref: Any
    type: ChildType
    state: NodeState


class ChildCounts(msgspec.Struct, frozen=True):
    """``count_children()``: specs, running children, and specs by type."""

    specs: int
    active: int
    supervisors: int
    workers: int
