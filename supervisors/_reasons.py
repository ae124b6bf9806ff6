"""Exit reasons: why a supervised actor stopped.

OTP represents an exit reason as any Erlang term and gives a few atoms a
meaning: ``normal``, ``shutdown``, ``{shutdown, Term}`` and ``killed``. Here a
reason is a small frozen struct with a ``kind`` (one of those meanings, plus
``crash`` for an unhandled exception, ``hung`` for a missed heartbeat and
``memory_limit`` for an isolated child killed over its memory ceiling) and a
free-text ``detail``. It is msgspec-encodable, so it can travel in reports and
status snapshots as-is.

The exit's two notices live here too, beside the reason they carry: ``ExitSignal`` (an exit
request queued as mail, for an actor that traps exits) and ``Down`` (a monitor's message,
OTP's ``'DOWN'``). Both are control mail that a full mailbox never refuses, which is why the
mailbox needs them and why they sit in this leaf module.
"""

from __future__ import annotations

import linecache
import traceback
from typing import Literal, NamedTuple

import msgspec

__all__ = [
    "HUNG",
    "KILLED",
    "NOPROC",
    "NORMAL",
    "SHUTDOWN",
    "Down",
    "ExitKind",
    "ExitReason",
    "ExitSignal",
    "MonitorRef",
    "format_traceback",
]

ExitKind = Literal["normal", "shutdown", "crash", "killed", "hung", "memory_limit"]


class ExitReason(msgspec.Struct, frozen=True):
    """Why an actor exited.

    ``kind`` decides what a supervisor does with the exit; ``detail`` is for
    humans (``"ValueError: boom"``, ``"reached_max_restart_intensity"``).
    A ``shutdown`` reason with a detail is OTP's ``{shutdown, Term}``.
    """

    kind: ExitKind
    detail: str = ""

    @property
    def is_normal(self) -> bool:
        """True for the reasons a ``transient`` child is not restarted for.

        As in OTP these are ``normal``, ``shutdown`` and ``{shutdown, Term}``.
        """
        return self.kind in ("normal", "shutdown")

    @classmethod
    def crash(cls, error: BaseException) -> ExitReason:
        """The reason for an actor that died of ``error``: ``"module.Type: message"``.

        Built by hand: ``traceback.format_exception_only`` costs ~10x more and
        this runs on every crash, before the restart.
        """
        kind = type(error)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        message = str(error)
        return cls("crash", f"{name}: {message}" if message else name)

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


NORMAL = ExitReason("normal")
"""The actor stopped by itself (``ActorRef.stop()`` or ``exit(NORMAL)``)."""

SHUTDOWN = ExitReason("shutdown")
"""The actor was stopped by its supervisor."""

KILLED = ExitReason("killed")
"""The actor was abandoned without running its hooks (see ``Lifecycle.kill``)."""

HUNG = ExitReason("hung", "missed its heartbeat deadline with mail waiting")
"""The actor was killed by its supervisor for missing its heartbeat deadline."""

NOPROC = ExitReason("crash", "noproc: no such actor was running")
"""The reason of a ``Down`` for a target that was not running when it was monitored."""


class ExitSignal(NamedTuple):
    """An exit request queued as mail, for actors that trap exits."""

    reason: ExitReason


class MonitorRef(msgspec.Struct, frozen=True, array_like=True):
    """Names one monitor; compare it with ``Down.ref`` to tell which request a Down ends."""

    id: int


class Down(msgspec.Struct, frozen=True, tag="supervisors.Down"):
    """OTP's ``{'DOWN', Ref, process, Name, Reason}``: the monitored incarnation exited."""

    ref: MonitorRef
    name: str | None
    reason: ExitReason


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_traceback(error: BaseException) -> str:
    """Traceback text of ``error`` and its causes; then drop its frames' locals.

    The layout is ``traceback.format_exception``'s without the ``^^^`` markers.
    Not the stdlib function itself: it stats every source file on each call
    (``linecache.checkcache``) and parses source lines for the markers, which
    costs 0.1 to 1 ms per crash; this reads each file once, from the cache.

    Clearing the frames afterwards lets go of what a dead actor's frames held
    (its ``self``, and a loaded model with it) once the text exists.
    """
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for exception, link in reversed(chain):
        if exception.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            for frame, lineno in traceback.walk_tb(exception.__traceback__):
                code = frame.f_code
                parts.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n')
                line = linecache.getline(code.co_filename, lineno, frame.f_globals).strip()
                if line:
                    parts.append(f"    {line}\n")
            traceback.clear_frames(exception.__traceback__)
        parts.extend(traceback.format_exception_only(exception))
        parts.append(link)
    return "".join(parts)
