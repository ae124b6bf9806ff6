"""The inbox of a supervised actor: a ``queue.Queue`` that can be closed.

pykka's threading inbox is a plain ``queue.Queue``; when an actor dies, pykka
drains it once, so a message put between that drain and the sender noticing
the death waits for a reply forever. Closing this mailbox swaps in a reject
function *under the queue's own lock*: every envelope sent afterwards is
rejected on the spot (an ask gets its error, a tell raises), so no request can
outlive its actor unanswered.
"""

from __future__ import annotations

import queue
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


class Mailbox(queue.Queue[Envelope[Any]]):
    """A pykka inbox that rejects what it is sent once closed."""

    def __init__(self) -> None:
        super().__init__()
        self._reject: Reject | None = None

    def _put(self, item: Envelope[Any]) -> None:
        # Runs under self.mutex, so it is atomic with close().
        if self._reject is None:
            self.queue.append(item)
        else:
            self._reject(item)

    def wake(self) -> None:
        """Make a blocked ``get()`` return, even when closed."""
        with self.not_empty:
            self.queue.append(WAKEUP)
            self.not_empty.notify()

    def close(self, reject: Reject) -> list[Envelope[Any]]:
        """Reject all future envelopes; return the ones still queued.

        A wake-up is left behind so a thread blocked in ``get()`` returns.
        """
        with self.not_empty:
            self._reject = reject
            pending = [envelope for envelope in self.queue if envelope is not WAKEUP]
            self.queue.clear()
            self.queue.append(WAKEUP)
            self.not_empty.notify_all()
        return pending
