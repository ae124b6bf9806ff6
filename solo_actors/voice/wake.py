"""The wake actor: listens for the wake word in every frame and opens a turn when it hears it.

Porcupine runs on each 32 ms frame (about 1% of one core). On a detection the actor gives the
turn its id and tells `WakeDetected` to the speaker (stop any reply being played: barge-in;
play the acknowledgement), to tts (cancel the reply being generated) and to vad (listen for
the question). Every frame is passed on to vad, which keeps its own pre-roll.

Engines: pvporcupine 1.9.5's keyless built-in keywords by default; pvporcupine >= 3 when
``voice.wake.access_key`` is set (it validates the key online once, so it is opt-in).
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np

import supervisors
from solo_actors.config import Config
from solo_actors.config.schema import WakeConfig
from solo_actors.logs import get_logger
from solo_actors.messages import AudioFrame, InputEnded, WakeDetected, new_id, now
from solo_actors.voice import SPEAKER, TTS, VAD, WAKE
from solo_actors.voice.mail import send


class WakeConfigError(ValueError):
    """A wake-word setting that cannot work; the message says which and how to fix it."""


def create_porcupine(settings: WakeConfig) -> Any:
    """A Porcupine handle for the configured keyword, or a `WakeConfigError`."""
    import pvporcupine

    installed = version("pvporcupine")
    major = int(installed.split(".")[0])
    if settings.keyword not in pvporcupine.KEYWORDS:
        known = ", ".join(sorted(pvporcupine.KEYWORDS))
        raise WakeConfigError(
            f"voice.wake.keyword {settings.keyword!r} is not a built-in keyword; "
            f"pick one of {known}"
        )
    options: dict[str, Any] = {
        "keywords": [settings.keyword],
        "sensitivities": [settings.sensitivity],
    }
    if settings.access_key:
        if major < 3:
            raise WakeConfigError(
                f"voice.wake.access_key is set, which needs pvporcupine >= 3 (installed: "
                f"{installed}); install it with `pip install 'pvporcupine>=3'` or set "
                'access_key = "" to use the keyless built-in keywords'
            )
        options["access_key"] = settings.access_key
    elif major >= 3:
        raise WakeConfigError(
            f"pvporcupine {installed} needs voice.wake.access_key (a Picovoice AccessKey); "
            "or install the keyless `pvporcupine==1.9.5`"
        )
    return pvporcupine.create(**options)


class WakeActor(supervisors.SupervisedActor):
    """Detects the wake word; see the module docstring."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.settings = config.voice.wake
        self.log = get_logger(f"solo/voice/{WAKE}")
        self.engine: Any = None
        self.counts = dict.fromkeys(("frames", "detections"), 0)

    def on_start(self) -> None:
        self.engine = create_porcupine(self.settings)
        self.publish_figures(keyword=self.settings.keyword, **self.counts)

    def on_stop(self) -> None:
        self.engine.delete()

    def on_failure(self, *exc_info: Any) -> None:
        if self.engine is not None:
            self.engine.delete()

    def on_receive(self, message: Any) -> Any:
        match message:
            case AudioFrame():
                self.hear(message)
            case InputEnded():
                send(VAD, message)
            case _:
                return super().on_receive(message)
        return None

    def hear(self, frame: AudioFrame) -> None:
        self.counts["frames"] += 1
        send(VAD, frame)
        if self.engine.process(np.frombuffer(frame.pcm, np.int16)) >= 0:
            self.counts["detections"] += 1
            detected = WakeDetected(
                turn_id=new_id(), keyword=self.settings.keyword, score=1.0, at=now()
            )
            self.log.info("wake word", turn_id=detected.turn_id, keyword=detected.keyword)
            # The speaker first: stopping playback and the acknowledgement are what the user
            # waits for; then tts (cancel generation) and vad (start listening).
            for name in (SPEAKER, TTS, VAD):
                send(name, detected)
        if self.counts["frames"] % 64 == 0:
            self.publish_figures(**self.counts)
