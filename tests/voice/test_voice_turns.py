"""Voice turns through the running actors: barge-in, an STT crash mid-turn, no microphone.

Each test starts llm, dialogue and the voice supervisor (test profile: the small LLM) with
replies written to WAV files, and speaks to the tree the way its own actors do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import supervisors
from solo_actors.messages import (
    AudioFrame,
    LLMDescribe,
    LLMDone,
    LLMToken,
    StageTimes,
    Transcript,
    TurnDone,
    UserTurn,
    Utterance,
    WakeDetected,
)
from solo_actors.runtime.clock import now
from solo_actors.voice.audio import SAMPLE_RATE, frames_of
from tests.conftest import wait_for
from tests.voice.conftest import Speech, VoiceRun

TIMEOUT = 60.0


def feed(samples: np.ndarray) -> None:
    """Hand frames to the wake actor as the mic's pump does (one ask per frame)."""

    for sequence, pcm in enumerate(frames_of(samples)):
        frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence)
        supervisors.ask("wake", frame, timeout=5)


def ask_by_text(run: VoiceRun, text: str) -> str:
    """Start a turn as the text source does; returns its turn id."""
    times = StageTimes(speech_end=now(), transcript=now())
    turn = UserTurn(conversation_id="c1", text=text, source="text", reply_to="tts", times=times)
    supervisors.tell("tts", Transcript(turn_id=turn.turn_id, text=text, times=times))
    supervisors.tell("dialogue", turn)
    return turn.turn_id


def test_the_wake_word_during_a_reply_stops_playback_within_200_ms(
    voice_tree: Callable[..., VoiceRun], speech: Speech
) -> None:
    run = voice_tree(realtime=True)
    turn_id = ask_by_text(run, "Tell me a long story about a dragon who lives in a castle.")
    wait_for(lambda: run.figures("speaker").get("playing") == turn_id, "playback", timeout=TIMEOUT)
    feed(speech.clip(0.2, "Jarvis.", 0.3))
    stopped = wait_for(
        lambda: run.figures("speaker").get("barge_in_stop_ms"), "playback to stop", timeout=5.0
    )
    assert stopped <= 200
    [turn] = [t for t in run.wait_turns(1, TIMEOUT) if t["turn_id"] == turn_id]
    assert turn["interrupted"] is True
    # The chime plays after the stop; its latency is published once its first sample went out.
    wait_for(
        lambda: run.figures("speaker").get("ack_latency_ms"), "the chime to play", timeout=10.0
    )


def test_the_wake_word_cancels_sentences_of_a_reply_not_yet_playing(
    voice_tree: Callable[..., VoiceRun],
) -> None:
    """Tokens already queued at tts when the wake word comes are never spoken."""
    run = voice_tree()
    times = StageTimes(speech_end=now(), transcript=now())
    reply = "The first sentence is long enough to take a while to synthesise. A second one."
    supervisors.tell("tts", Transcript(turn_id="old", text="tell me", times=times))
    # tts synthesises the first sentence while the rest of the mail queues behind it, the
    # wake word included, told in the wake actor's order.
    supervisors.tell("tts", LLMToken(request_id="r", text=reply + " ", index=0, turn_id="old"))
    wake = WakeDetected(turn_id="new", keyword="jarvis", score=1.0)
    for name in ("speaker", "tts", "vad"):
        supervisors.tell(name, wake)
    done = LLMDone.whole_text("r", reply, turn_id="old")
    supervisors.tell("tts", done)
    closing = TurnDone(
        turn_id="old", conversation_id="c1", source="text", text="tell me", reply=reply, times=times
    )
    supervisors.tell("tts", closing)
    [turn] = run.wait_turns(1, TIMEOUT)
    assert turn["turn_id"] == "old"
    assert turn["interrupted"] is True
    assert turn["file"] is None  # not one sample of it was played
    assert run.figures("tts")["sentences"] == 0
    # Exactly one Interrupt reached the llm for this barge-in: tts's. A round trip through
    # the dialogue's mailbox, then the llm's, lets any second one (a forward) land first.
    wait_for(lambda: run.figures("llm").get("interrupts"), "the llm's Interrupt", timeout=TIMEOUT)
    supervisors.ask("dialogue", "sync", timeout=TIMEOUT)
    supervisors.ask("llm", LLMDescribe(), timeout=TIMEOUT)
    assert run.figures("llm")["interrupts"] == 1


def test_an_stt_crash_mid_turn_is_answered_and_the_next_turn_works(
    voice_tree: Callable[..., VoiceRun], speech: Speech, hear: Callable[[Path], str]
) -> None:
    run = voice_tree()
    before = supervisors.whereis("stt")
    # An odd number of bytes is not int16 audio: the actor crashes inside the turn.
    broken = Utterance(
        turn_id="broken",
        pcm=b"\x01" * 1001,
        sample_rate=SAMPLE_RATE,
        times=StageTimes(wake=now(), speech_end=now()),
    )
    supervisors.tell("stt", broken)
    [failed] = run.wait_turns(1, TIMEOUT)
    assert failed["turn_id"] == "broken"
    assert "speech recognition crashed" in failed["error"]
    assert "catch" in hear(Path(failed["file"])).lower()
    after = wait_for(lambda: supervisors.whereis("stt"), "stt to restart", timeout=10.0)
    assert after is not before

    question = speech.clip(0.2, "What is the capital of France?", 0.3, steady=True)
    supervisors.tell(
        "stt",
        Utterance(
            turn_id="next",
            pcm=question.tobytes(),
            sample_rate=SAMPLE_RATE,
            times=StageTimes(wake=now(), speech_end=now()),
        ),
    )
    turns = run.wait_turns(2, TIMEOUT)
    assert turns[1]["turn_id"] == "next"
    assert "capital of france" in turns[1]["text"].lower()
    assert turns[1]["error"] is None


def test_with_no_microphone_the_tree_says_so_once_and_stays_up(
    voice_tree: Callable[..., VoiceRun],
) -> None:
    run = voice_tree(output_dir=None)
    assert run.figures("mic")["source"] == "none"
    run.turns()
    assert run.errors.count("solo: no microphone") == 1
    assert "--input FILE or --text" in run.errors
    assert all(run.refs().values())
