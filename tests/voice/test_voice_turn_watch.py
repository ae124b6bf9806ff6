"""A spoken turn swallowed by a crashed stage still gets an answer (voice/turn_watch.py).

A real tree (llm, dialogue, voice). stt is made to hang, then to crash on the next mail it
takes, while a spoken question arrives: the question's `Utterance` waits in stt's mailbox
behind the crash and dies with it, so no stage is left to answer for it. The turn watch
hears stt go down and fails the turn: the user hears the apology, and the run reports the
turn with an error that names the stage. The next question is answered as usual. The
apology is mail too: when tts dies with it, the turn is failed again. And a wake word heard
while vad is down (being restarted) is failed at once: nothing would listen for its question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import supervisors
from solo_actors.messages import AudioFrame
from solo_actors.names import STT, TTS, TURN_WATCH, VAD, VOICE, WAKE
from solo_actors.voice.audio import SAMPLE_RATE, frames_of
from tests.conftest import wait_for
from tests.voice.conftest import Speech, VoiceRun

TIMEOUT = 120.0
HANG_SECONDS = 3.0
"""stt is stuck this long: far longer than the question takes to reach its mailbox."""
TTS_HANG_SECONDS = 12.0
"""tts is stuck this long: well past the apology's arrival (stt's exit + `LOST_AFTER`, ~5 s
on an idle machine), so a slow one still sees it arrive while tts hangs."""


@pytest.fixture
def faults() -> Iterator[None]:
    supervisors.faults.enable()
    yield
    supervisors.faults.enable(False)


def say(samples: np.ndarray) -> None:
    """The question's frames to wake, as fast as it takes them."""
    for sequence, pcm in enumerate(frames_of(samples)):
        frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence)
        supervisors.ask(WAKE, frame, timeout=5)


def capital_question(speech: Speech) -> np.ndarray:
    return speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 1.0, steady=True)


def stt_swallows_the_next_question() -> None:
    """stt hangs, then crashes on the next mail it takes: a question asked now waits in its
    mailbox behind the crash and dies with it."""
    supervisors.tell(STT, supervisors.Fault("hang", seconds=HANG_SECONDS))
    supervisors.tell(STT, supervisors.Fault("raise", label="swallows the question"))


def test_a_turn_lost_with_a_crashed_stage_is_answered_with_an_apology(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path, faults: None
) -> None:
    run = voice_tree()
    question = capital_question(speech)
    stt_swallows_the_next_question()
    say(question)
    [lost] = run.wait_turns(1, TIMEOUT)
    assert lost["error"] and "the stt stage stopped" in lost["error"], lost
    assert lost["file"], "the apology was not spoken"
    # The turn watch counts the turn just after it tells tts to say the apology.
    wait_for(lambda: run.figures(TURN_WATCH).get("lost"), "the lost turn's count", timeout=TIMEOUT)
    assert run.figures(TURN_WATCH)["lost"] == 1

    say(question)
    answered = run.wait_turns(2, TIMEOUT)[1]
    assert answered["error"] is None and "paris" in answered["reply"].lower(), answered
    assert len(run.turns()) == 2, run.lines  # each turn reported once


def test_an_apology_lost_with_tts_is_said_again(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path, faults: None
) -> None:
    run = voice_tree()
    question = capital_question(speech)
    stt_swallows_the_next_question()
    # The turn watch tells tts the apology while tts hangs, behind a crash that drops it.
    supervisors.tell(TTS, supervisors.Fault("hang", seconds=TTS_HANG_SECONDS))
    supervisors.tell(TTS, supervisors.Fault("raise", label="swallows the apology"))
    say(question)
    [lost] = run.wait_turns(1, TIMEOUT)
    assert lost["error"] and "the tts stage stopped" in lost["error"], lost
    assert lost["file"], "the apology was not spoken"
    assert run.figures(TURN_WATCH)["lost"] == 1, "one turn lost, failed twice"


def test_a_wake_word_that_vad_cannot_take_is_answered_with_an_apology(
    voice_tree: Callable[..., VoiceRun], speech: Speech
) -> None:
    run = voice_tree()
    [voice] = [child.ref for child in run.root.which_children() if child.id == VOICE]
    voice.terminate_child(VAD)  # down as if between its crash and its restart
    question = capital_question(speech)
    say(question)
    [lost] = run.wait_turns(1, 30.0)
    assert lost["error"] and "the vad stage could not take" in lost["error"], lost
    assert lost["file"], "the apology was not spoken"

    voice.restart_child(VAD)
    say(question)
    answered = run.wait_turns(2, TIMEOUT)[1]
    assert answered["error"] is None and "paris" in answered["reply"].lower(), answered
