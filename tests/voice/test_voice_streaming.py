"""Time to answer: the transcript and the llm's prompt made at a pause, Whisper's shortened
window, the first clause.

Real models throughout: the questions are Piper speech fed to the wake actor frame by frame
(as the mic's pump does), so vad finds the pauses and the endpoint itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import supervisors
from solo_actors.config import REPO_ROOT, load_config
from solo_actors.messages import LLMDone, LLMToken, StageTimes, Transcript, TurnDone
from solo_actors.runtime.clock import now
from solo_actors.skills.hook import fits_whole
from solo_actors.skills.templates import load_matcher
from solo_actors.voice.audio import int16_to_float
from solo_actors.voice.spoken_text import first_chunk, sentences
from solo_actors.voice.stt import (
    before_repeat,
    load_whisper,
    preferred,
    repeating,
    said_once,
    transcribe,
    transcribe_window,
    whisper_folder,
)
from solo_actors.voice.tts import speakable
from tests.conftest import wait_for
from tests.voice.conftest import TEST_THREADS, Speech, VoiceRun, voice_config
from tests.voice.test_voice_turns import feed

TIMEOUT = 90.0


def request_figures(run: VoiceRun) -> dict[str, Any]:
    """The llm's figures once they count the turn's request: it publishes them just after
    it sends its LLMDone, so the turn can be reported (its last sentence said) first."""
    return wait_for(
        lambda: run.figures("llm").get("requests") and run.figures("llm"),
        "the llm's figures of the request",
        timeout=TIMEOUT,
    )


def test_a_question_is_transcribed_at_its_pause_and_that_text_is_used(
    voice_tree: Callable[..., VoiceRun], speech: Speech
) -> None:
    run = voice_tree()
    feed(speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 1.0, steady=True))
    [turn] = run.wait_turns(1, TIMEOUT)
    assert "capital of france" in turn["text"].lower()
    stt = run.figures("stt")
    assert stt["ahead"] >= 1
    assert stt["ahead_used"] == 1  # the endpoint's utterance was the one heard at the pause
    # The question lasts about 1.8 s: its first second was transcribed while it was said.
    assert stt["partials"] >= 1
    # ... and the llm read that turn's prompt while the user spoke and then was silent: at
    # the endpoint nothing was left (the first token is sampled from the read's logits),
    # or, when the turn came as the pause's read-ahead was taken up, that read-ahead was
    # skipped and the request read what the partial had not.
    llm = request_figures(run)
    assert llm["prefills"] >= 1 and llm["prefill_tokens"] > 1
    assert llm["prompt_eval_tokens"] == 0 or llm["prefills_skipped"] >= 1, llm
    assert llm["prompt_eval_tokens"] < llm["prompt_tokens"], llm  # most was read ahead


def test_partial_every_0_transcribes_at_pauses_only(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    run = voice_tree(voice_config(tmp_path, voice__vad__partial_every=0))
    feed(speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 1.0, steady=True))
    [turn] = run.wait_turns(1, TIMEOUT)
    assert "capital of france" in turn["text"].lower()
    assert run.figures("stt")["partials"] == 0
    llm = request_figures(run)
    # Read at the pause alone, or, when the turn's request already waited behind that
    # read-ahead (its words ended the turn at once), left to the request.
    assert llm["prompt_eval_tokens"] == 0 or llm["prefills_skipped"] == 1, llm


def test_words_after_a_pause_are_not_lost(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    """A pause longer than the one that starts a transcription but shorter than the silence
    timeout: the early text is not the answer, the whole question is transcribed again."""
    config = voice_config(tmp_path, voice__vad__silence_timeout=0.8)
    run = voice_tree(config)
    feed(
        speech.clip(
            0.3,
            "Jarvis.",
            0.25,
            "What is the capital of France,",
            0.45,
            "and of Spain?",
            1.2,
            steady=True,
        )
    )
    [turn] = run.wait_turns(1, TIMEOUT)
    heard = turn["text"].lower()
    assert "capital of france" in heard and "spain" in heard, heard
    stt = run.figures("stt")
    assert stt["ahead"] >= 2  # one at each pause
    assert stt["ahead_used"] == 1  # ... and the last one was the utterance


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "How many legs does a spider have?",
        "How many hours are in a day?",
        "Jarvis. What is the largest planet in our solar system?",
    ],
)
def test_the_short_window_hears_what_the_full_one_hears(speech: Speech, text: str) -> None:
    config = load_config("test", environ={})
    model = load_whisper(whisper_folder(config), TEST_THREADS["voice.stt.threads"])
    pcm = speech.clip(0.3, text, 0.2, noise=0.005).tobytes()
    assert config.voice.stt.window < 30.0
    short = words_of(transcribe(model, pcm, "en", 1, window=config.voice.stt.window))
    full = words_of(transcribe(model, pcm, "en", 1, window=30.0))
    # Piper samples its speech (no seed), so Whisper tiny may hear "the" for "a" on one
    # run's audio: a word either way, never a repeat or a cut.
    assert words_apart(short, words_of(text)) <= 1, short
    assert words_apart(full, words_of(text)) <= 1, full
    assert words_apart(short, full) <= 1, (short, full)


def words_of(text: str) -> list[str]:
    return [word.strip(".,?!").lower() for word in text.split()]


def words_apart(heard: list[str], said: list[str]) -> int:
    """Word edit distance: insertions, deletions and substitutions."""
    row = list(range(len(said) + 1))
    for i, word in enumerate(heard, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(said, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def test_a_repeating_transcript_is_recognised() -> None:
    assert repeating("What is the capital of France? " * 8)
    # Seen with a short window: the question twice and a half, cut at the length bound.
    assert repeating("What is the capital of France? What is the capital of France? What is")
    # Seen with a 6 s window: the question started over, not repeated back to back.
    assert repeating(
        "Turn off the lights in the kitchen and lock the front door. "
        "Turn off the lights in the kitchen and lock the front"
    )
    assert not repeating("Turn off the lights in the kitchen and turn on the lights outside.")
    # Started over at the end, fewer words than a long run.
    assert repeating("What is the capital of France? What is the")
    assert not repeating("I want to go home and I want to sleep.")
    assert not repeating("What is the capital of France?")
    assert not repeating("Is it raining, is it?")
    assert not repeating("Very, very good.")
    assert not repeating("")


@pytest.mark.parametrize(
    ("decoded", "transcript"),
    [
        (
            "What is the capital of France? What is the capital of France?",
            "What is the capital of France?",
        ),
        ("What is the capital of France? What is the", "What is the capital of France?"),
        (
            "Turn off the lights in the kitchen and lock the front door. Turn off the lights "
            "in the kitchen and lock the front",
            "Turn off the lights in the kitchen and lock the front door.",
        ),
        ("Very, very good.", "Very, very good."),
    ],
)
def test_a_short_windows_retelling_is_cut_off(decoded: str, transcript: str) -> None:
    assert before_repeat(decoded) == transcript


@pytest.mark.parametrize(
    ("so_far", "chunk", "rest"),
    [
        # A new phrase after three words or more: cut before it, spoken as a phrase.
        ("The capital of France is", "The capital of France,", "is"),
        ("There are 7 days in a", "There are 7 days,", "in a"),
        # Line breaks before the first word end no sentence.
        ("\n\nThe capital of France is", "\n\nThe capital of France,", "is"),
        # ... but a sentence already written whole is said whole.
        ("The capital of France is Paris. It", "The capital of France is Paris.", "It"),
        # Too few words before it, or a word no phrase ends with: wait.
        ("A spider has four", "", "A spider has four"),
        ("A fruit that is", "", "A fruit that is"),
        ("I think it is", "", "I think it is"),
        ("The capital of France isn", "", "The capital of France isn"),
        # The first sentence, as soon as its full stop is written (not after a digit).
        ("A spider has eight legs.", "A spider has eight legs.", ""),
        ("Sure! The", "Sure!", "The"),
        ("It costs 3.", "", "It costs 3."),
        # A long enough first clause.
        ("Yes, Paris is the capital of France, and", "Yes, Paris is the capital of France,", "and"),
        ("Yes, it", "", "Yes, it"),
    ],
)
def test_the_first_chunk_of_a_reply_is_cut_as_early_as_it_sounds_whole(
    so_far: str, chunk: str, rest: str
) -> None:
    assert first_chunk(so_far) == (chunk, rest)


def test_markdown_is_not_read_out_and_a_product_is_said_with_times() -> None:
    # The 1.5B answered "what is 5 factorial" with "120: 5 * 4 * 3 * 2 * 1.": Piper had
    # been given "5 4 3 2 1".
    assert speakable("5 factorial is 120: 5 * 4 * 3 * 2 * 1.") == (
        "5 factorial is 120: 5 times 4 times 3 times 2 times 1."
    )
    assert speakable("**Tip:** 3\u00d74 is `12`") == "Tip: 3 times 4 is 12"
    assert speakable("* eggs\n* milk") == "eggs milk"
    # "15 euros plus 20 percent" had been worked in LaTeX.
    assert speakable("20% of 15 euros: \\( 15 \\times 0.20 = 3 \\) euros") == (
        "20% of 15 euros: 15 times 0.20 = 3 euros"
    )


def test_sentences_after_the_first_chunk_wait_for_their_space() -> None:
    assert sentences("is Paris. It is") == (["is Paris."], "It is")
    assert sentences("costs 3.") == ([], "costs 3.")


def test_tts_speaks_the_first_clause_before_the_sentence_ends(
    voice_tree: Callable[..., VoiceRun],
) -> None:
    run = voice_tree()
    times = StageTimes(speech_end=now(), transcript=now())
    supervisors.tell("tts", Transcript(turn_id="t", text="where", times=times))
    supervisors.tell(
        "tts",
        LLMToken(request_id="r", text="The capital of France, of course, ", index=0, turn_id="t"),
    )
    # The sentence is not finished, yet its first clause is already audio.
    wait_for(lambda: run.figures("tts").get("sentences"), "the first clause", timeout=TIMEOUT)
    rest = "is Paris."
    supervisors.tell("tts", LLMToken(request_id="r", text=rest, index=1, turn_id="t"))
    supervisors.tell("tts", LLMDone.whole_text("r", "x", turn_id="t"))
    reply = "The capital of France, of course, is Paris."
    supervisors.tell(
        "tts",
        TurnDone(
            turn_id="t", conversation_id="c", source="text", text="where", reply=reply, times=times
        ),
    )
    [turn] = run.wait_turns(1, TIMEOUT)
    assert turn["file"] and run.figures("tts")["sentences"] == 2


def test_a_hypothesis_that_fits_a_command_wins_over_a_best_that_fits_none() -> None:
    fits = partial(fits_whole, load_matcher(REPO_ROOT / "config" / "skills"))
    # Whisper tiny's two beams for Piper saying "how many cups are in a litre".
    beams = ["How many cups are in a later?", "How many cups are in a liter?"]
    assert preferred(beams, fits) == "How many cups are in a liter?"
    assert preferred(beams, None) == beams[0]
    # The best fitting a command stays, whatever the others are.
    assert preferred(["Set a timer for 5 minutes.", "Set a timer for 50 minutes."], fits) == (
        "Set a timer for 5 minutes."
    )
    # An alternative that fits only by giving its words to a free-text slot proves nothing.
    assert preferred(["Remind me what you said.", "Remind me to do what you said."], fits) == (
        "Remind me what you said."
    )
    assert preferred(["What is a linked list?", "What is a link list?"], fits) == (
        "What is a linked list?"
    )


def test_a_short_command_heard_twice_is_the_command_said_once() -> None:
    fits = partial(fits_whole, load_matcher(REPO_ROOT / "config" / "skills"))
    # What the short window made of Piper and Flite saying these once.
    assert preferred(["Cancel. Cancel."], fits) == "Cancel."
    assert preferred(["snooze snooze"], fits) == "snooze"
    assert preferred(["Forget it. Forget it."], fits) == "Forget it."
    assert preferred(["Slow down Slow down", "Slow down, slow."], fits) == "Slow down"
    # The best's own phrase comes before the next beam's command.
    assert preferred(["Stop, stop.", "Cancel."], fits) == "Stop"
    # Said twice on purpose, and no command either way: as heard.
    assert preferred(["Knock knock."], fits) == "Knock knock."
    assert preferred(["Very, very good."], fits) == "Very, very good."
    assert said_once("cancel the cancel") is None
    assert said_once("the timer the timer the timer") is None
    assert said_once("Cancel") is None


def test_each_hypothesis_and_its_phrase_said_once_are_asked_once_best_first() -> None:
    asked: list[str] = []

    def none_fits(text: str) -> bool:
        asked.append(text)
        return False

    assert preferred(["stop stop", "top stop", "stop. Stop."], none_fits) == "stop stop"
    assert asked == ["stop stop", "stop", "top stop", "stop. Stop.", "stop."]


def test_the_beams_hypotheses_are_offered_best_first(speech: Speech) -> None:
    config = load_config("test", environ={})
    model = load_whisper(whisper_folder(config), TEST_THREADS["voice.stt.threads"])
    pcm = speech.clip(0.3, "How many cups are in a litre?", 0.5, steady=True).tobytes()
    window = config.voice.stt.window
    beams = transcribe_window(model, int16_to_float(pcm), "en", 2, window, hypotheses=2)
    assert len(beams) == 2 and all(beams), beams
    # Judged on one decode's own beams, not against another decode's text: two runs of a
    # model need not agree to the letter on another CPU.
    offered: list[str] = []

    def second_only(text: str) -> bool:
        offered.append(text)
        return len(offered) == 2

    chosen = transcribe(model, pcm, "en", 2, window, prefer=second_only)
    assert len(offered) == 2, offered  # the best was asked first, then the other beam
    assert chosen == offered[1]
