"""Cancellation that does not wait in line: a thread-safe flag set by the sender's thread.

The llm actor's thread is busy for the whole of a generation, so an `LLMCancel` or
`Interrupt` queued in its mailbox would be read only after the reply it meant to stop. The
actor's mailbox is therefore a `CancelMailbox`: when one of those messages is sent (by
name, by reference, tell or ask: every send ends in ``Mailbox.put``), it is recorded on the
`CancelBoard` right there, on the sender's thread, and not queued at all. The generation
loop reads the board once per token, so a cancel takes effect within one token.
"""

from __future__ import annotations

import threading
from typing import Any

from pykka._envelope import Envelope

from solo_actors.messages import Interrupt, LLMCancel, LLMRequest
from supervisors.mailbox import Mailbox

REMEMBERED = 256
"""Cancelled request and turn ids kept, for requests still queued when the cancel came."""


class CancelBoard:
    """Cancels recorded by any thread, read by the generating one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A dict as an insertion-ordered set: `in` needs no lock, eviction is FIFO.
        self._ids: dict[str, None] = {}
        self._interrupts = 0

    def record(self, message: LLMCancel | Interrupt) -> None:
        with self._lock:
            if isinstance(message, LLMCancel):
                self._remember(message.request_id)
            elif message.turn_id is not None:
                self._remember(message.turn_id)
            else:
                self._interrupts += 1  # "whatever is generating now"

    def _remember(self, key: str) -> None:
        self._ids[key] = None
        if len(self._ids) > REMEMBERED:
            del self._ids[next(iter(self._ids))]

    @property
    def interrupts(self) -> int:
        """How many untargeted interrupts so far; a request notes it when it starts."""
        return self._interrupts

    def cancelled(self, request: LLMRequest, interrupts_at_start: int) -> bool:
        return (
            self._interrupts != interrupts_at_start
            or request.request_id in self._ids
            or (request.turn_id is not None and request.turn_id in self._ids)
        )


class CancelMailbox(Mailbox):
    """A supervised actor's mailbox that hands cancels to its board instead of queueing."""

    def __init__(self) -> None:
        super().__init__()
        self.board = CancelBoard()

    def put(self, envelope: Envelope[Any]) -> None:
        message = envelope.message
        if isinstance(message, LLMCancel | Interrupt):
            self.board.record(message)
            if envelope.reply_to is not None:
                envelope.reply_to.set(None)
            return
        super().put(envelope)
