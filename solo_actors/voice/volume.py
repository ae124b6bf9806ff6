"""How loud Solo speaks: a level from 1 to 10, set by voice ("turn it down", "volume 4") or
over the API, and kept across restarts.

Each place that plays Solo's voice has its own level: the speaker (this machine's sound
card) and each room's satellite (the audio Solo streams to it). The one that plays owns
the level: it answers `ChangeVolume` and scales its samples as they go out, so a level
never waits on another actor and a restart of the speaker reads it back from its file.
Level 10 plays the samples as synthesised; each step down is `STEP_DB` quieter, so the
steps sound even (loudness is heard in decibels, not amplitude). Silence is "stop", not a
level: a reply at level 0 could not say that it was.

A reply written to a file (``--output-dir``) is not scaled: the file keeps the voice as
synthesised, and the level is only how loud it is played.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solo_actors.config.schema import SoloConfig
from solo_actors.messages import ChangeVolume, VolumeIs
from solo_actors.voice.saved_level import SavedLevel

LOUDEST = 10
QUIETEST = 1
STEP_DB = 3.0
"""Each level below the loudest is 3 dB quieter: level 1 is 27 dB down, a whisper."""


def gain(level: int) -> float:
    """The amplitude factor of ``level``."""
    return float(10 ** (-STEP_DB * (LOUDEST - level) / 20))


def volume_file(solo: SoloConfig, room: str | None = None) -> Path:
    """Where an output keeps its level: ``voice/volume.json`` under ``var_dir`` for the
    speaker, ``rooms/<room>/volume.json`` for a room's satellite."""
    return (
        solo.var_path("rooms", room, "volume.json")
        if room
        else solo.var_path("voice", "volume.json")
    )


class Volume(SavedLevel):
    """One output's level (`SavedLevel`: kept in ``path``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, QUIETEST, LOUDEST, LOUDEST, "volume")

    def change(self, request: ChangeVolume) -> VolumeIs:
        """Apply ``request`` (a level, a step, or nothing: a question) and save the result."""
        wanted = request.level if request.level is not None else self.level + request.step
        level, before, limited = self.set(wanted)
        return VolumeIs(level=level, before=before, limited=limited)

    def apply(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` (int16) at this level; untouched at the loudest."""
        if self.level >= LOUDEST:
            return samples
        return np.rint(samples * gain(self.level)).astype(np.int16)  # a gain <= 1 never clips
