"""Registered names: reach a child by name across its restarts.

OTP children register a local name when they start, so callers keep using the
name while the pid behind it changes. Here the supervisor registers a child's
``name`` (from its spec) when the child has started and replaces it when the
child is restarted; between an exit and the restart the name resolves to
nothing and ``ask``/``tell`` raise ``NoProcError``, like OTP's ``noproc``.

The module-level ``whereis``, ``ask``, ``tell`` use ``default_registry``,
which every tree uses unless given another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal
from typing import cast as typing_cast

import pykka

from supervisors._errors import ActorExitedError, AlreadyRegisteredError, NoProcError
from supervisors._mailbox import BusyError

__all__ = ["CastResult", "Registry", "ask", "cast", "default_registry", "tell", "whereis"]

CastResult = Literal["ok", "noproc", "busy"]
"""What ``cast`` did: delivered, nobody runs under the name, or the mailbox was full."""


class Registry:
    """Thread-safe map of names to the current ``ActorRef``."""

    def __init__(self) -> None:
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._changed = threading.Condition()
        self.fallback: Callable[[str], Any] | None = None
        """Where names this registry does not hold are looked up: in a process-isolated
        child, the parent process (a ref-like object that sends over the pipe)."""

    def register(self, name: str, ref: pykka.ActorRef[Any]) -> None:
        """Point ``name`` at ``ref``; raise if a live actor holds it already."""
        with self._changed:
            holder = self._refs.get(name)
            if holder is not None and holder is not ref and holder.is_alive():
                raise AlreadyRegisteredError(name, holder)
            self._refs[name] = ref
            self._changed.notify_all()

    def unregister(self, name: str, ref: pykka.ActorRef[Any] | None = None) -> None:
        """Forget ``name`` (only if it still points at ``ref``, when given)."""
        with self._changed:
            if ref is None or self._refs.get(name) is ref:
                self._refs.pop(name, None)

    def whereis(self, name: str, timeout: float | None = None) -> pykka.ActorRef[Any] | None:
        """The live actor registered as ``name``, or None.

        With a ``timeout``, wait up to that long for one to be registered
        (e.g. while a child is being restarted).
        """
        # Lock-free fast path: dict reads are atomic and the hot path of
        # ask/tell by name must cost no more than a lookup.
        ref = self._refs.get(name)
        if ref is not None and ref.is_alive():
            return ref
        if self.fallback is not None and ref is None:
            return typing_cast("pykka.ActorRef[Any]", self.fallback(name))
        if not timeout:
            return None
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                ref = self._refs.get(name)
                if ref is not None and ref.is_alive():
                    return ref
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)  # register() notifies

    def names(self) -> list[str]:
        """Names currently pointing at live actors."""
        with self._changed:
            return sorted(name for name, ref in self._refs.items() if ref.is_alive())

    # ask and tell look the name up inline: they are the hot path of every
    # message sent by name.

    def ask(self, name: str, message: Any, timeout: float | None = None) -> Any:
        """``ask`` the actor registered as ``name``; ``NoProcError`` if none."""
        ref = self._refs.get(name)
        if ref is None:
            if self.fallback is None:
                raise NoProcError(name)
            ref = self.fallback(name)
        try:
            return ref.ask(message, timeout=timeout)
        except (ActorExitedError, BusyError):
            raise  # it died on (or with) our request, or is busy: the reason matters more
        except pykka.ActorDeadError as error:
            raise NoProcError(name) from error

    def tell(self, name: str, message: Any) -> None:
        """``tell`` the actor registered as ``name``; ``NoProcError`` if none."""
        ref = self._refs.get(name)
        if ref is None:
            if self.fallback is None:
                raise NoProcError(name)
            ref = self.fallback(name)
        try:
            ref.tell(message)
        except BusyError:
            raise
        except pykka.ActorDeadError as error:
            raise NoProcError(name) from error

    def cast(self, target: str | pykka.ActorRef[Any], message: Any) -> CastResult:
        """OTP's ``gen_server:cast``: send and never raise; say whether it was delivered.

        ``"noproc"`` when nothing runs under the name (or the actor just died), ``"busy"``
        when its mailbox refused the message. The caller decides what each means to it.
        """
        try:
            if isinstance(target, str):
                self.tell(target, message)
            else:
                target.tell(message)
        except BusyError:
            return "busy"
        except pykka.ActorDeadError:
            return "noproc"
        return "ok"


default_registry = Registry()
"""The registry trees use unless ``start_supervisor`` is given another."""

whereis = default_registry.whereis
ask = default_registry.ask
tell = default_registry.tell
cast = default_registry.cast
