"""The inbox of a supervised actor: an unbounded queue that can be closed.

pykka's threading inbox is a plain ``queue.Queue``; when an actor dies, pykka
drains it once, so a message put between that drain and the sender noticing
the death waits for a reply forever. Closing this mailbox swaps in a reject
function *under the mailbox's lock*: every envelope sent afterwards is
rejected on the spot (an ask gets its error, a tell raises), so no request can
outlive its actor unanswered.

It implements what pykka uses of an inbox (``put``, ``get``, ``empty``) and
nothing else: many senders, one receiver, no size bound, no task accounting.
That is one lock and one condition instead of ``queue.Queue``'s three
conditions, which every actor start and every message pays for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Any, Protocol

from pykka._envelope import Envelope

__all__ = ["WAKEUP", "Mailbox", "Reject"]

WAKEUP: Envelope[Any] = Envelope(None)
"""Put to wake an actor blocked on its mailbox so it sees an exit request.

The actor loop only ever fetches it after an exit was requested, so it is
never handled as a message.
"""


class Reject(Protocol):
    """Answers an envelope that can no longer be delivered."""

    def __call__(self, envelope: Envelope[Any], /) -> None: ...


class Mailbox:
    """A pykka inbox that rejects what it is sent once closed."""

    __slots__ = ("_items", "_nonempty", "_reject")

    def __init__(self) -> None:
        self._items: deque[Envelope[Any]] = deque()
        self._nonempty = threading.Condition(threading.Lock())
        self._reject: Reject | None = None

    def put(self, envelope: Envelope[Any]) -> None:
        """Queue ``envelope``, or reject it if the mailbox is closed."""
        with self._nonempty:
            if self._reject is None:
                self._items.append(envelope)
                self._nonempty.notify()
                return
            self._reject(envelope)

    def get(self, timeout: float | None = None) -> Envelope[Any]:
        """Take the next envelope, waiting for one; ``queue.Empty`` on timeout."""
        with self._nonempty:
            items = self._items
            if timeout is None:
                while not items:
                    self._nonempty.wait()
            else:
                deadline = time.monotonic() + timeout
                while not items:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise queue.Empty
                    self._nonempty.wait(remaining)
            return items.popleft()

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

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
            pending = [envelope for envelope in self._items if envelope is not WAKEUP]
            self._items.clear()
            self._items.append(WAKEUP)
            self._nonempty.notify_all()
        return pending
