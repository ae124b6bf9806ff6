"""A spoken skill turn, end to end, with no language model in the tree at all: "Jarvis, set
a timer for 3 seconds" (Piper) is heard, answered by the skills actor and spoken; then the
timer fires and its line is spoken, after a chime, and printed as a turn of its own (source
"skills")."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
import pytest

import supervisors
from solo_actors.runtime.tree import root_children, root_flags
from solo_actors.voice.audio import SAMPLE_RATE, read_wav
from solo_actors.voice.options import RunOptions
from tests.voice.conftest import Speech, VoiceRun, voice_config

SKILL_TREE = ("store", "skills", "dialogue", "voice")
"""A voice turn's part of the tree, with skills and no llm: a skill turn needs none."""


def first_pitch(path: Path) -> float:
    """The strongest frequency of a WAV file's first 50 ms, in Hz."""
    samples = read_wav(path).samples[: SAMPLE_RATE // 20].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[spectrum.argmax()])


def test_a_spoken_timer_is_set_without_the_llm_and_fires(
    speech: Speech, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = speech.wav("timer", lambda: speech.clip(
        0.5, "Jarvis.", 0.25, "Set a timer for 3 seconds.", 1.2, steady=True
    ))  # fmt: skip
    config = voice_config(tmp_path, skills__ring_for=0)
    options = RunOptions(input=str(wav), output_dir=str(tmp_path / "out"))
    children = [spec for spec in root_children(config, options) if spec.id in SKILL_TREE]
    root = supervisors.start_supervisor(root_flags(config), children, name="solo")
    run = VoiceRun(root, capsys)
    try:
        set_turn, *_ = run.wait_turns(1, timeout=120)
        answered_at = time.monotonic()
        assert "timer" in set_turn["text"].lower() and set_turn["error"] is None
        assert set_turn["reply"] == "Timer set for 3 seconds."
        assert Path(set_turn["file"]).exists()  # spoken
        stages = set_turn["seconds_after_speech_end"]
        assert stages["first_audio"] < 1.5, stages  # no llm: the bench measures the median
        fired = run.wait_turns(2, timeout=30)[1]
        assert fired["source"] == "skills" and fired["reply"] == "Your 3 second timer is done."
        assert first_pitch(Path(fired["file"])) == pytest.approx(880, abs=20)  # a chime first
        assert time.monotonic() - answered_at < 6
    finally:
        with contextlib.suppress(Exception):
            root.stop()
