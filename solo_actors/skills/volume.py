"""Volume skills: "turn it up", "quieter", "volume 4", "set the volume to 70 percent",
"maximum volume", "what is the volume?".

The level belongs to what plays (`solo_actors.voice.volume`): the speaker for a turn asked
here, the room's satellite actor for a turn asked in a room. The skills actor asks it
`ChangeVolume` (within ``skills.store_timeout``) and says the level it answers; the reply
itself is already played at the new level.
"""

from __future__ import annotations

from solo_actors.messages import ChangeVolume, VolumeIs
from solo_actors.names import SPEAKER
from solo_actors.rooms import room_name
from solo_actors.skills.builtin import Answer, refuse
from solo_actors.skills.templates import SkillMatch
from solo_actors.skills.voice_settings import ask_voice
from solo_actors.voice.volume import LOUDEST, QUIETEST

INTENT_PREFIX = "volume."
PERCENT_PER_LEVEL = 10
CHANGES = {"volume.up": ChangeVolume(step=1), "volume.down": ChangeVolume(step=-1),
           "volume.loudest": ChangeVolume(level=LOUDEST),
           "volume.quietest": ChangeVolume(level=QUIETEST)}  # fmt: skip
"""What each intent without a number asks of the output."""


def change_asked(match: SkillMatch) -> ChangeVolume:
    """What ``match`` asks of the output; `ValueError`, in words to say, for a level that
    no volume has. A number up to 10 is a level, a larger one a percentage."""
    slots = match.slots
    if "percent" in slots or "level" in slots:
        said = float(slots.get("percent", slots.get("level", 0)))
        percent = "percent" in slots or said > LOUDEST
        if not 0 <= said <= (100 if percent else LOUDEST):
            raise ValueError(f"The volume goes from {QUIETEST} to {LOUDEST}, or up to 100 "
                             "percent.")  # fmt: skip
        return ChangeVolume(level=round(said / PERCENT_PER_LEVEL) if percent else round(said))
    return CHANGES.get(match.intent, ChangeVolume())  # volume.get: a question


def said(answer: VolumeIs) -> str:
    if not answer.limited:
        return f"Volume {answer.level}."
    if answer.level == LOUDEST:
        return f"Volume {LOUDEST}: that's as loud as I go."
    return f"Volume {QUIETEST}: that's as quiet as I go. Say stop to silence me."


class VolumeSkills:
    """The answers of the ``volume.*`` intents."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def answers(self, match: SkillMatch) -> bool:
        return match.intent.startswith(INTENT_PREFIX) and match.error is None

    def answer(self, match: SkillMatch, room: str | None) -> Answer:
        try:
            request = change_asked(match)
        except ValueError as error:
            return refuse(str(error))
        if room:
            return ask_voice(room_name(room), request, VolumeIs, said, self.timeout,
                             f"the {room} satellite")  # fmt: skip
        return ask_voice(SPEAKER, request, VolumeIs, said, self.timeout, "the speaker")
