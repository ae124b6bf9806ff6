"""Which device each voice model runs on: the CPU, or an NVIDIA GPU when the owner has one.

``device = "auto"`` uses CUDA when a CUDA device is usable by the library in question
(CTranslate2 for faster-whisper, onnxruntime's CUDA provider for Piper), else the CPU, so a
machine without a GPU behaves exactly as before. ``"cuda"`` insists on it; ``"cpu"`` never
tries.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from solo_actors.config.schema import SttConfig

Device = Literal["auto", "cpu", "cuda"]

CPU_COMPUTE_TYPE = "int8"
"""Whisper tiny in int8 on a CPU: as accurate as float32 here, and twice as fast."""
CUDA_COMPUTE_TYPE = "float16"


@cache
def cuda_available() -> bool:
    """Whether CTranslate2 sees a CUDA device (the same driver onnxruntime would use)."""
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # no CUDA runtime at all is the common case, not an error
        return False


def stt_device(settings: SttConfig) -> tuple[str, str]:
    """(device, compute_type) for faster-whisper from ``[voice.stt] device, compute_type``."""
    device = settings.device
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    compute_type: str = settings.compute_type
    if compute_type == "auto":
        compute_type = CUDA_COMPUTE_TYPE if device == "cuda" else CPU_COMPUTE_TYPE
    return device, compute_type


def onnx_providers(device: Device) -> list[str]:
    """onnxruntime execution providers for ``[voice.tts] device``, best first."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise RuntimeError(
            '[voice.tts] device = "cuda" but onnxruntime has no CUDA provider: '
            'install onnxruntime-gpu, or set device = "auto"'
        )
    return ["CPUExecutionProvider"]
