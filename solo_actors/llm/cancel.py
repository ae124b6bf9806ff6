"""Which requests are cancelled: the llm actor's record of `LLMCancel` and `Interrupt`.

The llm actor's thread is busy for the whole of a generation, so those messages are urgent
mail for it (``LLMActor.urgent``): they overtake queued requests, and the generation loop
takes them once per token. Each is recorded here; a request checks the board when it starts
and after every token, so a cancel takes effect within one token, and one sent for a
request still queued is remembered until the request comes up.
"""

from __future__ import annotations

from solo_actors.messages import Interrupt, LLMCancel, LLMRequest

REMEMBERED = 256
"""Cancelled request and turn ids kept, for requests still queued when the cancel came."""


class CancelBoard:
    """Cancels recorded and read by the llm actor's thread."""

    def __init__(self) -> None:
        # A dict as an insertion-ordered set: eviction is FIFO.
        self._ids: dict[str, None] = {}
        self._interrupts = 0

    def record(self, message: LLMCancel | Interrupt) -> None:
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
