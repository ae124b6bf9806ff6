"""Inboxes: a registered reply address for code that is not an actor (OTP's call reply).

An Erlang process that calls a gen_server waits in its own mailbox for the reply, tagged
with a fresh reference, while it monitors the server: a ``'DOWN'`` for the server ends the
call at once instead of at the timeout. A Python thread (a CLI, an HTTP handler, a test)
has no mailbox, so ``inbox()`` lends it one::

    with supervisors.inbox() as box:          # a temporary registered name
        box.monitor("dialogue")                # erlang:monitor(process, dialogue)
        supervisors.tell("dialogue", Turn(text, reply_to=box.name))
        reply = box.receive(timeout=30)        # receive ... after 30000 -> ... end

* ``box.name`` is registered for as long as the inbox is open, so any actor reaches it by
  name with ``tell`` or ``cast``, an isolated one too (its registry sends names it does
  not hold to the parent). Mail sent after ``close()`` is refused as ``noproc``.
* ``receive(timeout)`` returns the next message, in the order sent; ``TimeoutError`` when
  none came in time (``after``). ``receive_async`` is the same for an asyncio task.
* ``monitor(target)`` watches the incarnation that serves the caller: its exit makes the
  pending (or next) ``receive`` raise ``ActorExitedError`` with the exit reason, or
  ``NoProcError`` if it was not running, as ``gen_server:call`` exits when the server dies.
  Mail that came before the ``Down`` is received first.
* ``close()`` (the end of the ``with``) releases the name; a thread still waiting in
  ``receive`` gets ``NoProcError`` naming the inbox.
* No thread: the mailbox is read by whoever calls ``receive``. An inbox costs a registered
  name and a mailbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pykka
from pykka._envelope import Envelope

from supervisors._errors import ActorExitedError, NoProcError
from supervisors._mailbox import WAKEUP, Mailbox
from supervisors._monitors import demonitor, monitor
from supervisors._reasons import NOPROC, Down, MonitorRef
from supervisors._registry import Registry, default_registry

__all__ = ["Inbox", "inbox"]

_ids = itertools.count(1)


class _InboxMailbox(Mailbox):
    """A mailbox that also wakes an asyncio task waiting on it."""

    __slots__ = ("waker",)

    def __init__(self) -> None:
        super().__init__()
        self.waker: Callable[[], None] | None = None

    def put(self, envelope: Envelope[Any]) -> None:
        super().put(envelope)
        waker = self.waker
        if waker is not None:
            waker()


class _Holder(pykka.ThreadingActor):
    """The actor object behind an inbox's ref: never started, it only holds the mailbox.

    pykka's ``ActorRef.tell`` needs no running actor, only a mailbox and a stopped flag.
    """

    @staticmethod
    def _create_actor_inbox() -> _InboxMailbox:
        return _InboxMailbox()


class Inbox:
    """A temporary registered mailbox; see the module docstring."""

    def __init__(self, name: str | None = None, registry: Registry = default_registry) -> None:
        self._holder = _Holder()
        mailbox = self._holder.actor_inbox
        assert isinstance(mailbox, _InboxMailbox)
        self._mailbox = mailbox
        self.ref: pykka.ActorRef[Any] = self._holder.actor_ref
        """The inbox as an actor ref, for APIs that take one (e.g. ``monitor``'s notify)."""
        self.name = name or f"inbox-{os.getpid()}-{next(_ids)}"
        """The registered name to hand out as the reply address."""
        self._registry = registry
        self._watching: dict[MonitorRef, str] = {}
        self._made: set[MonitorRef] = set()
        registry.register(self.name, self.ref)

    def monitor(self, target: str | pykka.ActorRef[Any]) -> MonitorRef:
        """Watch the callee: its exit ends the pending ``receive`` with the reason."""
        ref = monitor(target, self.ref, registry=self._registry)
        self._made.add(ref)
        self._watching[ref] = target if isinstance(target, str) else str(target)
        return ref

    def demonitor(self, ref: MonitorRef) -> None:
        """Stop watching; a ``Down`` already in the inbox is dropped when received."""
        if self._watching.pop(ref, None) is not None:
            demonitor(ref)

    def receive(self, timeout: float | None = None) -> Any:
        """The next message; ``TimeoutError`` after ``timeout`` s without one; an
        ``ActorExitedError``/``NoProcError`` when a monitored callee exited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                envelope = self._mailbox.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(f"no message in {self.name} within {timeout:g} s") from None
            found, message = self._open(envelope)
            if found:
                return message

    async def receive_async(self, timeout: float | None = None) -> Any:
        """``receive`` for an asyncio task: waits without blocking the event loop."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def wake() -> None:
            # Runs on the sender's thread: a loop closed meanwhile (its server stopped)
            # must not make the sender's tell fail.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ready.set)

        self._mailbox.waker = wake
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                ready.clear()  # cleared before looking: a put from now on sets it again
                try:
                    envelope = self._mailbox.get(timeout=0)
                except queue.Empty:
                    remaining = None if deadline is None else deadline - loop.time()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"no message in {self.name} within {timeout:g} s"
                        ) from None
                    # A timeout here is raised by the next look, unless mail just came.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ready.wait(), remaining)
                    continue
                found, message = self._open(envelope)
                if found:
                    return message
        finally:
            self._mailbox.waker = None

    def _open(self, envelope: Envelope[Any]) -> tuple[bool, Any]:
        """(True, message) for mail to hand out; raises for a watched callee's Down."""
        if envelope is WAKEUP:
            raise NoProcError(self.name)  # closed: by another thread, while this one waited
        if envelope.reply_to is not None:
            envelope.reply_to.set(None)  # an ask to an inbox: received, nothing to say
        message = envelope.message
        if isinstance(message, Down):
            callee = self._watching.pop(message.ref, None)
            if callee is not None:
                if message.reason == NOPROC:
                    raise NoProcError(callee)
                raise ActorExitedError(callee, message.reason)
            if message.ref in self._made:
                return False, None  # a demonitored callee's Down, queued before demonitor
        # Any other Down (a monitor someone else set up with this inbox as notify) is mail.
        return True, message

    def close(self) -> None:
        """Unregister the name and refuse later mail (a sender's ``cast`` says noproc); a
        thread waiting in ``receive`` gets ``NoProcError`` naming the inbox. Idempotent."""
        if self._holder.actor_stopped.is_set():
            return
        for ref in list(self._watching):
            self.demonitor(ref)
        self._registry.unregister(self.name, self.ref)
        self._holder.actor_stopped.set()
        name = self.name

        def refuse(envelope: Envelope[Any]) -> None:
            error = NoProcError(name)
            if envelope.reply_to is None:
                raise error
            envelope.reply_to.set_exception((NoProcError, error, None))

        self._mailbox.close(refuse)

    def __enter__(self) -> Inbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def inbox(name: str | None = None, *, registry: Registry = default_registry) -> Inbox:
    """Open a temporary registered mailbox (a fresh name unless ``name`` is given); use it
    as a context manager so the name is released."""
    return Inbox(name, registry)
