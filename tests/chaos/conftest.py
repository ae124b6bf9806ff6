"""Chaos fixtures: a spoken question as a WAV file (made by Piper at test time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from solo_actors.config import load_config
from tests.voice.conftest import Speech


def question_wav(folder: Path) -> Path:
    """ "Jarvis. What is the capital of France?" at 16 kHz, synthesised once per folder."""
    speech = Speech(load_config("test", environ={}), folder)
    return speech.wav(
        "question",
        lambda: speech.clip(
            0.5, "Jarvis.", 0.25, "What is the capital of France?", 1.2, steady=True
        ),
    )


@pytest.fixture(scope="session")
def spoken_question(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return question_wav(tmp_path_factory.mktemp("chaos-speech"))
