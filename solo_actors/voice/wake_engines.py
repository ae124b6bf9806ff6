"""Wake-word engines behind one small interface, chosen by ``voice.wake.engine``.

The wake actor hands every 32 ms frame (512 samples at 16 kHz) to `WakeEngine.hear`, which
answers the detection's score when the wake word ends in that frame, else None. Engines:

* ``porcupine``: pvporcupine 1.9.5's keyless built-in keywords (``voice.wake.keyword``,
  ``sensitivity``), or pvporcupine >= 3 when ``voice.wake.access_key`` is set (it validates
  the key online once, so it is opt-in). It takes our 512-sample frames, with a faint
  noise floor added (``noise_floor`` dBFS, -60 by default): on digitally silent input
  (synthetic speech, a file with exact zeros between words) it missed the keyword said by
  most espeak-ng voices at any sensitivity, and heard it once a -60 dBFS floor was under
  the words, as every microphone has (bench/bench_voices.py, docs/voice.md *Voices measured*).
* ``openwakeword``: openWakeWord's ONNX models (``voice.wake.model``: a model its wheel
  carries, such as ``hey_jarvis``, or a path to an ``.onnx``), fired at ``threshold``. Its
  models take 1280-sample (80 ms) chunks, so the adapter buffers frames until a chunk is
  whole; a detection is therefore reported up to 80 ms after the frame that completed it.

Both engines' models come inside their pip packages, so neither has a catalog entry.

* ``wyoming``: a remote Wyoming wake word service (``voice.wake.remote``; `remote.RemoteWake`),
  with ``remote.local_engine`` (one of the two above) listening while it is down.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from msgspec.structs import replace

from solo_actors.config.schema import WakeConfig
from solo_actors.voice.remote import RemoteWake


class WakeConfigError(ValueError):
    """A wake-word setting that cannot work; the message says which and how to fix it."""


class WakeEngine(Protocol):
    """What the wake actor needs of an engine."""

    name: str
    """The keyword or model, as reported in `WakeDetected.keyword`."""

    def hear(self, frame: np.ndarray) -> float | None:
        """The detection score if the wake word ends in this int16 frame, else None."""
        ...

    def close(self) -> None: ...


def wake_word(settings: WakeConfig) -> str:
    """The wake word ``voice.wake`` listens for, as a person reads it: 'jarvis' (porcupine)."""
    if settings.engine == "wyoming":
        return (
            f"{settings.remote.model or 'the service default'!r} (wyoming, {settings.remote.uri})"
        )
    word = settings.model if settings.engine == "openwakeword" else settings.keyword
    return f"{word!r} ({settings.engine})"


def spoken_wake_phrases(settings: WakeConfig) -> tuple[str, ...]:
    """The wake word as a person says it ("jarvis", "hey jarvis" for openWakeWord's
    ``hey_jarvis_v0.1.onnx``), for every engine that may be listening (a Wyoming service's
    and its local fallback's): stt takes it off the front of a question."""
    if settings.engine == "wyoming":
        local = replace(settings, engine=settings.remote.local_engine)
        named = (settings.remote.model,) if settings.remote.model else ()
        return tuple(dict.fromkeys((*map(_as_said, named), *spoken_wake_phrases(local))))
    return (_as_said(settings.model if settings.engine == "openwakeword" else settings.keyword),)


def _as_said(name: str) -> str:
    """A keyword or model name as words: a path's stem, without a version suffix."""
    stem = re.sub(r"_v\d[\w.]*$", "", Path(name).stem if name.endswith(".onnx") else name)
    return " ".join(re.split(r"[_\-\s]+", stem.lower())).strip()


def create_engine(settings: WakeConfig, publish: Callable[..., None] | None = None) -> WakeEngine:
    """The engine ``voice.wake.engine`` names, or a `WakeConfigError`. A remote engine tells
    `publish` the figures that change (who serves, the last error)."""
    if settings.engine == "wyoming":
        local = replace(settings, engine=settings.remote.local_engine)
        return RemoteWake(settings, lambda: create_engine(local), publish or (lambda **_: None))
    if settings.engine == "openwakeword":
        return OpenWakeWord(settings)
    return Porcupine(settings)


class Porcupine:
    """pvporcupine on each 512-sample frame.

    pvporcupine 1.9.5 opens the keyword file when a handle is created and never closes it,
    not even in ``delete()``: a wake actor restarted in Solo's process would leak one file
    descriptor per restart (the chaos suite counted them). So a closed handle is not
    deleted but kept for the next engine of the same settings; at most one handle per
    wake actor running at once is ever created. The detector's few frames of context left
    in a reused handle are at most one stale partial word.
    """

    _idle: ClassVar[dict[WakeConfig, list[Any]]] = {}
    _idle_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: WakeConfig) -> None:
        self.name = settings.keyword
        self.settings = settings
        with self._idle_lock:
            idle = self._idle.get(settings)
            handle = idle.pop() if idle else None
        self.handle = handle if handle is not None else create_porcupine(settings)
        # Seeded: the same input is heard the same way on every run.
        self.floor = NoiseFloor(settings.noise_floor) if settings.noise_floor < 0 else None

    def hear(self, frame: np.ndarray) -> float | None:
        if self.floor is not None:
            frame = self.floor.under(frame)
        return 1.0 if self.handle.process(frame) >= 0 else None

    def close(self) -> None:
        with self._idle_lock:
            self._idle.setdefault(self.settings, []).append(self.handle)


class NoiseFloor:
    """White noise at `dbfs` (RMS against int16 full scale) added under int16 frames."""

    def __init__(self, dbfs: float) -> None:
        self.rms = 32768.0 * 10 ** (dbfs / 20)
        self.rng = np.random.default_rng(0)

    def under(self, frame: np.ndarray) -> np.ndarray:
        noisy = frame + self.rng.normal(0.0, self.rms, len(frame))
        return np.clip(np.round(noisy), -32768, 32767).astype(np.int16)


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


OWW_CHUNK = 1280
"""Samples per openWakeWord prediction (80 ms at 16 kHz)."""

OWW_REFRACTORY_CHUNKS = 12
"""Chunks (about 1 s) after a detection in which the engine does not fire again: the score
stays above the threshold for several chunks while the keyword's features pass through the
model's window, and one wake word must open one turn."""

OWW_PRIME_CHUNKS = 25
"""Chunks of silence (2 s) fed to a new openWakeWord model: enough to replace every
embedding its wake word models look at (16) and the melspectrogram frames behind them."""


class OpenWakeWord:
    """openWakeWord's ONNX model, fed whole 1280-sample chunks from 512-sample frames."""

    def __init__(self, settings: WakeConfig) -> None:
        from openwakeword.model import Model

        path = openwakeword_model_path(settings.model)
        self.name = settings.model
        self.threshold = settings.threshold
        # onnx, not tflite: onnxruntime is already here for Silero and Piper, and the
        # pretrained melspectrogram and embedding models exist in both formats.
        self.model = Model(wakeword_models=[str(path)], inference_framework="onnx")
        self.label = next(iter(self.model.models))
        # openWakeWord starts its feature window on embeddings of random noise drawn from
        # numpy's global generator, so a wake word in the first two seconds was scored
        # against chance (0.48-0.82 over 150 seeds, for an espeak-ng clip that scores 0.96
        # after silence). Start on silence instead: the same scores on every run,
        # whatever else in the process drew random numbers.
        self.model.predict(np.zeros(OWW_PRIME_CHUNKS * OWW_CHUNK, np.int16))
        self.model.reset()
        self.pending = np.zeros(0, np.int16)
        self.quiet_chunks = 0

    def hear(self, frame: np.ndarray) -> float | None:
        self.pending = np.concatenate([self.pending, frame])
        fired: float | None = None
        while len(self.pending) >= OWW_CHUNK:
            chunk, self.pending = self.pending[:OWW_CHUNK], self.pending[OWW_CHUNK:]
            score = float(self.model.predict(chunk)[self.label])
            if self.quiet_chunks:
                self.quiet_chunks -= 1
            elif score >= self.threshold:
                fired = score
                self.quiet_chunks = OWW_REFRACTORY_CHUNKS
        return fired

    def close(self) -> None:
        self.model.reset()


def openwakeword_model_path(model: str) -> Path:
    """The ``.onnx`` for ``voice.wake.model``: a path, or a model openWakeWord's wheel carries."""
    given = Path(model).expanduser()
    if given.suffix == ".onnx":
        if not given.is_file():
            raise WakeConfigError(f"voice.wake.model {model!r}: no such .onnx file")
        return given
    try:
        import openwakeword
    except ImportError as error:
        raise WakeConfigError(
            f"voice.wake.engine is 'openwakeword' but it is not installed ({error}); "
            "install it with `pip install 'openwakeword>=0.5.1,<0.6'` (0.6 carries no models)"
        ) from error
    carried = {
        Path(path).stem.rsplit("_v", 1)[0]: Path(path)
        for path in openwakeword.get_pretrained_model_paths("onnx")
    }
    if model not in carried or not carried[model].is_file():
        known = ", ".join(sorted(name for name, path in carried.items() if path.is_file()))
        raise WakeConfigError(
            f"voice.wake.model {model!r} is not a model openwakeword "
            f"{version('openwakeword')} carries; pick one of {known or 'none'} "
            "or give the path to an .onnx wake-word model"
        )
    return carried[model]
