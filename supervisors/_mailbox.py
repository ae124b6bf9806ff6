"""The inbox of a supervised actor: a queue that can be closed, and bounded.

pykka's threading inbox is a plain ``queue.Queue``; when an actor dies, pykka
drains it once, so a message put between that drain and the sender noticing
the death waits for a reply forever. Closing this mailbox swaps in a reject
function *under the mailbox's lock*: every envelope sent afterwards is
rejected on the spot (an ask gets its error, a tell raises), so no request can
outlive its actor unanswered.

It implements what pykka uses of an inbox (``put``, ``get``, ``empty``) and
nothing else: many senders, one receiver, no task accounting. That is one
lock and one condition instead of ``queue.Queue``'s three conditions, which
every actor start and every message pays for.

Overload: a mailbox is unbounded unless its child spec gives it a
``MailboxLimit``. Past the limit's capacity a sender never blocks (an actor
sending to a busy actor must not stall, nor may an audio callback); instead
the policy decides who loses, and ``overflow`` counts it:

* ``reject``: the new message is refused. An ask gets ``BusyError`` (naming
  the actor and its depth), a tell raises it in the sender. For request
  handlers (a model, a dialogue) where a caller can try again or say so.
* ``drop_oldest``: the oldest waiting message is dropped to make room (an ask
  among the dropped gets ``BusyError``). For streams such as audio frames,
  where the newest data is worth the most.

Control messages (pykka's stop, a supervisor's exit signal, a monitor's ``Down``) are
never refused or dropped: a busy actor must still be stoppable, and must still hear that
an actor it waits on died.

Urgent lane: messages of the types in ``urgent_types`` (an actor's ``urgent`` class
attribute) wait in a lane of their own, taken before any other mail and never refused or
dropped, and a handler can take them mid-work (``take_urgent``). OTP 28's priority
messages (EEP 76) put such mail ahead of the queue the same way.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

import msgspec
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from supervisors._reasons import Down, ExitSignal

__all__ = ["WAKEUP", "BusyError", "Mailbox", "MailboxLimit", "OverflowPolicy", "Reject"]

WAKEUP: Envelope[Any] = Envelope(None)
"""Put to wake an actor blocked on its mailbox so it sees an exit request.

The actor loop only ever fetches it after an exit was requested, so it is
never handled as a message.
"""

OverflowPolicy = Literal["reject", "drop_oldest"]


class MailboxLimit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How many messages may wait in a child's mailbox, and who loses past that."""

    capacity: int
    policy: OverflowPolicy = "reject"

    def __post_init__(self) -> None:
        if not (isinstance(self.capacity, int) and self.capacity >= 1):
            raise ValueError(f"mailbox capacity must be an int >= 1, got {self.capacity!r}")
        if self.policy not in ("reject", "drop_oldest"):
            raise ValueError(f"bad mailbox policy {self.policy!r}: reject or drop_oldest")


class BusyError(Exception):
    """The actor's mailbox is full: this message was refused (or dropped, if oldest).

    Not a ``pykka.ActorDeadError``: the actor is alive and the message may be sent again
    later, so a caller must be able to tell "busy, try again" from "not running". Use
    ``cast`` for a tell that reports either without raising.
    """

    def __init__(self, actor: str, depth: int, policy: OverflowPolicy) -> None:
        what = "refused" if policy == "reject" else "dropped as the oldest waiting"
        super().__init__(
            f"{actor} is busy: {depth} messages waiting, its mailbox limit; "
            f"this message was {what} (try again later)"
        )
        self.actor = actor
        self.depth = depth
        self.policy = policy


class Reject(Protocol):
    """Answers an envelope that can no longer be delivered."""

    def __call__(self, envelope: Envelope[Any], /) -> None: ...


def _is_control(envelope: Envelope[Any]) -> bool:
    return envelope is WAKEUP or isinstance(envelope.message, _ActorStop | ExitSignal | Down)


class Mailbox:
    """A pykka inbox that rejects what it is sent once closed, and past its limit."""

    __slots__ = (
        "_items",
        "_limit",
        "_nonempty",
        "_owner",
        "_reject",
        "_urgent",
        "overflow",
        "urgent_types",
    )

    def __init__(self) -> None:
        self._items: deque[Envelope[Any]] = deque()
        self._urgent: deque[Envelope[Any]] = deque()
        self.urgent_types: tuple[type, ...] = ()
        """Message types that take the urgent lane (set before the actor gets mail)."""
        self._nonempty = threading.Condition(threading.Lock())
        self._reject: Reject | None = None
        self._limit: MailboxLimit | None = None
        self._owner = "actor"
        self.overflow = 0
        """Messages refused or dropped by the limit's policy since the actor started."""

    @property
    def limit(self) -> MailboxLimit | None:
        return self._limit

    def set_limit(self, limit: MailboxLimit | None, owner: str) -> None:
        """Bound the mailbox (None: unbounded); ``owner`` names the actor in errors."""
        with self._nonempty:
            self._limit = limit
            self._owner = owner

    def put(self, envelope: Envelope[Any]) -> None:
        """Queue ``envelope``; reject it if closed; apply the limit's policy if full."""
        with self._nonempty:
            if self._reject is not None:
                self._reject(envelope)
                return
            if self.urgent_types and isinstance(envelope.message, self.urgent_types):
                self._urgent.append(envelope)
                self._nonempty.notify()
                return
            items, limit = self._items, self._limit
            if limit is None or len(items) < limit.capacity or _is_control(envelope):
                items.append(envelope)
                self._nonempty.notify()
                return
            loser = envelope if limit.policy == "reject" else self._drop_oldest(envelope)
            if loser is None:
                return
            self.overflow += 1
            error = BusyError(self._owner, len(items), limit.policy)
        if loser.reply_to is not None:
            loser.reply_to.set_exception(exc_info=(BusyError, error, None))
        elif loser is envelope:
            raise error  # a refused tell: its sender hears of it

    def _drop_oldest(self, envelope: Envelope[Any]) -> Envelope[Any] | None:
        """Make room for ``envelope`` by dropping the oldest droppable message."""
        items = self._items
        for index, waiting in enumerate(items):
            if not _is_control(waiting):
                del items[index]
                items.append(envelope)
                return waiting
        items.append(envelope)  # nothing but control mail waits: keep it all
        self._nonempty.notify()
        return None

    def get(self, timeout: float | None = None) -> Envelope[Any]:
        """Take the next envelope, urgent ones first, waiting for one; ``queue.Empty`` on
        timeout."""
        with self._nonempty:
            items, urgent = self._items, self._urgent
            if timeout is None:
                while not items and not urgent:
                    self._nonempty.wait()
            else:
                deadline = time.monotonic() + timeout
                while not items and not urgent:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise queue.Empty
                    self._nonempty.wait(remaining)
            return urgent.popleft() if urgent else items.popleft()

    def has_urgent(self) -> bool:
        """True when urgent mail waits; lock-free, cheap enough to call once per token."""
        return bool(self._urgent)

    def take_urgent(self) -> list[Envelope[Any]]:
        """Take every urgent envelope waiting, in the order sent."""
        with self._nonempty:
            taken = list(self._urgent)
            self._urgent.clear()
        return taken

    def holds(self, match: Callable[[Any], bool]) -> bool:
        """True when a waiting message (not yet taken) satisfies ``match``."""
        with self._nonempty:
            return any(
                envelope is not WAKEUP and match(envelope.message)
                for lane in (self._urgent, self._items)
                for envelope in lane
            )

    def empty(self) -> bool:
        return not self._items and not self._urgent

    def qsize(self) -> int:
        return len(self._items) + len(self._urgent)

    def wake(self) -> None:
        """Make a blocked ``get()`` return, even when closed."""
        with self._nonempty:
            self._items.append(WAKEUP)
            self._nonempty.notify()

    def close(self, reject: Reject) -> list[Envelope[Any]]:
        """Reject all future envelopes; return the ones still queued.

        A wake-up is left behind so a thread blocked in ``get()`` returns.
        """
        with self._nonempty:
            self._reject = reject
            pending = [*self._urgent]
            pending += [envelope for envelope in self._items if envelope is not WAKEUP]
            self._urgent.clear()
            self._items.clear()
            self._items.append(WAKEUP)
            self._nonempty.notify_all()
        return pending
