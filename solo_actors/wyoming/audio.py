"""Wyoming audio formats: check what a peer announces, and convert it to the pipeline's.

A Wyoming peer says its format (``rate``, ``width``, ``channels``) on every audio event;
Solo's actors take 16 kHz mono int16 only. Any sensible format is converted (mixed down,
resampled) rather than refused; one that cannot be audio is a `RequestError`.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, pcm_to_float, resample
from solo_actors.wyoming.protocol import RequestError

RATES = (8_000, 192_000)
"""The sample rates accepted (inclusive): a telephone's to a studio's."""
WIDTHS = (1, 2, 3, 4)
MAX_CHANNELS = 8


class AudioFormat(msgspec.Struct, frozen=True):
    rate: int
    width: int
    channels: int

    @classmethod
    def of(cls, data: dict[str, Any], event: str) -> AudioFormat:
        """The format an audio event announces, or a `RequestError` saying what is wrong."""
        try:
            found = msgspec.convert(
                {key: data.get(key) for key in ("rate", "width", "channels")}, cls
            )
        except msgspec.ValidationError as error:
            raise RequestError(
                f"{event} needs integer rate, width and channels ({error})"
            ) from None
        if not RATES[0] <= found.rate <= RATES[1]:
            raise RequestError(
                f"{event}: a rate of {found.rate} Hz is not audio Solo takes; send "
                f"{RATES[0]}..{RATES[1]} Hz (16000 is used as is, other rates are resampled)"
            )
        if found.width not in WIDTHS or not 1 <= found.channels <= MAX_CHANNELS:
            raise RequestError(
                f"{event}: width {found.width} and channels {found.channels} are not PCM Solo "
                f"takes; send width 1-4 bytes and 1-{MAX_CHANNELS} channels (2 and 1 best)"
            )
        return found

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    def to_pipeline(self, raw: bytes) -> bytes:
        """``raw`` audio of this format as 16 kHz mono int16 PCM."""
        if len(raw) % self.frame_bytes:
            raise RequestError(
                f"an audio chunk of {len(raw)} bytes is not whole samples of width "
                f"{self.width} x {self.channels} channels"
            )
        if (self.rate, self.width, self.channels) == (SAMPLE_RATE, 2, 1):
            return raw
        mono = pcm_to_float(raw, self.width).reshape(-1, self.channels).mean(axis=1)
        return float_to_int16(resample(mono, self.rate, SAMPLE_RATE)).tobytes()


PIPELINE = AudioFormat(SAMPLE_RATE, 2, 1)


def seconds_of(pcm: bytes) -> float:
    """Seconds of 16 kHz mono int16 audio."""
    return len(pcm) / 2 / SAMPLE_RATE


def chunks(pcm: np.ndarray | bytes, samples: int) -> list[bytes]:
    """int16 mono audio cut into pieces of at most ``samples`` samples."""
    raw = pcm.tobytes() if isinstance(pcm, np.ndarray) else pcm
    step = 2 * samples
    return [raw[start : start + step] for start in range(0, len(raw), step)]
