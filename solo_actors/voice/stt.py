"""The stt actor: turns an `Utterance` into text with faster-whisper and hands it on.

The model is the catalog's CTranslate2 folder (``voice.stt.model``), never a hub name, which
would go to the network. It is loaded once per process (int8 on the CPU) and a restarted
actor reuses it. For each utterance the actor tells tts the `Transcript` (so tts knows a
reply is coming) and the dialogue actor a `UserTurn` whose reply goes to tts.

An utterance with no recognisable words, or a crash while transcribing one (the actor is
then restarted by its supervisor), is answered with ``voice.stt.error_reply``.
"""

from __future__ import annotations

import os
import re
import time
from functools import cache
from typing import Any

from faster_whisper import WhisperModel
from msgspec.structs import replace

import supervisors
from solo_actors.config import Config
from solo_actors.logs import get_logger
from solo_actors.messages import InputEnded, Transcript, UserTurn, Utterance, now
from solo_actors.models import resolve_model
from solo_actors.voice import DIALOGUE, STT, TTS
from solo_actors.voice.audio import int16_to_float
from solo_actors.voice.mail import fail_turn, send
from solo_actors.voice.options import RunOptions

WORDS = re.compile(r"\w")


@cache
def load_whisper(folder: str, threads: int) -> WhisperModel:
    """The process's Whisper model for `folder`, loaded on first use."""
    return WhisperModel(
        folder, device="cpu", compute_type="int8", cpu_threads=threads or os.cpu_count() or 1
    )


def whisper_folder(config: Config) -> str:
    return str(
        resolve_model(
            config.voice.stt.model, config.models, role="stt", var_dir=config.solo.var_dir
        ).path
    )


def transcribe(model: WhisperModel, pcm: bytes, language: str, beam_size: int) -> str:
    """The text of 16 kHz int16 speech: the library call the actor and the benchmark share."""
    segments, _info = model.transcribe(
        int16_to_float(pcm),
        language=language,
        beam_size=beam_size,
        vad_filter=False,  # vad already cut the utterance
        without_timestamps=True,
        condition_on_previous_text=False,
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


class SttActor(supervisors.SupervisedActor):
    """Transcribes utterances; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.config = config
        self.settings = config.voice.stt
        self.options = options
        self.log = get_logger(f"solo/voice/{STT}")
        self.current: Utterance | None = None
        self.counts: dict[str, int | float] = dict.fromkeys(
            ("utterances", "unrecognised", "audio_s", "busy_s"), 0
        )

    def on_start(self) -> None:
        self.model = load_whisper(whisper_folder(self.config), self.settings.threads)
        self.publish_figures(model=self.settings.model, **self.counts)

    def on_failure(self, *exc_info: Any) -> None:
        if self.current is not None:
            self.fail(self.current, f"speech recognition crashed: {exc_info[1]!r}")

    def on_receive(self, message: Any) -> Any:
        match message:
            case Utterance():
                self.current = message
                self.hear(message)
                self.current = None
            case InputEnded():
                send(TTS, message)
            case _:
                return super().on_receive(message)
        return None

    def hear(self, utterance: Utterance) -> None:
        started = time.perf_counter()
        text = transcribe(
            self.model, utterance.pcm, self.settings.language, self.settings.beam_size
        )
        busy = time.perf_counter() - started
        seconds = len(utterance.pcm) / 2 / utterance.sample_rate
        self.counts["utterances"] += 1
        self.counts["audio_s"] += seconds
        self.counts["busy_s"] += busy
        times = replace(utterance.times, transcript=now())
        self.log.info("transcript", turn_id=utterance.turn_id, text=text, seconds=round(busy, 3))
        self.publish_figures(**self.counts, last_rtf=round(busy / max(seconds, 1e-6), 3))
        if not WORDS.search(text):
            self.counts["unrecognised"] += 1
            self.fail(replace(utterance, times=times), "no words recognised in the utterance")
            return
        send(TTS, Transcript(turn_id=utterance.turn_id, text=text, times=times))
        send(
            DIALOGUE,
            UserTurn(
                turn_id=utterance.turn_id,
                conversation_id=self.options.conversation_id,
                text=text,
                source="voice",
                reply_to=TTS,
                times=times,
            ),
        )

    def fail(self, utterance: Utterance, error: str) -> None:
        self.log.warning("turn failed", turn_id=utterance.turn_id, error=error)
        fail_turn(
            utterance.turn_id,
            self.options.conversation_id,
            error,
            self.settings.error_reply,
            utterance.times,
        )
