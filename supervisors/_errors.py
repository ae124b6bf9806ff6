"""The exceptions this library raises.

The two that callers of actors meet, ``ActorExitedError`` and ``NoProcError``,
subclass ``pykka.ActorDeadError`` so code written against plain pykka keeps
catching them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pykka

if TYPE_CHECKING:
    from supervisors._reasons import ExitReason

__all__ = [
    "ActorExitedError",
    "AlreadyRegisteredError",
    "NoProcError",
    "RequestFailedError",
    "StartError",
    "SupervisorError",
    "SupervisorErrorCode",
]


class ActorExitedError(pykka.ActorDeadError):
    """The actor exited before it replied; ``reason`` says why.

    The request whose handler crashed gets this with the handler's exception as
    ``__cause__``; every other request still queued (or sent later) gets it
    without a cause.
    """

    def __init__(self, actor: str, reason: ExitReason) -> None:
        super().__init__(f"{actor} exited: {reason}")
        self.actor = actor
        self.reason = reason


class NoProcError(pykka.ActorDeadError):
    """No live actor is registered under ``name`` (OTP's ``noproc``)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no actor registered as {name!r}")
        self.name = name


class RequestFailedError(Exception):
    """The actor failed on this request alone and keeps running: its handler raised while
    handling a message of a type the actor declares ``contained``. The handler's exception
    is the ``__cause__`` (a ``RemoteError`` when the actor runs in another process)."""

    def __init__(self, actor: str, request: str, detail: str) -> None:
        super().__init__(f"{actor} failed on a {request}: {detail}")
        self.actor = actor
        self.request = request
        self.detail = detail


class AlreadyRegisteredError(Exception):
    """``name`` is already registered to another live actor."""

    def __init__(self, name: str, holder: pykka.ActorRef[Any]) -> None:
        super().__init__(f"{name!r} is already registered to {holder}")
        self.name = name
        self.holder = holder


class StartError(Exception):
    """A child failed to start: its factory raised, or its ``on_start`` did.

    ``child_id`` names the child, ``reason`` is its exit reason and
    ``traceback`` the text of the failure, if there was an exception.
    """

    def __init__(self, child_id: str, reason: ExitReason, traceback: str = "") -> None:
        super().__init__(f"child {child_id!r} failed to start: {reason}")
        self.child_id = child_id
        self.reason = reason
        self.traceback = traceback


SupervisorErrorCode = Literal[
    "not_found",
    "running",
    "restarting",
    "already_present",
    "already_started",
    "simple_one_for_one",
    "bad_start_spec",
]


class SupervisorError(Exception):
    """A dynamic-children call was refused; ``code`` is OTP's error atom."""

    def __init__(self, code: SupervisorErrorCode, child: object = None) -> None:
        super().__init__(code if child is None else f"{code}: {child!r}")
        self.code = code
        self.child = child
