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
import pytest
from msgspec.structs import replace

import supervisors
from solo_actors.config import load_config
from solo_actors.messages import AudioFrame, FollowUp
from solo_actors.voice.audio import FRAME_SECONDS, SAMPLE_RATE, frames_of
from solo_actors.voice.stt import wake_word_pattern, without_wake_word
from solo_actors.voice.wake_engines import spoken_wake_phrases
from tests.voice.conftest import Speech, VoiceRun, voice_config

TIMEOUT = 120.0


class Microphone:
    """Feeds the wake actor (or `listener`) at a microphone's pace, one frame at a time."""

    def __init__(self, listener: str = "wake") -> None:
        self.listener = listener
        self.sequence = 0
        self.next_at = time.monotonic()

    def frame(self, pcm: bytes) -> None:
        frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=self.sequence)
        supervisors.ask(self.listener, frame, timeout=5)
        self.sequence += 1
        self.next_at += FRAME_SECONDS
        time.sleep(max(0.0, self.next_at - time.monotonic()))

    def say(self, samples: np.ndarray) -> None:
        for pcm in frames_of(samples):
            self.frame(pcm)

    def hold_until_handled(self, name: str) -> None:
        """Hold the next frame back until `name` has handled the mail it has so far (the
        actors count silence in frames, so for them no time passes), then go on."""
        supervisors.ask(name, "sync", timeout=TIMEOUT)
        self.next_at = time.monotonic()

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
    # Past the window, speech without the wake word is not a question: once vad has taken
    # every frame of it (and the silence after it, which would have ended one), it has
    # heard no utterance but the first question's.
    mic.say(speech.clip(0.2, "What is the capital of Spain?", 1.0, steady=True))
    mic.hold_until_handled("vad")
    vad = run.figures("vad")
    assert vad["utterances"] == 1 and vad["follow_ups_heard"] == 0, vad
    assert len(run.turns()) == 1, run.lines


def test_the_wake_word_heard_in_a_follow_up_window_is_no_question(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    """The next question's "Jarvis" falls in the follow-up window: vad hears it as speech.
    Here the frames go to vad alone, so the wake engine misses it (as it can): the name
    must neither be answered as a question nor stay in the one that follows it."""
    config = voice_config(tmp_path, voice__vad__follow_up=3.0)
    run = voice_tree(config, realtime=True)
    mic = Microphone(listener="vad")
    supervisors.tell("vad", FollowUp(after_turn="an earlier reply"))
    # The name, then more silence than silence_timeout (0.4 s): no question yet.
    mic.say(speech.clip(0.3, "Jarvis.", steady=True))
    mic.silence_until(
        lambda: run.figures("stt").get("wake_word_only") or run.turns(), TIMEOUT, "the name's turn"
    )
    assert not run.turns(), f"the wake word alone was answered as a question: {run.lines}"
    supervisors.tell("vad", FollowUp(after_turn="an earlier reply"))
    # The name, a pause longer than silence_timeout, and the question: one turn, the question.
    # stt's verdict on the name alone (wait for more) reaches vad before the pause's frames
    # do: live it takes 0.05-0.15 s of the 0.28 s there are, which a loaded machine can
    # exceed, and vad would then end the turn at the name and miss the question.
    mic.say(speech.clip(0.3, "Jarvis.", 0.2, steady=True))
    mic.hold_until_handled("stt")
    mic.say(speech.clip(0.5, "What is the capital of Spain?", 0.2, steady=True))
    mic.silence_until(lambda: run.turns(), TIMEOUT, "the question's answer")
    (turn,) = run.turns()
    assert "spain" in turn["text"].lower() and "jarvis" not in turn["text"].lower(), turn
    assert run.figures("stt")["wake_word_only"] == 1


@pytest.mark.parametrize(
    ("heard", "question"),
    [
        ("Jarvis.", ""),
        ("Jarvis, what time is it?", "What time is it?"),
        ("jarvis... what time is it?", "What time is it?"),
        ("Hey, Jarvis! What time is it?", "What time is it?"),
        (
            "Jarvis is a character in Iron Man. Who voices him?",
            "Jarvis is a character in Iron Man. Who voices him?",
        ),
        ("What does Jarvis stand for?", "What does Jarvis stand for?"),
        ("Computer, what time is it?", "Computer, what time is it?"),
    ],
)
def test_the_wake_word_said_before_a_question_is_not_part_of_it(heard: str, question: str) -> None:
    wake_word = wake_word_pattern(("jarvis", "hey jarvis"))
    assert without_wake_word(heard, wake_word) == question


def test_the_wake_word_is_the_one_each_engine_listens_for() -> None:
    wake = load_config("test", environ={}).voice.wake
    assert spoken_wake_phrases(replace(wake, engine="porcupine", keyword="jarvis")) == ("jarvis",)
    openwakeword = replace(wake, engine="openwakeword", model="models/hey_mycroft_v0.1.onnx")
    assert spoken_wake_phrases(openwakeword) == ("hey mycroft",)
    remote = replace(wake.remote, model="ok_nabu", local_engine="openwakeword")
    wyoming = replace(wake, engine="wyoming", model="hey_jarvis", remote=remote)
    assert spoken_wake_phrases(wyoming) == ("ok nabu", "hey jarvis")
