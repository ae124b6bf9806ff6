"""Why an ask went unanswered: every way ``ask`` can end without a reply, as one tuple to
catch (``UNANSWERED``), and a short phrase for each (``why_unanswered``) that a caller puts
after the name of what it asked ("memory is busy", "the store failed on this request (...)").

OTP's counterpart is ``catch gen_server:call(...)``: the call exits with ``{noproc, _}``,
``{timeout, _}`` or the callee's crash reason, and the caller decides what each means to it.
Here those are exception types. A caller that treats them all alike (memory is down: answer
without it) catches the one tuple rather than listing four types, and cannot forget the
newest one (``RequestFailedError``, a ``contained`` request that failed alone).
"""

from __future__ import annotations

import pykka

from supervisors._errors import ActorExitedError, RequestFailedError
from supervisors._mailbox import BusyError

__all__ = ["UNANSWERED", "why_unanswered"]

UNANSWERED: tuple[type[Exception], ...] = (
    pykka.ActorDeadError,  # ActorExitedError and NoProcError too
    pykka.Timeout,
    BusyError,
    RequestFailedError,
)
"""Every exception an ``ask`` (or a registered-name ``ask``) ends in when no reply came."""


def why_unanswered(error: BaseException, timeout: float | None = None) -> str:
    """A phrase that follows the callee's name: ``"is busy"``, ``"is not running"``, ``"did
    not answer within 5 s"`` (``timeout``, the ask's), ``"failed on this request (ValueError:
    ...)"``, ``"crashed on this request (ValueError: ...)"`` or ``"exited before it answered
    (shutdown)"``."""
    if isinstance(error, RequestFailedError):
        return f"failed on this request ({error.detail})"
    if isinstance(error, ActorExitedError):
        if error.__cause__ is not None:  # its handler of this very request raised
            return f"crashed on this request ({error.reason.detail or error.reason.kind})"
        reason = error.reason.kind + (f": {error.reason.detail}" if error.reason.detail else "")
        return f"exited before it answered ({reason})"
    if isinstance(error, BusyError):
        return "is busy"
    if isinstance(error, pykka.Timeout):
        return (
            "did not answer in time" if timeout is None else f"did not answer within {timeout:g} s"
        )
    if isinstance(error, pykka.ActorDeadError):
        return "is not running"
    return f"did not answer ({type(error).__name__}: {error})"
