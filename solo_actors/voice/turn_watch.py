"""The turn-watch actor: a spoken turn that a crash swallowed still gets an answer.

Each voice stage answers for the turn it is handling when it crashes (its ``on_failure``
fails that turn). What no stage can answer for is mail that died with it: a turn's
`WakeDetected`, `Utterance`, `UserTurn` or `TurnDone` still queued in the mailbox of an
actor that crashed, or anything inside an isolated process that was killed. As in Erlang,
mail to a process that dies is gone; the caller learns of it through a monitor. This actor
is that caller for every spoken turn.

It keeps the ledger of open spoken turns: opened by a `WakeDetected` (from wake, or vad's
follow-up listening), marked by vad's `TurnHeard` when the question goes to stt, closed by
the speaker's finished `TurnDone` or vad's `TurnAbandoned` (no question came). It monitors
each stage a spoken turn passes through (vad, stt, dialogue, tts, speaker;
`supervisors.monitor`). When vad exits, the turns it was still listening to may be lost;
when a later stage exits, the turns already heard. Those opened before the exit and still
open ``LOST_AFTER`` seconds later are failed with an error that names the stage: tts speaks
the apology and the speaker reports it like any other turn. The wait lets the crashed
stage's own, more precise error arrive first; the speaker reports a turn once, so an answer
that does come later is not reported twice.

A turn opened after a stage's exit can still lose its mail to it, while the stage is being
restarted: its sender finds no one under the name and tells this actor a `TurnMailLost`,
and the turn is failed at once.

A failed turn stays in the ledger until the speaker reports it: the apology is mail too, and
it dies with tts or the speaker if either exits before the turn is reported. Such a turn is
failed again after that exit, and only after one of those two, so that the user does not
hear the apology twice.
"""

from __future__ import annotations

from typing import Any

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    Message,
    StageTimes,
    TurnAbandoned,
    TurnDone,
    TurnHeard,
    TurnMailLost,
    WakeDetected,
)
from solo_actors.names import DIALOGUE_NAME, SPEAKER, STT, TTS, TURN_WATCH, VAD
from solo_actors.runtime.clock import now
from solo_actors.runtime.logs import get_logger
from solo_actors.voice.mail import fail_turn
from solo_actors.voice.options import RunOptions

STAGES = (VAD, STT, DIALOGUE_NAME, TTS, SPEAKER)
"""The actors a spoken turn's mail passes through, in order."""

APOLOGY_STAGES = (TTS, SPEAKER)
"""The actors a failed turn's apology passes through (`fail_turn` tells tts)."""

LOST_AFTER = 2.0
"""Seconds after a stage's exit before the turns it may have swallowed are failed: long
enough for the stage's own error (its ``on_failure``) to arrive first, short enough that the
user is not left waiting."""

MAX_OPEN = 64
"""Open turns kept at most; more would mean ends that never arrive, not a real backlog."""

REWATCH_AFTER = 0.05
"""Seconds before monitoring a stage again after it exited: a restart takes milliseconds."""

REWATCH_MAX = 2.0
"""The longest wait between tries while a stage is not running (doubled from
`REWATCH_AFTER` at each try): a tree without it (no dialogue in a voice-only run) is not
polled 20 times a second."""


class CheckLost(Message, frozen=True):
    """To itself: fail the turns opened before ``stage`` exited that are still open."""

    stage: str
    exited_at: float
    reason: str


class Rewatch(Message, frozen=True):
    """To itself: monitor ``stage`` again (its new incarnation); ``waited`` before this try."""

    stage: str
    waited: float = REWATCH_AFTER


class TurnWatchActor(supervisors.SupervisedActor):
    """Fails spoken turns lost with a crashed stage; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.error_reply = config.dialogue.error_reply
        self.options = options
        self.log = get_logger(f"solo/voice/{TURN_WATCH}")
        self.open: dict[str, WakeDetected] = {}
        self.heard: set[str] = set()
        self.failed: dict[str, float] = {}
        """Turns already failed, and when tts was told: open until the speaker reports them."""
        self.watching: dict[supervisors.MonitorRef, str] = {}
        self.waited: dict[str, float] = {}
        """Per stage, the wait before the try now running (grows while it is down)."""
        self.counts = {"turns": 0, "lost": 0}

    def on_start(self) -> None:
        for stage in STAGES:
            self.watch(stage)

    def on_receive(self, message: Any) -> Any:
        match message:
            case WakeDetected():
                if len(self.open) >= MAX_OPEN:  # a turn whose end never came: forget it
                    self.close(next(iter(self.open)))
                self.open[message.turn_id] = message
                self.counts["turns"] += 1
            case TurnHeard():
                if message.turn_id in self.open:
                    self.heard.add(message.turn_id)
            case TurnDone() | TurnAbandoned():
                self.close(message.turn_id)
            case supervisors.Down():
                self.on_stage_down(message)
            case Rewatch():
                self.waited[message.stage] = message.waited
                self.watch(message.stage)
            case CheckLost():
                self.fail_lost(message)
            case TurnMailLost():
                self.fail_undelivered(message)
            case _:
                return super().on_receive(message)
        return None

    def close(self, turn_id: str) -> None:
        self.open.pop(turn_id, None)
        self.heard.discard(turn_id)
        self.failed.pop(turn_id, None)

    def watch(self, stage: str) -> None:
        self.watching[supervisors.monitor(stage, self.actor_ref)] = stage

    def on_stage_down(self, down: supervisors.Down) -> None:
        stage = self.watching.pop(down.ref, None)
        if stage is None:
            return
        if down.reason == supervisors.NOPROC:
            # Not running when asked: its exit, if any, was heard already; ask again later.
            wait = min(self.waited.get(stage, REWATCH_AFTER) * 2, REWATCH_MAX)
            self.send_after(wait, Rewatch(stage=stage, waited=wait))
            return
        self.send_after(REWATCH_AFTER, Rewatch(stage=stage))
        if self.open:
            self.send_after(
                LOST_AFTER, CheckLost(stage=stage, exited_at=now(), reason=str(down.reason))
            )

    def fail_lost(self, check: CheckLost) -> None:
        lost = [wake for wake in self.open.values() if self.lost_with(wake.turn_id, check)]
        for wake in lost:
            error = (
                f"the {check.stage} stage stopped while this turn was on its way "
                f"({check.reason}); ask again"
            )
            if not self.fail(wake, check.stage, error):
                self.send_after(LOST_AFTER, check)
                return

    def fail_undelivered(self, lost: TurnMailLost) -> None:
        wake = self.open.get(lost.turn_id)
        if wake is None or lost.turn_id in self.failed:
            return  # answered, abandoned or failed already
        error = (
            f"the {lost.receiver} stage could not take this turn's {lost.message} (being "
            "restarted, or busy); ask again"
        )
        if not self.fail(wake, lost.receiver, error):
            self.send_after(LOST_AFTER, lost)

    def fail(self, wake: WakeDetected, stage: str, error: str) -> bool:
        """Tell tts the failed turn; False if tts is restarting too (try again later)."""
        told = fail_turn(
            wake.turn_id, self.options.conversation_id, error, self.error_reply,
            StageTimes(wake=wake.at),
        )  # fmt: skip
        if told:
            if wake.turn_id not in self.failed:
                self.counts["lost"] += 1
            self.failed[wake.turn_id] = now()
            self.log.warning("spoken turn lost", turn_id=wake.turn_id, stage=stage)
            self.publish_figures(**self.counts)
        return told

    def lost_with(self, turn_id: str, check: CheckLost) -> bool:
        """Whether the exit ``check`` names may have swallowed the open turn's mail."""
        failed_at = self.failed.get(turn_id)
        if failed_at is not None:  # only its apology is on its way
            return check.stage in APOLOGY_STAGES and failed_at < check.exited_at
        if self.open[turn_id].at >= check.exited_at:
            return False
        # vad holds the turns it is listening to; every later stage, turns already heard.
        return (turn_id in self.heard) == (check.stage != VAD)
