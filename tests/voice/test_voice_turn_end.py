"""End of turn from the words (voice/turn_end.py): a finished question ends at its pause,
one that stops mid-phrase waits for the rest.

The judge is checked on its own, with the rules alone and with the catalog's small model;
then through the real vad and stt actors, with Piper speech fed frame by frame at the pace
a microphone delivers it (the verdict races the silence, as it does live), and for a room's
satellite stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import supervisors
from solo_actors.config import load_config
from solo_actors.messages import AudioFrame, DetectSpeech, SpeechEnded, Transcribe, Transcribed
from solo_actors.voice.audio import FRAME_SECONDS, SAMPLE_RATE, frames_of
from solo_actors.voice.stt import turn_end_judge
from solo_actors.voice.turn_end import TurnEndJudge
from tests.conftest import wait_for
from tests.voice.conftest import Speech, VoiceRun, voice_config

TIMEOUT = 90.0


def feed_in_real_time(samples: np.ndarray) -> None:
    """Hand frames to the wake actor at the pace a microphone captures them."""
    started = time.monotonic()
    for sequence, pcm in enumerate(frames_of(samples)):
        supervisors.ask("wake", AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence),
                        timeout=5)  # fmt: skip
        time.sleep(max(0.0, started + (sequence + 1) * FRAME_SECONDS - time.monotonic()))


@pytest.fixture(scope="module")
def rules_judge() -> TurnEndJudge:
    return turn_end_judge(load_config("test", environ={"SOLO__VOICE__VAD__TURN_END_MODEL": '""'}))


@pytest.fixture(scope="module")
def model_judge() -> TurnEndJudge:
    config = load_config("test", environ={})
    assert config.voice.vad.turn_end_model, "the test profile should judge with a model"
    judge = turn_end_judge(config)
    assert judge.scorer is not None, (
        f"{config.voice.vad.turn_end_model} is not on disk: run `make setup` (models pull)"
    )
    return judge


@pytest.mark.parametrize(
    ("heard", "verdict"),
    [
        ("Set a timer for", "incomplete"),
        ("What is the capital of?", "incomplete"),
        ("Remind me to...", "incomplete"),
        ("Can you tell me?", "incomplete"),
        ("What's the", "incomplete"),
        ("What is 17 times?", "incomplete"),
        ("Um,", "incomplete"),
        ("What is the capital of France?", "complete"),
        ("Set a timer for 10 minutes.", "complete"),
        ("Who wrote Romeo and Juliet", "unsure"),
        ("", "unsure"),
    ],
)
def test_the_rules_judge_words_that_need_more(
    rules_judge: TurnEndJudge, heard: str, verdict: str
) -> None:
    assert rules_judge.verdict(heard) == verdict


def test_the_model_ends_a_question_only_where_it_is_finished(model_judge: TurnEndJudge) -> None:
    assert model_judge.verdict("What is the capital of France?") == "complete"
    assert model_judge.verdict("How many legs does a spider have?") == "complete"
    # Whisper closes a cut-off question with "?" as well: the model does not take it.
    assert model_judge.verdict("Why is the sky?") == "unsure"
    assert model_judge.verdict("Who painted?") == "unsure"
    assert model_judge.verdict("Set a timer for") == "incomplete"  # the rules come first


@pytest.mark.parametrize(
    ("heard", "verdict"),
    [
        ("What day is it", "complete"),
        ("Wake me up at 7", "complete"),
        ("How much time is left on the pasta", "complete"),
        ("Set a timer for 5 minutes and remind me to call my sister in an hour", "complete"),
        # A free-text slot that runs to the end may go on after the pause ("... at 5").
        ("Remind me to call my sister", "unsure"),
        ("Set a timer for ten", "unsure"),  # a number without its unit is no duration
    ],
)
def test_a_whole_skill_command_is_a_finished_turn(
    rules_judge: TurnEndJudge, heard: str, verdict: str
) -> None:
    assert rules_judge.verdict(heard) == verdict


def test_commands_end_where_the_model_alone_would_wait(model_judge: TurnEndJudge) -> None:
    # Reading no context, the model gives a short command low odds of being all there is.
    assert model_judge.scorer is not None
    assert model_judge.scorer.probability("what day is it") < model_judge.end_probability
    assert model_judge.verdict("What day is it?") == "complete"


def test_the_words_so_far_leave_only_the_pauses_words_to_read(
    model_judge: TurnEndJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = model_judge.scorer
    assert scorer is not None
    whole = "what is the capital of france"
    fresh = scorer.probability(whole)
    model_judge.read_ahead("An unrelated sentence.")
    read: list[int] = []
    evaluate = scorer.llama.eval
    monkeypatch.setattr(scorer.llama, "eval", lambda tokens: (read.append(len(tokens)),
                                                             evaluate(tokens))[1])  # fmt: skip
    model_judge.read_ahead("What is the capital of...")
    assert scorer.probability(whole) == pytest.approx(fresh, abs=1e-3)
    so_far = len(scorer.llama.tokenize(b"what is the capital of", add_bos=False))
    assert read == [so_far, len(scorer.llama.tokenize(whole.encode(), add_bos=False)) - so_far]
    # The same words again (a verdict asked twice) read their last token only, for its logits.
    assert scorer.probability(whole) == pytest.approx(fresh, abs=1e-3)
    assert read[-1] == 1


def test_a_finished_question_ends_at_its_pause(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    # A silence timeout longer than the silence after the question: only the words can end it.
    run = voice_tree(voice_config(tmp_path, voice__vad__silence_timeout=2.5))
    feed_in_real_time(
        speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 1.5, steady=True)
    )
    [turn] = run.wait_turns(1, TIMEOUT)
    assert "capital of france" in turn["text"].lower()
    vad = run.figures("vad")
    assert vad["ended_by_words"] == 1, vad
    assert run.figures("stt")["ahead_used"] == 1  # the pause's transcript was the turn's


def test_a_question_that_stops_mid_phrase_waits_for_the_rest(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    # The pause (1.0 s) is longer than the silence timeout: without the words' verdict the
    # turn would end at "Set a timer for".
    config = voice_config(
        tmp_path, voice__vad__silence_timeout=0.6, voice__vad__incomplete_timeout=2.5
    )
    run = voice_tree(config)
    feed_in_real_time(speech.clip(0.3, "Jarvis.", 0.25, "Set a timer for", 0.3, steady=True))
    # The verdict on the words at the pause is in vad's mailbox before the rest of the pause:
    # live, it takes stt 0.05-0.2 s, but on a loaded machine it can come after the 0.6 s of
    # silence that would end the turn without it (vad counts the silence in frames, so
    # holding the frames back meanwhile changes nothing else).
    supervisors.ask("vad", "sync", timeout=TIMEOUT)  # the pause has gone to stt ...
    supervisors.ask("stt", "sync", timeout=TIMEOUT)  # ... and its verdict to vad
    feed_in_real_time(speech.clip(0.7, "ten minutes.", 1.2, steady=True))
    [turn] = run.wait_turns(1, TIMEOUT)
    heard = turn["text"].lower()
    assert "timer for" in heard and ("10 minutes" in heard or "ten minutes" in heard), heard
    assert run.figures("vad")["waited_for_words"] >= 1


class StreamKeeper(supervisors.SupervisedActor):
    """Stands in for a room's actor: keeps what vad and stt send it."""

    def __init__(self, kept: list[object]) -> None:
        super().__init__()
        self.kept = kept

    def on_receive(self, message: object) -> None:
        if isinstance(message, SpeechEnded | Transcribed):
            self.kept.append(message)


def test_a_rooms_stream_ends_at_its_pause_by_its_words(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    """A satellite's stream (`DetectSpeech`) is endpointed like Solo's microphone: its words
    end it at the pause. The stream stops after a short silence, so nothing but the words
    can end it; the transcript made at the pause is the one stt then gives the room."""
    run = voice_tree(voice_config(tmp_path, voice__vad__silence_timeout=2.5))
    kept: list[object] = []
    keeper = StreamKeeper.start(kept)
    supervisors.default_registry.register("room-test", keeper)
    try:
        samples = speech.clip(0.3, "What is the capital of France?", 0.5, steady=True)
        for pcm in frames_of(samples):
            supervisors.tell("vad", DetectSpeech(stream_id="stream-1", pcm=pcm,
                                                 reply_to="room-test",
                                                 conversation_id="room-test"))  # fmt: skip
        wait_for(lambda: kept, "the stream to end at its pause", timeout=TIMEOUT)
        [speech_ended] = kept
        assert isinstance(speech_ended, SpeechEnded)
        assert speech_ended.stream_id == "stream-1" and speech_ended.pcm
        # vad publishes its counts just after it sends SpeechEnded.
        wait_for(
            lambda: run.figures("vad").get("utterances"),
            "vad's count of the stream",
            timeout=TIMEOUT,
        )
        assert run.figures("vad")["ended_by_words"] == 1
        supervisors.tell("stt", Transcribe(request_id="t", pcm=speech_ended.pcm,
                                           reply_to="room-test"))  # fmt: skip
        wait_for(lambda: len(kept) == 2, "the transcript", timeout=TIMEOUT)
        transcribed = kept[1]
        assert isinstance(transcribed, Transcribed)
        assert "capital of france" in transcribed.text.lower(), transcribed
        assert run.figures("stt")["ahead_used"] == 1  # the pause's transcript was the room's
    finally:
        supervisors.default_registry.unregister("room-test", keeper)
        keeper.stop()
