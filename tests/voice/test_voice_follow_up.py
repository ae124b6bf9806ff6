"""Continued conversation: after a spoken reply, a follow-up question needs no wake word.

A real tree (llm, dialogue, voice) plays its replies on the real-time clock, as a sound card
would, while Piper speech and silence are fed frame by frame at a microphone's pace. Speech
while the reply plays (what a microphone picks up of Solo's own voice) is not taken for a
question: vad listens only once the reply and its echo have ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import supervisors
from solo_actors.messages import AudioFrame
from solo_actors.voice.audio import FRAME_SECONDS, SAMPLE_RATE, frames_of
from tests.voice.conftest import Speech, VoiceRun, voice_config

TIMEOUT = 120.0


class Microphone:
    """Feeds the wake actor at a microphone's pace, one frame at a time."""

    def __init__(self) -> None:
        self.sequence = 0
        self.next_at = time.monotonic()

    def frame(self, pcm: bytes) -> None:
        frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=self.sequence)
        supervisors.ask("wake", frame, timeout=5)
        self.sequence += 1
        self.next_at += FRAME_SECONDS
        time.sleep(max(0.0, self.next_at - time.monotonic()))

    def say(self, samples: np.ndarray) -> None:
        for pcm in frames_of(samples):
            self.frame(pcm)

    def silence_until(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        silence = bytes(int(SAMPLE_RATE * FRAME_SECONDS) * 2)
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
            self.frame(silence)


def test_a_follow_up_question_needs_no_wake_word(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    config = voice_config(tmp_path, voice__vad__follow_up=3.0, voice__vad__follow_up_after=0.3)
    run = voice_tree(config, realtime=True)
    mic = Microphone()
    mic.say(speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 0.2, steady=True))
    mic.silence_until(lambda: run.figures("speaker").get("playing"), TIMEOUT, "the reply to play")
    # The microphone hears speech while the reply plays (Solo's own voice, in a room): no
    # wake word, and vad is not listening yet, so it is no question.
    mic.say(speech.clip("The capital of France is Paris.", steady=True))
    mic.silence_until(lambda: run.figures("vad").get("follow_ups"), TIMEOUT, "follow-up listening")
    assert len(run.turns()) == 1, run.lines  # the first turn, and nothing from the echo
    mic.say(speech.clip(0.2, "What is the capital of Spain?", 0.2, steady=True))
    mic.silence_until(lambda: len(run.turns()) >= 2, TIMEOUT, "the follow-up's answer")
    first, second = run.lines[:2]
    assert "france" in first["text"].lower() and "spain" in second["text"].lower(), run.lines
    assert run.figures("wake")["detections"] == 1  # the follow-up had no wake word
    vad = run.figures("vad")
    assert vad["follow_ups_heard"] == 1, vad


def test_the_follow_up_window_closes_without_speech(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    config = voice_config(tmp_path, voice__vad__follow_up=1.0, voice__vad__follow_up_after=0.3)
    run = voice_tree(config, realtime=True)
    mic = Microphone()
    mic.say(speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 0.2, steady=True))
    mic.silence_until(lambda: run.figures("vad").get("follow_ups"), TIMEOUT, "follow-up listening")
    mic.silence_until(lambda: run.figures("vad").get("no_speech"), 10, "the window to close")
    # Past the window, speech without the wake word is not a question.
    mic.say(speech.clip(0.2, "What is the capital of Spain?", 1.0, steady=True))
    time.sleep(1.0)
    assert len(run.turns()) == 1, run.lines
