"""The volume level itself (`solo_actors.voice.volume`): even steps in decibels, samples
untouched at the loudest, ends kept, and a level saved at each change that an unreadable
file cannot turn into a crash."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from solo_actors.messages import ChangeVolume, VolumeIs
from solo_actors.voice.volume import LOUDEST, QUIETEST, STEP_DB, Volume, gain


def test_each_step_is_the_same_number_of_decibels() -> None:
    assert gain(LOUDEST) == 1.0
    steps = [20 * math.log10(gain(level) / gain(level + 1)) for level in range(QUIETEST, LOUDEST)]
    assert all(math.isclose(step, -STEP_DB) for step in steps), steps


def test_samples_are_scaled_below_the_loudest_and_untouched_at_it(tmp_path: Path) -> None:
    volume = Volume(tmp_path / "volume.json")
    samples = np.array([0, 1000, -32768, 32767], np.int16)
    assert volume.apply(samples) is samples
    volume.change(ChangeVolume(level=4))
    scaled = volume.apply(samples)
    assert scaled.dtype == np.int16
    assert np.array_equal(scaled, np.rint(samples * gain(4)).astype(np.int16))


def test_a_change_is_kept_and_the_ends_are_said(tmp_path: Path) -> None:
    path = tmp_path / "voice" / "volume.json"
    volume = Volume(path)
    assert volume.change(ChangeVolume()) == VolumeIs(level=LOUDEST, before=LOUDEST)
    assert not path.exists(), "a question changes nothing, so nothing is written"
    assert volume.change(ChangeVolume(step=1)) == VolumeIs(level=10, before=10, limited=True)
    assert volume.change(ChangeVolume(step=-3)) == VolumeIs(level=7, before=10)
    assert volume.change(ChangeVolume(level=0)) == VolumeIs(level=1, before=7, limited=True)
    assert volume.change(ChangeVolume(level=6)) == VolumeIs(level=6, before=1)
    assert Volume(path).level == 6, "read back as a restart reads it"


def test_an_unreadable_level_plays_at_full_level(tmp_path: Path) -> None:
    path = tmp_path / "volume.json"
    for broken in ("not json", '{"level": 42}', '{"level": "loud"}', "[]"):
        path.write_text(broken)
        volume = Volume(path)
        assert volume.level == LOUDEST, broken
        assert volume.change(ChangeVolume(level=3)).level == 3  # and it can be set again
        assert Volume(path).level == 3
