"""One model runtime tried for real, in a process of its own: `python -m
solo_actors.doctor.probe ROLE ARG...`.

The doctor and set-up's self-check run this in a subprocess because the failure they look
for is a native crash (a segfault in llama.cpp's AMX kernel, an illegal instruction in a
wheel built for another CPU) that would take any process calling the library down with it.
Each probe prints one JSON line, ``{"ok": true, "detail": "..."}``, and exits 0; a Python
error prints ``{"ok": false, ...}`` and exits 1; a crash is seen by the caller as a signal.
Before each native call it prints its stage to stderr, so a crash says what it was doing.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

PROMPT = "The capital of France is"
TOKENS = 8


def stage(text: str) -> None:
    print(f"stage: {text}", file=sys.stderr, flush=True)


def probe_llm(path: str, gpu_layers: str = "0") -> str:
    stage("importing llama_cpp")
    from llama_cpp import Llama

    stage(f"loading {path}")
    llama = Llama(model_path=path, n_ctx=256, n_gpu_layers=int(gpu_layers), verbose=False)
    stage("decoding")
    started = time.perf_counter()
    out = llama.create_completion(PROMPT, max_tokens=TOKENS, temperature=0.0)
    seconds = time.perf_counter() - started
    text = out["choices"][0]["text"]  # type: ignore[index]
    tokens = out["usage"]["completion_tokens"]  # type: ignore[index]
    if tokens < 1:
        raise RuntimeError("llama.cpp decoded no token")
    return f"decoded {tokens} tokens in {seconds:.2f} s: {text.strip()[:40]!r}"


def probe_stt(folder: str, device: str = "cpu", compute_type: str = "int8") -> str:
    stage("importing faster_whisper")
    import numpy as np
    from faster_whisper import WhisperModel

    stage(f"loading {folder} on {device}")
    model = WhisperModel(folder, device=device, compute_type=compute_type)
    stage("transcribing 1 s of silence")
    segments, _ = model.transcribe(np.zeros(16_000, dtype=np.float32), beam_size=1)
    list(segments)
    return f"transcribed 1 s on {device} ({compute_type})"


def probe_tts(path: str, provider: str = "CPUExecutionProvider") -> str:
    stage("importing piper and onnxruntime")
    import onnxruntime
    from piper import PiperVoice

    stage(f"loading {path} with {provider}")
    voice = PiperVoice.load(path)
    if provider != "CPUExecutionProvider":
        voice.session = onnxruntime.InferenceSession(
            path, providers=[provider, "CPUExecutionProvider"]
        )
    stage("synthesising")
    samples = sum(len(chunk.audio_int16_array) for chunk in voice.synthesize("Hello."))
    if samples == 0:
        raise RuntimeError("piper produced no audio")
    return f"synthesised {samples} samples with {provider}"


def probe_wake(engine: str, keyword: str) -> str:
    stage(f"loading {engine} ({keyword})")
    if engine == "porcupine":
        import pvporcupine

        handle = pvporcupine.create(keywords=[keyword])
        frame = [0] * handle.frame_length
        stage("processing one frame")
        handle.process(frame)
        handle.delete()
        return f"porcupine {keyword}: one frame processed"
    import numpy as np
    from openwakeword.model import Model

    model = Model(wakeword_models=[keyword], inference_framework="onnx")
    stage("processing one frame")
    model.predict(np.zeros(1280, dtype=np.int16))
    return f"openwakeword {keyword}: one frame processed"


PROBES: dict[str, Callable[..., str]] = {
    "llm": probe_llm,
    "stt": probe_stt,
    "tts": probe_tts,
    "wake": probe_wake,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PROBES:
        print(
            f"usage: python -m solo_actors.doctor.probe {{{'|'.join(PROBES)}}} ARG...",
            file=sys.stderr,
        )
        return 2
    try:
        detail = PROBES[argv[0]](*argv[1:])
    except Exception as error:
        print(json.dumps({"ok": False, "detail": f"{type(error).__name__}: {error}"}), flush=True)
        return 1
    print(json.dumps({"ok": True, "detail": detail}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
