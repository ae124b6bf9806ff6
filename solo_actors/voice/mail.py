"""Sending by registered name, and closing a voice turn that failed early.

Voice actors tell each other by name (`supervisors.tell`), never by stored reference, so a
restarted actor is found again. A receiver that is down (being restarted) is not the
sender's problem: its supervisor reports it, and the sender logs and carries on.

A turn the dialogue actor never saw (no speech recognised, STT crashed mid-turn) still owes
the user an answer: `fail_turn` tells tts a `TurnDone` with the error; tts speaks its
``reply`` and passes it to the speaker, which reports it like any other turn.
"""

from __future__ import annotations

from typing import Any

import supervisors
from solo_actors.messages import StageTimes, TurnDone, TurnSource
from solo_actors.names import TTS, VOICE
from solo_actors.runtime.logs import get_logger

log = get_logger(f"solo/{VOICE}")


def send(name: str, message: Any) -> bool:
    """Tell `name` the message; False (logged) if nothing runs under that name just now, or
    its mailbox is full."""
    outcome = supervisors.cast(name, message)
    if outcome != "ok":
        log.warning("not delivered", receiver=name, message=type(message).__name__, why=outcome)
    return outcome == "ok"


def fail_turn(
    turn_id: str,
    conversation_id: str,
    error: str,
    reply: str,
    times: StageTimes,
    source: TurnSource = "voice",
    text: str = "",
) -> bool:
    """Tell tts the failed turn; False if tts is not running to take it just now."""
    done = TurnDone(
        turn_id=turn_id,
        conversation_id=conversation_id,
        source=source,
        text=text,
        reply=reply,
        times=times,
        error=error,
    )
    return send(TTS, done)
