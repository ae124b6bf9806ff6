"""``SupervisedActor``: a pykka actor that lets it crash, like a gen_server.

Plain pykka returns an exception raised while handling an ``ask`` to the
caller and keeps the actor running, and stops the actor on one raised by a
``tell``. A ``SupervisedActor`` treats both the same way, as an Erlang process
does: any unhandled exception, in any handler (``on_receive``, a proxy method
call or attribute access, ``tell`` or ``ask``), ends the actor with that
exception as its exit reason. The request being handled and every request
still queued are answered with ``ActorExitedError`` carrying the reason, and
the actor's monitors (its supervisor) are notified. An exception from
``on_start`` is a start failure.

One exception to that, chosen per message type: ``contained`` types are requests whose
handler's exception fails that request alone (``RequestFailedError`` to its asker) while
the actor goes on, for requests from outside that a client may send again and again.

Hooks: ``on_stop`` runs when the actor exits ``normal`` or ``shutdown`` (an
exception there turns the exit into a crash), ``on_failure`` when it crashed
(exceptions there are logged), neither when it was killed or failed to start.

The actor loop replaces pykka's (``Actor._actor_loop``), which is private
pykka API: this module is written against pykka 4.x.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pykka
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from supervisors._errors import RequestFailedError
from supervisors._lifecycle import Figure, Lifecycle
from supervisors._mailbox import Mailbox
from supervisors._reasons import NORMAL, ExitReason, ExitSignal
from supervisors.faults import Fault, inject

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

__all__ = ["SupervisedActor", "SupervisedRef"]

logger = logging.getLogger("supervisors")

A = TypeVar("A", bound="SupervisedActor")

ExcInfo = tuple[type[BaseException], BaseException, "TracebackType | None"]

_CONTROL = (_ActorStop, ExitSignal, Fault)
"""Messages the loop handles itself: pykka's stop, a trapped exit signal, a test's fault."""


class SupervisedRef(pykka.ActorRef[A], Generic[A]):
    """The ``ActorRef`` of a ``SupervisedActor``; also gives its exit.

    ``lifecycle`` is the actor's ``Lifecycle`` (how supervisors monitor it).
    """

    lifecycle: Lifecycle
    _lifecycle_class: ClassVar[type[Lifecycle]] = Lifecycle

    def __init__(self, actor: A) -> None:
        super().__init__(actor)
        assert isinstance(actor.actor_inbox, Mailbox)
        self.lifecycle = self._lifecycle_class(self, actor.actor_inbox)

    @property
    def pid(self) -> int | None:
        """The OS process the actor runs in (this one, unless it is isolated)."""
        return os.getpid()

    @property
    def exit_reason(self) -> ExitReason | None:
        """Why the actor exited, or None while it runs."""
        return self.lifecycle.reason

    def wait(self, timeout: float | None = None) -> ExitReason:
        """Block until the actor exits and return its reason.

        Raises ``pykka.Timeout`` if it is still running after ``timeout`` s.
        """
        reason = self.lifecycle.wait(timeout)
        if reason is None:
            raise pykka.Timeout(f"{self} still running after {timeout} s")
        return reason


HELD_POLL_S = 0.25
"""How often an actor whose timers are held looks whether they were released."""

_timers_released = threading.Event()
_timers_released.set()


def hold_timers() -> None:
    """Hold every actor's ``send_after`` timers in this process until `release_timers`.

    A hot standby's spare is "registered nowhere and getting no mail": its own timers are
    mail too. An ``on_start`` that schedules work for later (the llm reading its prompt
    ahead) would otherwise do it in the spare, on the cores the live child is using, for
    a process that may never be adopted; held, it runs when the spare takes over.
    """
    _timers_released.clear()


def release_timers() -> None:
    """Let held timers fire (those already due at once): the spare was adopted."""
    _timers_released.set()


class SupervisedActor(pykka.ThreadingActor):
    """Base class of actors that run under a supervisor.

    Subclass it as you would ``pykka.ThreadingActor``; ``start()`` returns a
    ``SupervisedRef``.
    """

    # The base class's own attributes and methods all start with ``_sv_`` so that a
    # subclass's private names (``_serve``, ``_timers`` ...) can never shadow them.

    _ref_class: ClassVar[type[SupervisedRef[Any]]] = SupervisedRef

    trap_exits: ClassVar[bool] = False
    """OTP's ``process_flag(trap_exit, true)``: when True, a supervisor's shutdown waits
    behind the mail already queued (within the child's shutdown time), so nothing sent
    before the shutdown is dropped. A writer that must drain its mailbox sets this."""

    urgent: ClassVar[tuple[type, ...]] = ()
    """Message types that take the urgent lane: they overtake every other waiting message,
    are never refused by a full mailbox, and a long handler takes them mid-work with
    ``receive_urgent()``. OTP 28's priority messages (EEP 76); for cancels and barge-in."""

    contained: ClassVar[tuple[type, ...]] = ()
    """Message types whose handler's exception fails only that request: its asker gets
    ``RequestFailedError`` (the exception as its cause), a told one is dropped, and the
    actor goes on with its state as the handler left it; the failure is logged with its
    traceback and counted in the figure ``requests_failed``. Erlang's ``handle_call`` that
    catches a request's error and answers ``{reply, {error, Reason}, State}``. For requests
    from outside (an API body) whose handler changes nothing before its last step: a client
    that finds a crash can then not use up the supervisor's restart intensity by sending
    it again. Every other message still lets it crash."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.actor_inbox, Mailbox)
        self.actor_inbox.urgent_types = self.urgent
        self._actor_ref = self._ref_class(self)
        self._sv_lifecycle = self._actor_ref.lifecycle
        self._sv_lifecycle.trap_exits = self.trap_exits
        self._sv_timers: list[tuple[float, int, Any]] = []
        self._sv_timer_seq = itertools.count()
        self._sv_requests_failed = 0

    @staticmethod
    def _create_actor_inbox() -> Mailbox:
        return Mailbox()

    @property
    def actor_ref(self) -> SupervisedRef[Self]:
        """The actor's ``SupervisedRef``."""
        return self._actor_ref  # type: ignore[return-value]  # pykka types it ActorRef

    def publish_figures(self, **values: Figure) -> None:
        """Publish figures (e.g. ``tokens_per_s=42.0``) for ``status()``.

        Thread-safe and cheap; status snapshots read the latest values without
        sending the actor a message.
        """
        self._sv_lifecycle.publish(values)

    def exit(self, reason: ExitReason) -> None:
        """Exit with ``reason`` once the current message is handled.

        OTP's ``{stop, Reason, State}``; e.g. ``self.exit(NORMAL)`` ends a
        ``transient`` child without it being restarted.
        """
        self._sv_lifecycle.request_exit(reason)

    def send_after(self, delay: float, message: Any) -> None:
        """Deliver ``message`` to this actor (as a tell) in ``delay`` seconds.

        OTP's ``erlang:send_after``. Timers live in the actor loop, not in
        extra threads, so this must be called from the actor's own thread.
        Due timers are delivered before queued mail.
        """
        deadline = time.monotonic() + delay
        heapq.heappush(self._sv_timers, (deadline, next(self._sv_timer_seq), message))

    def mail_waiting(self, match: Callable[[Any], bool]) -> bool:
        """Whether a message satisfying ``match`` waits in this actor's mailbox, untaken.

        Erlang's selective receive with a guard, that looks but leaves the message where
        it is (``receive Pattern -> ... after 0``, then putting it back): a handler can
        skip work that a newer message waiting behind it makes stale (the llm reading a
        prompt ahead while the request itself already waits). Call it from the actor's
        own thread; it holds the mailbox's lock while it scans.
        """
        return self._sv_lifecycle.mailbox.holds(match)

    def receive_urgent(self) -> int:
        """Handle the urgent mail waiting now, from inside a long handler; return how many.

        Erlang's ``receive Urgent -> ... after 0 -> ok end``, a selective receive with only
        the urgent patterns: a generation loop calls it once per token, so a cancel sent
        mid-reply takes effect within a token instead of after the reply. Each message goes
        through ``on_receive`` (or the proxy call it is) as usual, and an ask among them gets
        its reply; a handler that raises ends the actor, as anywhere else. Call it from the
        actor's own thread. Cheap when nothing is waiting: one lock-free check.
        """
        inbox = self._sv_lifecycle.mailbox
        if not inbox.has_urgent():
            return 0
        taken = inbox.take_urgent()
        for envelope in taken:
            try:
                response = self._handle_receive(envelope.message)
            except BaseException as error:
                if self._sv_failed_alone(envelope, error):
                    continue
                if envelope.reply_to is not None:
                    with contextlib.suppress(queue.Full):  # killed meanwhile: answered already
                        envelope.reply_to.set_exception()
                raise
            if envelope.reply_to is not None:
                with contextlib.suppress(queue.Full):
                    envelope.reply_to.set(response)
        return len(taken)

    # -- the actor loop ------------------------------------------------------

    def _actor_loop(self) -> None:
        try:
            self.on_start()
        except BaseException as error:
            self._sv_lifecycle.finish(ExitReason.crash(error), error)
            return
        self._sv_lifecycle.set_started()
        try:
            reason, exc_info = self._sv_serve()
        except BaseException as error:
            # A fault in the loop itself (not in a handler) still ends the actor with a
            # reason, so its supervisor always hears of the exit.
            reason, exc_info = ExitReason.crash(error), (type(error), error, error.__traceback__)
        # Refuse new mail before the hooks run, as pykka does.
        self.actor_stopped.set()
        pykka.ActorRegistry.unregister(self.actor_ref)
        self._sv_lifecycle.finish(*self._sv_exit_hooks(reason, exc_info))

    def _sv_serve(self) -> tuple[ExitReason, ExcInfo | None]:
        """Handle messages until the actor must exit; return why."""
        # The per-message path: one field store more than pykka's own loop
        # (``current``, which is also what heartbeat checks watch).
        lifecycle = self._sv_lifecycle
        get = lifecycle.mailbox.get
        timers = self._sv_timers
        handle = self._handle_receive
        while lifecycle.exit_request is None:
            envelope = self._sv_receive_timer_or_mail() if timers else get()
            lifecycle.current = envelope
            if lifecycle.exit_request is not None:
                break
            message = envelope.message
            receive: Callable[[Any], Any] = handle
            if isinstance(message, _CONTROL):
                if isinstance(message, ExitSignal):
                    return message.reason, None
                if isinstance(message, _ActorStop):
                    return NORMAL, None  # pykka's stop: replied to once on_stop ran
                receive = inject  # a Fault: fails like a handler would
            try:
                response = receive(message)
            except BaseException as error:
                if self._sv_failed_alone(envelope, error):
                    continue
                return ExitReason.crash(error), (type(error), error, error.__traceback__)
            if envelope.reply_to is not None:
                try:
                    envelope.reply_to.set(response)
                except queue.Full:
                    break  # killed while handling: the caller got ActorExitedError
        assert lifecycle.exit_request is not None
        return lifecycle.exit_request, None

    def _sv_failed_alone(self, envelope: Envelope[Any], error: BaseException) -> bool:
        """Fail a ``contained`` request alone (True), or say the actor must crash (False)."""
        request = type(envelope.message)
        if not isinstance(error, Exception) or not issubclass(request, self.contained):
            return False
        self._sv_requests_failed += 1
        self._sv_lifecycle.publish({"requests_failed": self._sv_requests_failed})
        logger.error("%s failed on a %s and goes on", self, request.__name__, exc_info=error)
        if envelope.reply_to is not None:
            failed = RequestFailedError(str(self), request.__name__, f"{type(error).__name__}: "
                                        f"{error}")  # fmt: skip
            failed.__cause__ = error
            with contextlib.suppress(queue.Full):  # killed meanwhile: answered already
                envelope.reply_to.set_exception((RequestFailedError, failed, None))
        return True

    def _sv_receive_timer_or_mail(self) -> Envelope[Any]:
        """A due timer, else the mailbox's next message (waiting for either). In a hot
        standby's spare, timers wait for its adoption (`hold_timers`)."""
        timers = self._sv_timers
        inbox = self._sv_lifecycle.mailbox
        while timers:
            if not _timers_released.is_set():
                try:
                    return inbox.get(timeout=HELD_POLL_S)
                except queue.Empty:
                    continue  # still held, or adopted just now
            remaining = timers[0][0] - time.monotonic()
            if remaining <= 0:
                return Envelope(heapq.heappop(timers)[2])
            try:
                return inbox.get(timeout=remaining)
            except queue.Empty:
                continue  # a timer is due
        return inbox.get()

    def _sv_exit_hooks(
        self, reason: ExitReason, exc_info: ExcInfo | None
    ) -> tuple[ExitReason, BaseException | None]:
        """Run ``on_failure`` or ``on_stop``; return the final reason and error."""
        if self._sv_lifecycle.killed:
            # The exit is announced already and a replacement may be running:
            # touching shared resources now could break it.
            return reason, None
        if exc_info is not None:
            try:
                self.on_failure(*exc_info)
            except Exception:
                logger.exception("on_failure of %s raised", self)
            return reason, exc_info[1]
        try:
            self.on_stop()
        except Exception as error:
            return ExitReason.crash(error), error
        return reason, None
