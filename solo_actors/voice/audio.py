"""PCM helpers shared by the voice actors: reading WAV files, resampling, tones, frames.

Everything inside the pipeline is 16 kHz mono int16 in frames of `FRAME_SAMPLES` samples
(32 ms): the frame size both Porcupine 1.9 and Silero VAD take at 16 kHz, so one frame is
handed to each without re-chunking. `read_wav` turns what users actually have (stereo, 8-bit,
44.1 kHz, truncated files) into that, and refuses what it cannot read with a message that
says what was wrong and how to fix it.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
INT16_FULL_SCALE = 32768.0


class AudioInputError(ValueError):
    """An audio file that cannot be used; the message names the problem and the fix."""


@dataclass(frozen=True)
class LoadedAudio:
    """16 kHz mono int16 samples, and what had to be done to get them."""

    samples: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def read_wav(path: Path) -> LoadedAudio:
    """Read a PCM WAV file as 16 kHz mono int16, converting width, channels and rate."""
    notes: list[str] = []
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            promised = wav.getnframes()
            raw = wav.readframes(promised)
    except FileNotFoundError:
        raise AudioInputError(f"{path}: no such file") from None
    except (wave.Error, EOFError, RuntimeError, ValueError) as error:
        # RuntimeError: what the wave module raises on a chunk with a nonsense length.
        why = str(error) or "malformed chunks"
        raise AudioInputError(
            f"{path}: not a readable PCM WAV file ({why}); convert it with "
            f"`ffmpeg -i {path.name} -ar 16000 -ac 1 -c:a pcm_s16le fixed.wav`"
        ) from None
    if width not in (1, 2, 3, 4):
        raise AudioInputError(f"{path}: {8 * width}-bit samples are not supported; use 16-bit PCM")
    frame_bytes = width * channels
    found = len(raw) // frame_bytes
    if found < promised:
        notes.append(f"truncated: the header promises {promised} frames, the file holds {found}")
    samples = pcm_to_float(raw[: found * frame_bytes], width).reshape(-1, channels)
    if width != 2:
        notes.append(f"converted {8 * width}-bit samples to 16-bit")
    if channels > 1:
        notes.append(f"mixed {channels} channels down to mono")
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        notes.append(f"resampled {rate} Hz to {SAMPLE_RATE} Hz")
        mono = resample(mono, rate, SAMPLE_RATE)
    return LoadedAudio(float_to_int16(mono), notes)


def pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    """Little-endian PCM of `width` bytes per sample as float32 in [-1, 1)."""
    if width == 1:  # WAV's 8-bit samples are unsigned
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        as32 = np.zeros((len(bytes3), 4), np.uint8)
        as32[:, 1:] = bytes3  # left-align in an int32, keeping the sign bit
        return as32.view("<i4").ravel().astype(np.float32) / 2**31
    dtype = {2: "<i2", 4: "<i4"}[width]
    return np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.round(samples * INT16_FULL_SCALE), -32768, 32767).astype(np.int16)


def int16_to_float(samples: np.ndarray | bytes) -> np.ndarray:
    if isinstance(samples, bytes):
        samples = np.frombuffer(samples, np.int16)
    return samples.astype(np.float32) / INT16_FULL_SCALE


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling: a windowed-sinc low-pass below the lower Nyquist frequency,
    then linear interpolation. Enough for speech into Whisper and the wake word."""
    if source_rate == target_rate or len(samples) == 0:
        return samples.astype(np.float32)
    cutoff = 0.45 * min(source_rate, target_rate) / source_rate  # cycles per source sample
    taps = np.arange(-32, 33)
    kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(len(taps))
    filtered = np.convolve(samples, kernel / kernel.sum(), mode="same")
    duration = len(samples) / source_rate
    target_times = np.arange(int(duration * target_rate)) / target_rate
    return np.interp(target_times, np.arange(len(samples)) / source_rate, filtered).astype(
        np.float32
    )


def frames_of(samples: np.ndarray) -> list[bytes]:
    """int16 samples cut into whole frames; a short last frame is padded with silence."""
    padded = -len(samples) % FRAME_SAMPLES
    if padded:
        samples = np.concatenate([samples, np.zeros(padded, np.int16)])
    return [chunk.tobytes() for chunk in samples.reshape(-1, FRAME_SAMPLES)]


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write int16 mono samples as a WAV file (atomically: readers never see half a file)."""
    partial = path.with_name(path.name + ".part")
    with wave.open(str(partial), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype(np.int16).tobytes())
    partial.replace(path)


ALERT_SECONDS = 0.4
"""The chime before a fired timer's, alarm's or reminder's line: longer than the wake word's
acknowledgement, so the two are told apart."""


def chime(rate: int, seconds: float = 0.12) -> np.ndarray:
    """The acknowledgement: two short rising notes with soft edges, as int16."""
    half = int(rate * seconds / 2)
    times = np.arange(half) / rate
    notes = [np.sin(2 * np.pi * pitch * times) for pitch in (880.0, 1320.0)]
    envelope = np.minimum(1.0, np.minimum(times, times[::-1]) / 0.01)
    return float_to_int16(0.3 * np.concatenate([note * envelope for note in notes]))
