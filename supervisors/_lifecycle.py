"""The process half of a supervised actor: how it ends and who hears of it.

An Erlang process has an exit reason, monitors that are told about its exit,
and can be asked or forced to exit. A pykka actor has none of that, so each
``SupervisedActor`` carries a ``Lifecycle`` (reachable from its ref as
``ref.lifecycle``) that holds:

* the start handshake (``wait_started``), so a supervisor starts children
  synchronously as OTP's ``start_link`` does;
* the exit: reason, the exception (its traceback text is formatted only when
  first asked for, off the restart path), monitors fired exactly once, the
  mailbox closed and every pending request answered with ``ActorExitedError``;
* exit requests (``request_exit``: finish the current message, then exit) and
  ``kill`` (exit *now*, abandoning the thread, see below);
* what an observer may read without sending a message: the message being
  handled, mailbox depth and published figures.

Anything that can run ``finish()`` when its work ends can be supervised, which
is how the stand-in of a process-isolated child reports its exits
(``supervisors._process``).

Killing: Python cannot stop a thread. ``kill`` therefore marks the actor
exited, unregisters it, answers every pending request and notifies monitors
immediately, from the caller's thread. The actor's thread is abandoned: it
finishes whatever message it is running, then notices it was killed and ends
without running ``on_stop``/``on_failure``. A handler that never returns keeps
its thread forever.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pykka
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from supervisors._errors import ActorExitedError
from supervisors._mailbox import Mailbox
from supervisors._reasons import KILLED, ExitReason, ExitSignal, format_traceback

__all__ = ["Figure", "Lifecycle", "Monitor"]

logger = logging.getLogger("supervisors")

Monitor = Callable[[ExitReason], None]
"""Called once with the exit reason when the actor exits.

It runs in the exiting actor's thread (or the killer's), so it must be quick
and must not block: a supervisor's monitor just tells the supervisor.
"""

Figure = int | float | str | bool
"""A value an actor can publish for status snapshots."""


class Lifecycle:
    """Start handshake, exit signalling and observable state of one actor."""

    __slots__ = (
        "_changed",
        "_done",
        "_error",
        "_monitors",
        "_reason",
        "_ref",
        "_started",
        "_tokens",
        "_traceback",
        "current",
        "exit_request",
        "figures",
        "killed",
        "mailbox",
        "trap_exits",
    )

    def __init__(self, ref: pykka.ActorRef[Any], mailbox: Mailbox) -> None:
        self._ref = ref
        self.mailbox = mailbox
        # One condition guards all of the state below and signals both the
        # start and the exit: every actor start pays for each lock it creates.
        self._changed = threading.Condition(threading.Lock())
        self._started = False
        self._done = False
        self._reason: ExitReason | None = None
        self._error: BaseException | None = None
        self._traceback: str | None = None
        self._monitors: dict[int, Monitor] = {}
        self._tokens = itertools.count()
        self.killed = False
        self.trap_exits = False
        """OTP's ``trap_exit``: a supervisor's shutdown is queued behind the mail already
        waiting instead of taking effect after the current message (see ``ExitSignal``)."""
        self.exit_request: ExitReason | None = None
        """Set when the actor should exit after its current message."""
        # Written by the actor's thread once per message, read by watchers
        # without a lock: single writer, and a stale read only delays hang
        # detection by one check.
        self.current: Envelope[Any] | None = None
        """The envelope being handled: answered if the actor dies on it, and
        the actor's heartbeat (a new one means it took a message)."""
        self.figures: Mapping[str, Figure] = {}

    # -- what observers read -------------------------------------------------

    @property
    def reason(self) -> ExitReason | None:
        """The exit reason, or None while the actor is alive."""
        return self._reason

    @property
    def error(self) -> BaseException | None:
        """The exception the actor died of, if any."""
        return self._error

    @property
    def traceback(self) -> str:
        """Traceback text of the exception the actor died of ("" if none).

        Formatted on first use, by whoever needs it (the supervisor, once the
        replacement runs), never on the dying actor's way out.
        """
        if self._traceback is None:
            error = self._error
            if error is None:
                return ""
            self._traceback = format_traceback(error)
        return self._traceback

    @property
    def mailbox_depth(self) -> int:
        """Messages waiting in the actor's mailbox."""
        return self.mailbox.qsize()

    def progress(self) -> tuple[object, bool]:
        """What a heartbeat check samples: a marker that changes whenever the actor
        takes a message, and whether mail is waiting."""
        return self.current, not self.mailbox.empty()

    def wait(self, timeout: float | None = None) -> ExitReason | None:
        """Block until the actor exited; its reason, or None on timeout."""
        with self._changed:
            self._changed.wait_for(lambda: self._done, timeout)
        return self._reason if self._done else None

    def wait_started(self) -> ExitReason | None:
        """Block until ``on_start`` returned (None) or the start failed (reason)."""
        with self._changed:
            self._changed.wait_for(lambda: self._started or self._done)
        return None if self._started else self._reason

    def monitor(self, callback: Monitor) -> int:
        """Call ``callback`` when the actor exits (now, if it already has)."""
        with self._changed:
            token = next(self._tokens)
            reason = self._reason
            if reason is None:
                self._monitors[token] = callback
                return token
        self._fire(callback, reason)
        return token

    def demonitor(self, token: int) -> None:
        """Forget a monitor; a no-op if it already fired."""
        with self._changed:
            self._monitors.pop(token, None)

    def publish(self, values: Mapping[str, Figure]) -> None:
        """Merge ``values`` into the published figures."""
        with self._changed:
            # Copy-on-write: readers take the mapping without locking.
            self.figures = {**self.figures, **values}

    # -- ending --------------------------------------------------------------

    def signal_exit(self, reason: ExitReason) -> None:
        """A supervisor's exit signal: taken after the current message, or, if the actor
        traps exits, after the mail already waiting (so e.g. a writer can drain it)."""
        if self.trap_exits:
            # An actor that died meanwhile refuses the mail: its exit is what we wanted.
            with contextlib.suppress(pykka.ActorDeadError):
                self.mailbox.put(Envelope(ExitSignal(reason)))
        else:
            self.request_exit(reason)

    def request_exit(self, reason: ExitReason) -> None:
        """Ask the actor to exit with ``reason`` after its current message."""
        with self._changed:
            if self._reason is not None or self.exit_request is not None:
                return
            self.exit_request = reason
        self.mailbox.wake()

    def kill(self, reason: ExitReason = KILLED) -> None:
        """Exit the actor now with ``reason``, abandoning its thread."""
        with self._changed:
            if self._reason is not None:
                return
            self.killed = True
            self.exit_request = reason
            self._reason = reason
        self._announce()

    def set_started(self) -> None:
        """Called by the actor's thread when ``on_start`` returned."""
        with self._changed:
            self._started = True
            self._changed.notify_all()

    def finish(self, reason: ExitReason, error: BaseException | None) -> None:
        """Called by the actor's thread as its last act: record and announce."""
        with self._changed:
            if self._reason is not None:
                # Killed meanwhile: the exit was announced, only answer what
                # this thread may have taken from the mailbox since.
                claimed = False
            else:
                claimed = True
                self._reason, self._error = reason, error
        if claimed:
            self._announce()
        else:
            self._answer(self.current)

    def _announce(self) -> None:
        reason = self._reason
        assert reason is not None
        ref = self._ref
        if not ref.actor_stopped.is_set():  # the actor's own thread did it already
            ref.actor_stopped.set()
            pykka.ActorRegistry.unregister(ref)
        with self._changed:
            monitors = list(self._monitors.values())
            self._monitors.clear()
        # Monitors first, replies last: a caller who got ActorExitedError can
        # rely on the supervisor having the exit in its mailbox already, so its
        # next call to the supervisor sees the restart done. And whoever a reply
        # wakes (``stop()`` returning, a refused request) finds ``wait(0)`` has
        # the reason: the exit is done before anyone is answered.
        for callback in monitors:
            self._fire(callback, reason)
        with self._changed:
            self._done = True
            self._changed.notify_all()
        pending = self.mailbox.close(self._refuse)
        self._answer(self.current, self._error)
        for envelope in pending:
            self._answer(envelope)

    def _fire(self, callback: Monitor, reason: ExitReason) -> None:
        try:
            callback(reason)
        except Exception:
            logger.exception("exit monitor %r of %s failed", callback, self._ref)

    def _answer(self, envelope: Envelope[Any] | None, cause: BaseException | None = None) -> None:
        """Reply to a request the actor will never handle."""
        if envelope is None or envelope.reply_to is None:
            return
        try:
            if isinstance(envelope.message, _ActorStop):
                # The stop asked for has happened.
                envelope.reply_to.set(None)
                return
            assert self._reason is not None
            error = ActorExitedError(str(self._ref), self._reason)
            error.__cause__ = cause
            envelope.reply_to.set_exception(exc_info=(ActorExitedError, error, None))
        except queue.Full:
            pass  # already answered: the actor replied before it died

    def _refuse(self, envelope: Envelope[Any]) -> None:
        """Reject an envelope sent after the mailbox closed."""
        if envelope.reply_to is None:
            assert self._reason is not None
            raise ActorExitedError(str(self._ref), self._reason)
        self._answer(envelope)
