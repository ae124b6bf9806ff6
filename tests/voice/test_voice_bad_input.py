"""Bad input files: each gets a clear message, the input ends, and the tree stays up.

Convertible files (another rate, stereo, 8-bit, truncated) are converted, said so on stderr,
and answered; unreadable ones are refused with what was wrong and how to fix it; silence and
two minutes of speech end without a crash or a restart.

These tests are about the input, so replies are kept short (`SHORT_REPLY` tokens) and the
two minutes are cut at a short ``max_utterance``: Whisper never transcribes more than a few
seconds, and files are read as fast as the pipeline takes them, not in real time.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from solo_actors.config import Config
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, int16_to_float, resample
from tests.voice.conftest import Speech, VoiceRun, voice_config

TIMEOUT = 90.0
SHORT_REPLY = 12
"""llm.max_tokens here: the reply only has to exist."""


def short_replies(tmp_path: Path, **overrides: object) -> Config:
    return voice_config(tmp_path, llm__max_tokens=SHORT_REPLY, **overrides)


def write(path: Path, samples: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> Path:
    data = np.repeat(samples[:, np.newaxis], channels, axis=1).ravel()
    raw = (data // 256 + 128).astype(np.uint8).tobytes() if width == 1 else data.tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(raw)
    return path


@pytest.mark.parametrize(
    ("case", "note"),
    [
        ("44100 Hz", "resampled 44100 Hz to 16000 Hz"),
        ("stereo", "mixed 2 channels down to mono"),
        ("8-bit", "converted 8-bit samples to 16-bit"),
        ("truncated", "truncated: the header promises"),
    ],
)
def test_convertible_files_are_converted_said_and_answered(
    case: str,
    note: str,
    voice_tree: Callable[..., VoiceRun],
    speech: Speech,
    question: np.ndarray,
    tmp_path: Path,
) -> None:
    samples = question
    path = tmp_path / "in.wav"
    if case == "44100 Hz":
        write(path, float_to_int16(resample(int16_to_float(samples), SAMPLE_RATE, 44100)), 44100)
    elif case == "stereo":
        write(path, samples, SAMPLE_RATE, channels=2)
    elif case == "8-bit":
        write(path, samples, SAMPLE_RATE, width=1)
    else:
        write(path, np.concatenate([samples, speech.clip(3.0)]), SAMPLE_RATE)
        path.write_bytes(path.read_bytes()[: -2 * SAMPLE_RATE * 2])  # lose the last 2 s
    run = voice_tree(short_replies(tmp_path), input=str(path))
    refs = run.refs()
    figures = run.wait_input_finished(TIMEOUT)
    assert figures["input_problem"] == ""
    [turn] = run.turns()
    assert "capital of france" in turn["text"].lower()
    assert note in run.errors
    assert run.refs() == refs  # nothing crashed or restarted


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(range(256)) * 8, "not a readable PCM WAV"),
        (b"", "not a readable PCM WAV"),
        (b"ID3\x04\x00 an mp3 file, not a WAV", "not a readable PCM WAV"),
    ],
    ids=["corrupt", "empty", "mp3"],
)
def test_unreadable_files_are_refused_with_the_fix_and_the_tree_stays_up(
    content: bytes, problem: str, voice_tree: Callable[..., VoiceRun], tmp_path: Path
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    run = voice_tree(input=str(path))
    refs = run.refs()
    figures = run.wait_input_finished(TIMEOUT)
    assert problem in figures["input_problem"]
    assert "ffmpeg -i bad.wav -ar 16000 -ac 1" in figures["input_problem"]
    assert run.turns() == []
    assert "solo: bad input:" in run.errors
    assert run.refs() == refs and all(refs.values())


def test_silence_only_ends_quietly(voice_tree: Callable[..., VoiceRun], speech: Speech) -> None:
    path = speech.wav("silence", lambda: speech.clip(5.0))
    run = voice_tree(input=str(path))
    refs = run.refs()
    assert run.wait_input_finished(TIMEOUT)["input_problem"] == ""
    assert run.turns() == []
    assert run.figures("wake")["detections"] == 0
    assert run.refs() == refs


def test_two_minutes_of_speech_are_cut_at_the_maximum_and_answered(
    voice_tree: Callable[..., VoiceRun], speech: Speech, tmp_path: Path
) -> None:
    def two_minutes() -> np.ndarray:
        # One synthesised sentence said over and over: two minutes for the price of one.
        talk = speech.clip("I would like to tell you about my day at the market.")
        repeats = int(120 * SAMPLE_RATE / len(talk)) + 1
        return np.concatenate([speech.clip(0.3, "Jarvis.", 0.3), *[talk] * repeats])

    path = speech.wav("two-minutes", two_minutes)
    # Piper's pauses between sentences vary from run to run; a longer silence timeout keeps
    # them from ending the utterance before the maximum length does.
    config = short_replies(tmp_path, voice__vad__max_utterance=4.0, voice__vad__silence_timeout=1.5)
    run = voice_tree(config, input=str(path))
    refs = run.refs()
    assert run.wait_input_finished(TIMEOUT)["input_problem"] == ""
    [turn] = run.turns()
    assert "tell you about my day" in turn["text"].lower()
    assert turn["error"] is None and turn["file"]
    vad = run.figures("vad")
    assert vad["cut"] == 1 and vad["last_utterance_s"] <= 4.0 + 1.0  # pre-roll and tail
    assert run.figures("mic")["seconds"] >= 120
    assert run.refs() == refs
