"""The speaking rate itself (`solo_actors.voice.speaking_rate`): steps, ends kept, the rate
read back as a restart reads it, an unreadable file taken as normal, and Piper's scale
slower for every slower rate."""

from __future__ import annotations

from pathlib import Path

from solo_actors.messages import ChangeSpeakingRate, SpeakingRateIs
from solo_actors.voice.speaking_rate import FASTEST, NORMAL, SLOWEST, STEP, SpeakingRate


def test_a_change_is_kept_and_the_ends_are_said(tmp_path: Path) -> None:
    path = tmp_path / "voice" / "speaking_rate.json"
    rate = SpeakingRate(path)
    asked = rate.change(ChangeSpeakingRate(), remote=False)
    assert asked == SpeakingRateIs(percent=NORMAL, before=NORMAL)
    assert rate.change(ChangeSpeakingRate(step=-STEP), remote=True) == SpeakingRateIs(
        percent=80, before=NORMAL, remote=True
    )
    assert rate.change(ChangeSpeakingRate(step=-STEP * 3), remote=False) == SpeakingRateIs(
        percent=SLOWEST, before=80, limited=True
    )
    assert SpeakingRate(path).level == SLOWEST, "read back as a restart reads it"
    assert rate.change(ChangeSpeakingRate(percent=500), remote=False).percent == FASTEST


def test_every_slower_rate_has_a_longer_scale(tmp_path: Path) -> None:
    rate = SpeakingRate(tmp_path / "rate.json")
    scales = []
    for percent in range(SLOWEST, FASTEST + 1, 10):
        rate.change(ChangeSpeakingRate(percent=percent), remote=False)
        scales.append(rate.length_scale(1.0))
    assert scales == sorted(scales, reverse=True) and len(set(scales)) == len(scales)
    rate.change(ChangeSpeakingRate(percent=NORMAL), remote=False)
    assert rate.length_scale(1.2) == 1.2, "the configured scale is what normal means"


def test_an_unreadable_rate_is_normal(tmp_path: Path) -> None:
    path = tmp_path / "rate.json"
    path.write_text('{"level": "fast"}')
    assert SpeakingRate(path).level == NORMAL


def test_a_rate_another_process_set_is_read_when_it_changed(tmp_path: Path) -> None:
    """A hot standby's spare read the rate at its start; set since by the tts process it
    stands in for, the spare reads it again when it next speaks."""
    path = tmp_path / "rate.json"
    spare, live = SpeakingRate(path), SpeakingRate(path)
    assert spare.refresh() is False, "nothing changed since it was read"
    live.change(ChangeSpeakingRate(percent=120), remote=False)
    assert live.refresh() is False, "its own write is no change"
    assert spare.refresh() is True and spare.level == 120
    assert spare.refresh() is False
