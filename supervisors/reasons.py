"""Exit reasons: why a supervised actor stopped.

OTP represents an exit reason as any Erlang term and gives a few atoms a
meaning: ``normal``, ``shutdown``, ``{shutdown, Term}`` and ``killed``. Here a
reason is a small frozen struct with a ``kind`` (one of those meanings, plus
``crash`` for an unhandled exception and ``hung`` for a missed heartbeat) and a
free-text ``detail``. It is msgspec-encodable, so it can travel in reports and
status snapshots as-is.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "HUNG",
    "KILLED",
    "NORMAL",
    "SHUTDOWN",
    "ExitKind",
    "ExitReason",
]

ExitKind = Literal["normal", "shutdown", "crash", "killed", "hung"]


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
