"""The wake actor: listens for the wake word in every frame and opens a turn when it hears it.

The configured engine (`wake_engines`: Porcupine by default, or openWakeWord) hears each
32 ms frame (about 1% of one core for Porcupine). On a detection the actor gives the
turn its id and tells `WakeDetected` to the speaker (stop any reply being played: barge-in;
play the acknowledgement), to tts (cancel the reply being generated), to vad (listen for
the question) and to skills (end a ringing timer or alarm). Every frame is passed on to
vad, which keeps its own pre-roll. A finite input's `InputEnded` goes on with the number of
wake words heard in it, so a file that held none ends with the app saying so instead of in
silence.

Other programs' audio streams (Solo's Wyoming server: Home Assistant's wake word service)
come as `DetectWake` pieces. Each stream gets a detector of its own (the engine is
stateful, and the microphone's must not hear a client's audio), fed whole frames; a
detection and the stream's end are answered with a `WakeResult`. At most
`MAX_STREAMS` streams are open at once; the oldest is dropped past that.

With ``voice.wake.engine = "wyoming"`` the engine streams the frames to a remote wake word
service (`remote.RemoteWake`); each stream above gets a connection of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from msgspec.structs import replace

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    AudioFrame,
    DetectWake,
    InputEnded,
    TurnMailLost,
    WakeDetected,
    WakeResult,
)
from solo_actors.names import SKILLS_NAME, SPEAKER, TTS, TURN_WATCH, VAD, WAKE
from solo_actors.runtime.clock import now
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.voice.audio import FRAME_SAMPLES, SAMPLE_RATE
from solo_actors.voice.mail import send
from solo_actors.voice.remote import RemoteWake
from solo_actors.voice.wake_engines import WakeEngine, create_engine

MAX_STREAMS = 64
"""Other programs' streams listened to at once (a client that vanished mid-stream leaves
one open until it is the oldest)."""


@dataclass
class Stream:
    """One other program's audio stream and its own detector."""

    engine: WakeEngine
    pending: bytes = b""
    """The start of a frame not yet whole."""
    samples: int = 0


class WakeActor(supervisors.SupervisedActor):
    """Detects the wake word; see the module docstring."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.settings = config.voice.wake
        self.log = get_logger(f"solo/voice/{WAKE}")
        self.engine: WakeEngine | None = None
        self.streams: dict[str, Stream] = {}
        self.counts = dict.fromkeys(("frames", "detections"), 0)

    def on_start(self) -> None:
        self.engine = create_engine(self.settings, self.publish_figures)
        remote = self.engine.fallback.figures() if isinstance(self.engine, RemoteWake) else {}
        self.publish_figures(engine=self.settings.engine, keyword=self.engine.name, **remote,
                             **self.counts)  # fmt: skip

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        for stream in self.streams.values():
            stream.engine.close()
        self.streams.clear()

    def on_receive(self, message: Any) -> Any:
        match message:
            case AudioFrame():
                self.hear(message)
            case DetectWake():
                self.detect(message)
            case InputEnded():
                # The app tells the user when a file held no wake word (else: silence).
                send(VAD, replace(message, wake_words=self.counts["detections"]))
            case _:
                return super().on_receive(message)
        return None

    def hear(self, frame: AudioFrame) -> None:
        self.counts["frames"] += 1
        send(VAD, frame)
        assert self.engine is not None  # set in on_start
        score = self.engine.hear(np.frombuffer(frame.pcm, np.int16))
        if score is not None:
            self.counts["detections"] += 1
            detected = WakeDetected(
                turn_id=new_id(), keyword=self.engine.name, score=score, at=now()
            )
            self.log.info("wake word", turn_id=detected.turn_id, keyword=detected.keyword)
            step(detected.turn_id, "wake", "wake word", keyword=detected.keyword)
            # The speaker first: stopping playback and the acknowledgement are what the user
            # waits for; then the turn watch (this turn is owed an answer), tts (cancel
            # generation) and vad (start listening).
            for name in (SPEAKER, TURN_WATCH, TTS):
                send(name, detected)
            if not send(VAD, detected):
                # vad is being restarted: nothing will listen for the question. That vad's
                # exit came before this turn, so only we can tell the turn watch it is lost.
                send(TURN_WATCH, TurnMailLost(turn_id=detected.turn_id, receiver=VAD,
                                              message="WakeDetected"))  # fmt: skip
            if supervisors.whereis(SKILLS_NAME) is not None:  # absent from voice-only trees
                send(SKILLS_NAME, detected)  # the wake word ends a ringing timer or alarm
        if self.counts["frames"] % 64 == 0:
            self.publish_figures(**self.counts)

    def detect(self, piece: DetectWake) -> None:
        stream = self.streams.get(piece.stream_id)
        if stream is None:
            if len(self.streams) >= MAX_STREAMS:
                self.streams.pop(next(iter(self.streams))).engine.close()
            stream = self.streams[piece.stream_id] = Stream(create_engine(self.settings))
        audio = stream.pending + piece.pcm
        whole = len(audio) - len(audio) % (2 * FRAME_SAMPLES)
        stream.pending = audio[whole:]
        for start in range(0, whole, 2 * FRAME_SAMPLES):
            frame = np.frombuffer(audio[start : start + 2 * FRAME_SAMPLES], np.int16)
            stream.samples += FRAME_SAMPLES
            if stream.engine.hear(frame) is not None:
                send(piece.reply_to, WakeResult(stream_id=piece.stream_id,
                     keyword=stream.engine.name, at_s=stream.samples / SAMPLE_RATE))  # fmt: skip
        if piece.end:
            self.streams.pop(piece.stream_id).engine.close()
            send(piece.reply_to, WakeResult(stream_id=piece.stream_id, keyword=None,
                 at_s=stream.samples / SAMPLE_RATE, ended=True))  # fmt: skip
