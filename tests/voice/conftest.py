"""Voice test fixtures: speech synthesised by Piper itself, and running voice trees.

Speech clips are made at test time (different texts, speeds, noise, pauses), resampled to
16 kHz; each text is synthesised once per session and WAV files are written once, under
pytest's temporary folder, so nothing large lives in the repository. Trees are real: llm,
dialogue and the voice supervisor with every actor; models are loaded once per process
(each loader caches), so a tree per test is cheap.

Tests run llama.cpp and Whisper on one thread (`TEST_THREADS`). The suite runs on shared
2-core machines, and both libraries synchronise their threads by spinning: with more busy
threads than free cores, a 2-thread generation measured 20x slower than a 1-thread one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piper import SynthesisConfig

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.runtime.tree import root_children, root_flags
from solo_actors.voice.audio import (
    SAMPLE_RATE,
    float_to_int16,
    resample,
    write_wav,
)
from solo_actors.voice.options import RunOptions
from solo_actors.voice.stt import load_whisper, transcribe, whisper_folder
from solo_actors.voice.tts import load_voice, voice_path
from tests.conftest import config_environment, wait_for

TREE_CHILDREN = ("llm", "dialogue", "voice")
"""The part of the root tree a voice turn goes through."""

TEST_THREADS = {"llm.n_threads": 1, "voice.stt.threads": 1}
"""Thread counts for the tests (see the module docstring); also the e2e child's variables."""


class Speech:
    """Makes 16 kHz int16 speech clips with the catalog's Piper voice."""

    def __init__(self, config: Config, folder: Path) -> None:
        self.voice = load_voice(voice_path(config), config.voice.tts.threads)
        self.rate = self.voice.config.sample_rate
        self.folder = folder
        self.said: dict[tuple[str, float, bool], np.ndarray] = {}

    def say(self, text: str, speed: float = 1.0, steady: bool = False) -> np.ndarray:
        """Float speech at 16 kHz; `speed` > 1 talks faster. Synthesised once per session.

        Piper samples its speech (unseeded noise in the model), so each session says a text
        a little differently; `steady` turns that noise off, for a test whose point is not
        the recogniser's luck on one rendition."""
        key = (text, speed, steady)
        if key not in self.said:
            noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if steady else {}
            settings = SynthesisConfig(length_scale=1.0 / speed, **noise)
            chunks = [chunk.audio_float_array for chunk in self.voice.synthesize(text, settings)]
            self.said[key] = resample(np.concatenate(chunks), self.rate, SAMPLE_RATE)
        return self.said[key]

    @staticmethod
    def pause(seconds: float) -> np.ndarray:
        return np.zeros(int(SAMPLE_RATE * seconds), np.float32)

    def clip(
        self, *parts: str | float, speed: float = 1.0, noise: float = 0.0, steady: bool = False
    ) -> np.ndarray:
        """Texts and pauses (seconds) in a row, with white noise at `noise` RMS; int16."""
        audio = np.concatenate(
            [self.pause(p) if isinstance(p, float) else self.say(p, speed, steady) for p in parts]
        )
        if noise:
            audio = audio + np.random.default_rng(7).normal(0, noise, len(audio))
        return float_to_int16(audio)

    def wav(self, name: str, make: Callable[[], np.ndarray]) -> Path:
        """The session's WAV file `name`, made by `make` the first time it is asked for."""
        path = self.folder / f"{name}.wav"
        if not path.exists():
            write_wav(path, make(), SAMPLE_RATE)
        return path


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@pytest.fixture(scope="session")
def speech(session_dir: Path) -> Speech:
    return Speech(load_config("test", environ={}), session_dir)


@pytest.fixture(scope="session")
def question(speech: Speech) -> np.ndarray:
    """ "Jarvis, what is the capital of France?" with a natural pause after the name, said
    the same way every time: Whisper tiny hears "friends" in about one Piper rendition of
    "France" in twelve, and the tests that ask it are about the pipeline, not that."""
    return speech.clip(0.5, "Jarvis.", 0.25, "What is the capital of France?", 1.2, steady=True)


@pytest.fixture(scope="session")
def question_wav(speech: Speech, question: np.ndarray) -> Path:
    return speech.wav("question", lambda: question)


@pytest.fixture(scope="session")
def hear() -> Callable[[Path], str]:
    """Transcribe a WAV file (any rate) with the same Whisper model the stt actor uses."""
    from solo_actors.voice.audio import read_wav

    config = load_config("test", environ={})
    # The stt actor's model object (same cache key): loaded once, and never used by both at
    # once, since a reply is heard after its turn is done.
    model = load_whisper(whisper_folder(config), TEST_THREADS["voice.stt.threads"])

    def text_of(path: Path) -> str:
        samples = read_wav(path).samples
        return transcribe(model, samples.tobytes(), "en", 1)

    return text_of


def voice_config(tmp_path: Path, profile: str = "test", **overrides: object) -> Config:
    """The test profile with `TEST_THREADS` and `overrides` (``voice__vad__max_utterance=4``)."""
    dotted = {key.replace("__", "."): value for key, value in overrides.items()}
    return load_config(
        profile, environ=config_environment(tmp_path / "var", {**TEST_THREADS, **dotted})
    )


class VoiceRun:
    """A running tree (llm, dialogue, voice) and what it printed."""

    def __init__(self, root: supervisors.SupervisorRef, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        self.lines: list[dict[str, Any]] = []
        self.errors = ""

    def figures(self, name: str) -> dict[str, Any]:
        ref = supervisors.whereis(name)
        return dict(ref.lifecycle.figures) if ref is not None else {}

    def turns(self) -> list[dict[str, Any]]:
        """The JSON lines the speaker printed so far, one per finished turn."""
        out, errors = self.capsys.readouterr()
        self.errors += errors
        self.lines += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return self.lines

    def wait_turns(self, count: int, timeout: float) -> list[dict[str, Any]]:
        return wait_for(lambda: len(self.turns()) >= count and self.lines, "turns", timeout=timeout)

    def wait_input_finished(self, timeout: float) -> dict[str, Any]:
        return wait_for(
            lambda: self.figures("speaker").get("input_finished") and self.figures("speaker"),
            "the input to be answered",
            timeout=timeout,
        )

    def refs(self) -> dict[str, Any]:
        names = ("mic", "wake", "vad", "stt", "tts", "speaker")
        return {name: supervisors.whereis(name) for name in names}


@pytest.fixture
def voice_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., VoiceRun]]:
    """Start the voice turn's part of the tree with given options; stopped after the test."""
    roots: list[supervisors.SupervisorRef] = []

    def start(config: Config | None = None, **options: Any) -> VoiceRun:
        config = config or voice_config(tmp_path)
        options.setdefault("output_dir", str(tmp_path / "out"))
        children = [
            spec
            for spec in root_children(config, RunOptions(**options))
            if spec.id in TREE_CHILDREN
        ]
        root = supervisors.start_supervisor(root_flags(config), children, name="solo")
        roots.append(root)
        return VoiceRun(root, capsys)

    yield start
    for root in roots:
        with contextlib.suppress(Exception):
            root.stop()
