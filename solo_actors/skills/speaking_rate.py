"""Speaking-rate skills: "speak slower", "talk faster", "speak normally", "how fast are you
speaking?".

The rate belongs to tts, which speaks for Solo everywhere (`solo_actors.voice.speaking_rate`).
The skills actor asks it `ChangeSpeakingRate` (within ``skills.store_timeout``) and says the
rate it answers; the reply itself is already spoken at the new rate.
"""

from __future__ import annotations

from solo_actors.messages import ChangeSpeakingRate, SpeakingRateIs
from solo_actors.names import TTS
from solo_actors.skills.builtin import Answer
from solo_actors.skills.templates import SkillMatch
from solo_actors.skills.voice_settings import ask_voice
from solo_actors.voice.speaking_rate import NORMAL, SLOWEST, STEP

INTENT_PREFIX = "speed."
CHANGES = {"speed.slower": ChangeSpeakingRate(step=-STEP),
           "speed.faster": ChangeSpeakingRate(step=STEP),
           "speed.normal": ChangeSpeakingRate(percent=NORMAL)}  # fmt: skip
"""What each intent asks of tts; any other (``speed.get``) is a question."""


def said(answer: SpeakingRateIs) -> str:
    if answer.limited:
        end = "slow" if answer.percent == SLOWEST else "fast"
        text = f"That's as {end} as I go: {answer.percent} percent of my normal speed."
    elif answer.percent == NORMAL:
        text = "I'm speaking at my normal speed."
    else:
        text = f"I'm speaking at {answer.percent} percent of my normal speed."
    if answer.remote and answer.percent != NORMAL:
        text += " My voice service keeps its own speed; this is for my own voice."
    return text


class SpeakingRateSkills:
    """The answers of the ``speed.*`` intents."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def answers(self, match: SkillMatch) -> bool:
        return match.intent.startswith(INTENT_PREFIX) and match.error is None

    def answer(self, match: SkillMatch) -> Answer:
        request = CHANGES.get(match.intent, ChangeSpeakingRate())
        return ask_voice(TTS, request, SpeakingRateIs, said, self.timeout, "my voice")
