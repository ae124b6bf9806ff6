"""Barge-in bookkeeping shared by tts and the speaker: which turns a wake word cancels.

A wake word cancels every turn the user opened before it, whatever stage the turn is at:
playing, being synthesised, or still being written by the llm. Each turn's *opening time* is
its first stage time (the wake word of a spoken turn, the end of a typed line), carried on
every `AudioOut`; audio of a turn opened before the latest barge-in's wake word is stale.

The speaker sees `WakeDetected` in its mailbox before any audio tts sends afterwards, so its
own record is enough there. tts, though, may be deep in a queue of tokens when the wake word
comes, each of which could synthesise a sentence; its mailbox is a `BargeInMailbox`, which
records the wake word on the sender's (the wake actor's) thread, so tts stops synthesising
stale sentences at once instead of after the queued ones. The message is still queued too:
tts handles it in order to tell the llm and the dialogue actor to stop.
"""

from __future__ import annotations

import threading
from typing import Any

from pykka._envelope import Envelope

from solo_actors.messages import StageTimes, WakeDetected, now
from supervisors.mailbox import Mailbox


def opened_at(times: StageTimes) -> float:
    """When the user opened the turn: its earliest stage time (now, if it has none)."""
    stamps = [getattr(times, name) for name in StageTimes.__struct_fields__]
    return min((stamp for stamp in stamps if stamp is not None), default=now())


class BargeIn:
    """The latest barge-in's wake time; written by any thread, read by the owner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.at = float("-inf")

    def record(self, wake: WakeDetected) -> None:
        with self._lock:
            self.at = max(self.at, wake.at)

    def stale(self, opened: float) -> bool:
        """A turn opened before the latest wake word: cancelled by it."""
        return opened < self.at


class BargeInMailbox(Mailbox):
    """A supervised actor's mailbox that records each `WakeDetected` as it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.barge_in = BargeIn()

    def put(self, envelope: Envelope[Any]) -> None:
        if isinstance(envelope.message, WakeDetected):
            self.barge_in.record(envelope.message)
        super().put(envelope)
