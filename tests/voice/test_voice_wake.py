"""The wake word: fires on the keyword said many ways, stays quiet on words that sound like it.

The engine is the one the wake actor creates from the default config (pvporcupine 1.9.5,
built-in "jarvis"), fed 32 ms frames of Piper speech exactly as the actor is.
"""

from __future__ import annotations

import numpy as np
import pytest

from solo_actors.config import load_config
from solo_actors.config.schema import WakeConfig
from solo_actors.voice.audio import frames_of
from solo_actors.voice.wake import WakeConfigError, create_porcupine
from tests.voice.conftest import Speech

POSITIVE = [
    (("Jarvis.",), 1.0, 0.0),
    (("Jarvis.",), 0.8, 0.0),
    (("Jarvis.",), 1.25, 0.0),
    (("Jarvis, what time is it?",), 1.0, 0.0),
    (("Hey Jarvis.",), 1.0, 0.0),
    (("Okay.", 0.4, "Jarvis, turn on the lights."), 1.0, 0.0),
    (("Jarvis.",), 1.0, 0.01),
    (("Jarvis, play some music.",), 0.9, 0.02),
    (("Jarvis!",), 1.1, 0.005),
    (("Good morning, Jarvis.",), 1.0, 0.01),
]
NEGATIVE = (
    "Travis went to the service garage. Mavis and Marcus are nervous. "
    "The harvest was jarring, and Charles drives a jar of jam to Paris."
)


def detections(engine: object, samples: np.ndarray) -> int:
    pcm = (np.frombuffer(frame, np.int16) for frame in frames_of(samples))
    return sum(engine.process(frame) >= 0 for frame in pcm)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def engine() -> object:
    handle = create_porcupine(load_config("test", environ={}).voice.wake)
    yield handle
    handle.delete()


def test_fires_on_at_least_90_percent_of_spoken_variants(engine: object, speech: Speech) -> None:
    fired = [
        detections(engine, speech.clip(0.3, *parts, 0.5, speed=speed, noise=noise)) > 0
        for parts, speed, noise in POSITIVE
    ]
    assert sum(fired) / len(fired) >= 0.9, fired


def test_does_not_fire_on_similar_words(engine: object, speech: Speech) -> None:
    assert detections(engine, speech.clip(0.3, NEGATIVE, 0.5)) == 0
    assert detections(engine, speech.clip(0.3, NEGATIVE, 0.5, speed=1.2, noise=0.01)) == 0


def test_a_configured_access_key_needs_pvporcupine_3() -> None:
    settings = WakeConfig(
        engine="porcupine", keyword="jarvis", sensitivity=0.5, access_key="abc", ack="tone"
    )
    with pytest.raises(WakeConfigError, match=r"pvporcupine >= 3.*access_key = \"\""):
        create_porcupine(settings)


def test_an_unknown_keyword_names_the_choices() -> None:
    settings = WakeConfig(
        engine="porcupine", keyword="hal", sensitivity=0.5, access_key="", ack="tone"
    )
    with pytest.raises(WakeConfigError, match=r"not a built-in keyword.*jarvis"):
        create_porcupine(settings)
