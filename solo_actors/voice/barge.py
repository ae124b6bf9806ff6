"""Barge-in bookkeeping shared by tts and the speaker: which turns a wake word cancels.

A wake word cancels every turn the user opened before it, whatever stage the turn is at:
playing, being synthesised, or still being written by the llm. Each turn's *opening time* is
its first stage time (the wake word of a spoken turn, the end of a typed line), carried on
every `AudioOut`; audio of a turn opened before the latest barge-in's wake word is stale.

The speaker sees `WakeDetected` in its mailbox before any audio tts sends afterwards, so its
own record is enough there. tts, though, may be deep in a queue of tokens when the wake word
comes, each of which could synthesise a sentence; `WakeDetected` is urgent mail for tts (the
library's urgent lane), so it overtakes those tokens and is taken even mid-sentence, and tts
stops synthesising stale sentences at once instead of after the queued ones.
"""

from __future__ import annotations

from solo_actors.messages import StageTimes, WakeDetected
from solo_actors.runtime.clock import now


def opened_at(times: StageTimes) -> float:
    """When the user opened the turn: its earliest stage time (now, if it has none)."""
    stamps = [getattr(times, name) for name in StageTimes.__struct_fields__]
    return min((stamp for stamp in stamps if stamp is not None), default=now())


class BargeIn:
    """The latest barge-in's wake time, kept by the actor that owns it."""

    def __init__(self) -> None:
        self.at = float("-inf")

    def record(self, wake: WakeDetected) -> None:
        self.at = max(self.at, wake.at)

    def stale(self, opened: float) -> bool:
        """A turn opened before the latest wake word: cancelled by it."""
        return opened < self.at
