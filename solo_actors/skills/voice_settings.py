"""Asking the actor that owns a voice setting (the volume, the speaking rate) to change it,
as skills do: one ask, and words for every way it can fail, so the user always hears why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import supervisors
from solo_actors.messages import Message
from solo_actors.skills.builtin import Answer, refuse

Answered = TypeVar("Answered", bound=Message)


def ask_voice(
    owner: str,
    request: Message,
    answered: type[Answered],
    say: Callable[[Answered], str],
    timeout: float,
    who: str,
) -> Answer:
    """Ask ``owner`` (a registered name) ``request`` and say its ``answered`` reply; ``who``
    names it in a refusal ("the speaker", "the kitchen satellite")."""
    try:
        answer: Any = supervisors.ask(owner, request, timeout=timeout)
    except supervisors.UNANSWERED:
        return refuse(f"Sorry, I can't reach {who} right now.")
    if not isinstance(answer, answered):
        return refuse(f"Sorry, {who} did not answer that.")
    return Answer(say(answer))
