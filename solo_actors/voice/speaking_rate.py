"""How fast Solo speaks: a share of the voice's normal speed, from 60 to 140 percent, set by
voice ("speak slower", "talk faster", "speak normally") and kept across restarts.

tts owns it: Piper's ``length_scale`` for Solo's own speech is ``voice.tts.length_scale``
times the scale that gives the share (`LENGTH_SCALES`), so the configured speed stays what
100 percent means. Piper's speech does not lengthen in proportion to the scale (1.25 makes
it only 11 % longer), so the scales are measured, not 100 divided by the percent. It applies to
everything Solo says, here and in every room (tts speaks for them all), not to audio a
program asks for at its own speed (the API's ``/v1/audio/speech``). A remote voice
(``voice.tts.engine = "wyoming"``) speaks at its own speed; the rate then applies to the
local fallback alone, and tts says so (`SpeakingRateIs.remote`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solo_actors.config.schema import SoloConfig
from solo_actors.messages import ChangeSpeakingRate, SpeakingRateIs
from solo_actors.voice.saved_level import SavedLevel

SLOWEST = 60
FASTEST = 140
NORMAL = 100
STEP = 20
"""Percent per "slower" or "faster": a change a listener hears at once."""
LENGTH_SCALES = {60: 1.9, 80: 1.36, 100: 1.0, 120: 0.77, 140: 0.65}
"""Piper's ``length_scale`` for each speed, in percent of normal: measured with the
joe-medium voice on four sentences (the speech's length at 1.0 over its length at the
scale; each within a few percent of its row). Speeds between rows are interpolated."""


def rate_file(solo: SoloConfig) -> Path:
    """Where tts keeps the rate: ``voice/speaking_rate.json`` under ``var_dir``."""
    return solo.var_path("voice", "speaking_rate.json")


class SpeakingRate(SavedLevel):
    """The rate, in percent of the voice's normal speed (`SavedLevel`: kept in ``path``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SLOWEST, FASTEST, NORMAL, "speaking rate")

    def change(self, request: ChangeSpeakingRate, remote: bool) -> SpeakingRateIs:
        """Apply ``request`` (a percent, a step, or nothing: a question) and save it."""
        wanted = request.percent if request.percent is not None else self.level + request.step
        percent, before, limited = self.set(wanted)
        return SpeakingRateIs(percent=percent, before=before, limited=limited, remote=remote)

    def length_scale(self, normal: float) -> float:
        """Piper's ``length_scale`` at this rate, for a voice whose normal one is ``normal``."""
        speeds = sorted(LENGTH_SCALES)
        return normal * float(np.interp(self.level, speeds, [LENGTH_SCALES[p] for p in speeds]))
