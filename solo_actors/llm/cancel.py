"""What the llm actor was told mid-reply: cancels (`LLMCancel`, `Interrupt`) and which turns
tts is speaking (`SpeechStarted`).

The llm actor's thread is busy for the whole of a generation, so those messages are urgent
mail for it (``LLMActor.urgent``): they overtake queued requests, and the generation loop
takes them once per token. Each is recorded here; a request checks the board when it starts
and after every token, so a cancel takes effect within one token, and one sent for a
request still queued is remembered until the request comes up.
"""

from __future__ import annotations

from solo_actors.messages import Interrupt, LLMCancel, LLMRequest, SpeechStarted

REMEMBERED = 256
"""Ids kept of each kind, for requests still queued when the cancel (or speech) came."""


class CancelBoard:
    """Cancels and speech starts, recorded and read by the llm actor's thread."""

    def __init__(self) -> None:
        # A dict as an insertion-ordered set: eviction is FIFO.
        self._ids: dict[str, None] = {}
        self._spoken: dict[str, None] = {}
        self._interrupts = 0

    def record(self, message: LLMCancel | Interrupt | SpeechStarted) -> None:
        if isinstance(message, SpeechStarted):
            remember(self._spoken, message.turn_id)
        elif isinstance(message, LLMCancel):
            remember(self._ids, message.request_id)
        elif message.turn_id is not None:
            remember(self._ids, message.turn_id)
        else:
            self._interrupts += 1  # "whatever is generating now"

    def speaking(self, request: LLMRequest) -> bool:
        """tts has started speaking the reply to `request`."""
        return request.turn_id is not None and request.turn_id in self._spoken

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


def remember(ids: dict[str, None], key: str) -> None:
    """Add `key` to an insertion-ordered set of at most `REMEMBERED` ids, oldest out first."""
    ids[key] = None
    if len(ids) > REMEMBERED:
        del ids[next(iter(ids))]
