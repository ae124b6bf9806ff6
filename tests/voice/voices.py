"""Synthetic voices of engines other than Piper, and the rooms they are heard in.

Every wake and stt test used to hear only Piper, the engine that also speaks Solo's replies
(and that openWakeWord's models were trained on). These make the same texts in other
engines' voices: espeak-ng (formant synthesis; its voice variants, speed and pitch change
it a lot) and Flite (CMU's unit-selection and HTS voices, built into the binary). Both are
Debian packages that `make setup` installs (scripts/system-deps.sh); both are deterministic,
so a clip is the same on every run. Clips are float32 at 16 kHz, like `Speech.say`'s.

`noisy` and `far_field` make the conditions a device hears them in: pink noise at a given
signal-to-noise ratio, and a synthetic room impulse response (a direct path, then an
exponentially decaying diffuse tail of a chosen RT60).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from solo_actors.voice.audio import SAMPLE_RATE, int16_to_float, read_wav

ENGINE_PACKAGES = {"espeak-ng": "espeak-ng", "flite": "flite"}
"""The Debian package that carries each engine's command."""


class MissingEngine(RuntimeError):
    """A speech engine's command is not installed; the message says how to install it."""


def command(engine: str) -> str:
    """The path of `engine`'s command, or `MissingEngine` naming the package to install."""
    found = shutil.which(engine)
    if found is None:
        package = ENGINE_PACKAGES[engine]
        raise MissingEngine(
            f"{engine} is not installed; run `make setup` (scripts/system-deps.sh) or "
            f"`sudo apt-get install -y {package}`"
        )
    return found


@dataclass(frozen=True)
class Voice:
    """One synthetic voice: an engine, its voice name and, for espeak-ng, speed and pitch."""

    name: str
    engine: str
    """"espeak-ng" or "flite"."""
    voice: str
    """espeak-ng's ``-v`` (``en-us+f3``: a variant) or Flite's ``-voice`` (slt, rms, awb)."""
    wpm: int = 175
    """espeak-ng: words per minute at speed 1 (its default is 175)."""
    pitch: int = 50
    """espeak-ng: 0..99 (its default is 50)."""

    def say(self, text: str, speed: float = 1.0) -> np.ndarray:
        """`text` in this voice as float32 at 16 kHz; `speed` > 1 talks faster."""
        with tempfile.TemporaryDirectory() as folder:
            wav = Path(folder) / "said.wav"
            if self.engine == "espeak-ng":
                wpm = str(round(self.wpm * speed))
                args = ["-v", self.voice, "-s", wpm, "-p", str(self.pitch), "-w", str(wav)]
                subprocess.run([command("espeak-ng"), *args, text], check=True)
            elif self.engine == "flite":
                stretch = f"duration_stretch={1 / speed:.3f}"
                args = ["-voice", self.voice, "--setf", stretch, "-o", str(wav)]
                subprocess.run([command("flite"), *args, "-t", text], check=True)
            else:
                raise ValueError(f"unknown engine {self.engine!r}: use espeak-ng or flite")
            # read_wav resamples espeak-ng's 22,050 Hz to 16 kHz (Flite's is 16 kHz already).
            return int16_to_float(read_wav(wav).samples)


def pink_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Noise whose power falls 3 dB an octave, like a room's hum and chatter; unit RMS."""
    spectrum = np.fft.rfft(rng.normal(size=length))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, length)
    return (noise / np.sqrt(np.mean(noise**2))).astype(np.float32)


def noisy(audio: np.ndarray, snr_db: float, speech_power: float, seed: int) -> np.ndarray:
    """`audio` plus pink noise `snr_db` below `speech_power` (the speech's mean square)."""
    noise = pink_noise(len(audio), np.random.default_rng(seed))
    return (audio + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))).astype(np.float32)


def room_response(rt60: float, direct_to_reverberant_db: float, seed: int = 3) -> np.ndarray:
    """A synthetic room impulse response: the direct sound, then after 5 ms a diffuse tail of
    Gaussian noise decaying 60 dB in `rt60` seconds, scaled so the direct path's energy is
    `direct_to_reverberant_db` over the tail's (about 0 dB or below: a few metres away)."""
    rng = np.random.default_rng(seed)
    tail_start = int(0.005 * SAMPLE_RATE)
    times = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
    tail = rng.normal(size=len(times)) * 10 ** (-3 * times / rt60)
    tail *= np.sqrt(10 ** (-direct_to_reverberant_db / 10) / np.sum(tail**2))
    response = np.zeros(tail_start + len(tail), np.float32)
    response[0] = 1.0
    response[tail_start:] = tail
    return response


def far_field(
    audio: np.ndarray, rt60: float = 0.6, direct_to_reverberant_db: float = -3.0
) -> np.ndarray:
    """`audio` as heard across a room (`room_response`), at the loudness it had."""
    heard = fftconvolve(audio, room_response(rt60, direct_to_reverberant_db))[: len(audio)]
    before, after = np.sqrt(np.mean(audio**2)), np.sqrt(np.mean(heard**2))
    return (heard * (before / after if after else 1.0)).astype(np.float32)
