"""`solo doctor`: everything a user needs to know when Solo does not work on their machine.

Each check gives a status (pass, warn, fail), a one-line detail and, for failures, what to
do. Model runtimes are each tried in a subprocess (`checks.run_probe`), so a native crash is
reported with its cause instead of taking the doctor down. The checks are data (a tuple of
functions over the config), run in order; the exit status is non-zero when a check that the
assistant needs fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from solo_actors.config import Config
from solo_actors.doctor.checks import ProbeResult, run_probe
from solo_actors.doctor.cpu import this_cpu
from solo_actors.models import ModelError, resolve_model

Status = Literal["pass", "warn", "fail"]

NATIVE_LIBRARIES = (
    "llama-cpp-python",
    "ctranslate2",
    "faster-whisper",
    "onnxruntime",
    "onnxruntime-gpu",
    "piper-tts",
    "pvporcupine",
    "openwakeword",
    "sounddevice",
    "duckdb",
    "lancedb",
    "numpy",
)
DISK_FAIL_BYTES = 512 * 1024**2
"""Below this the store and logs cannot be trusted to write."""
DISK_WARN_BYTES = 4 * 1024**3
LLAMA_BUILD_FILE = Path(sys.prefix) / ".solo-llama-build"
"""Where scripts/install-llama.sh records the CMake flags of the installed build."""
DOCTOR_HINT = "run `solo doctor` (or `python run.py doctor`) to see why"


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""


def cpu_check(config: Config) -> Finding:
    cpu = this_cpu()
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")
    present = [flag for flag in wanted if flag in cpu.flags]
    detail = f"{cpu.arch}, {cpu.model or 'unknown model'}; {' '.join(present) or 'no AVX2'}"
    if cpu.arch == "x86_64" and "avx2" not in cpu.flags:
        return Finding("cpu", "warn", detail, "without AVX2 the models run several times slower")
    return Finding("cpu", "pass", detail)


def llama_build_check(config: Config) -> Finding:
    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return Finding(
            "llama.cpp build", "fail", "llama-cpp-python is not installed", "run `make setup`"
        )
    flags = LLAMA_BUILD_FILE.read_text().strip() if LLAMA_BUILD_FILE.exists() else ""
    if not flags:
        return Finding(
            "llama.cpp build",
            "warn",
            f"{version}, built outside scripts/install-llama.sh (flags unknown)",
            "reinstall with `make clean setup` for a build whose flags Solo chose",
        )
    on = [
        arg.removeprefix("-DGGML_").removesuffix("=ON")
        for arg in flags.split()
        if arg.endswith("=ON")
    ]
    return Finding(
        "llama.cpp build", "pass", f"{version}: {' '.join(on) or 'baseline'} (no AMX, not native)"
    )


def _from_probe(result: ProbeResult, fix: str) -> Finding:
    if result.ok:
        return Finding(result.name, "pass", result.detail)
    return Finding(result.name, "fail", result.detail, fix)


def _model_path(ref: str, config: Config, role: Literal["llm", "stt", "tts"]) -> str | Finding:
    try:
        return str(resolve_model(ref, config.models, role=role, var_dir=config.solo.var_dir).path)
    except ModelError as error:
        return Finding(f"{role} model", "fail", str(error), "run `solo models pull --defaults`")


def llm_check(config: Config) -> Finding:
    path = _model_path(config.llm.model, config, "llm")
    if isinstance(path, Finding):
        return path
    result = run_probe("llm decode", "llm", path, str(config.llm.gpu_layers))
    fix = (
        "llama.cpp crashes on this CPU: rebuild with the conservative flags "
        "(`SOLO_LLAMA_FLAGS=conservative scripts/install-llama.sh .venv/bin/python "
        "llama-cpp-python==<version>`) and report the line above"
        if result.signal
        else "check [llm] model and gpu_layers"
    )
    return _from_probe(result, fix)


def stt_check(config: Config) -> Finding:
    path = _model_path(config.voice.stt.model, config, "stt")
    if isinstance(path, Finding):
        return path
    from solo_actors.voice.devices import stt_device

    device, compute_type = stt_device(config.voice.stt)
    result = run_probe("stt transcribe", "stt", path, device, compute_type)
    return _from_probe(result, "check [voice.stt] model, device and compute_type")


def tts_check(config: Config) -> Finding:
    path = _model_path(config.voice.tts.voice, config, "tts")
    if isinstance(path, Finding):
        return path
    from solo_actors.voice.devices import onnx_providers

    result = run_probe("tts synthesize", "tts", path, onnx_providers(config.voice.tts.device)[0])
    return _from_probe(result, "check [voice.tts] voice and device")


def wake_check(config: Config) -> Finding:
    wake = config.voice.wake
    # A remote service is not probed here; its local fallback engine is.
    engine = wake.remote.local_engine if wake.engine == "wyoming" else wake.engine
    keyword = wake.keyword if engine == "porcupine" else wake.model
    result = run_probe("wake word", "wake", engine, keyword)
    return _from_probe(result, "check [voice.wake] engine and keyword")


def remote_check(config: Config) -> Finding:
    """Each remote engine's service (``engine = "wyoming"``) answers ``describe``."""
    from solo_actors.voice.remote import STT, TTS, WAKE, RemoteServiceError, describe

    voice = config.voice
    engines = [(role, key, settings) for role, key, engine, settings in (
        (STT, "stt", voice.stt.engine, voice.stt.remote),
        (TTS, "tts", voice.tts.engine, voice.tts.remote),
        (WAKE, "wake", voice.wake.engine, voice.wake.remote),
    ) if engine == "wyoming"]  # fmt: skip
    if not engines:
        return Finding("remote engines", "pass", "none: stt, tts and wake run here")
    answers, failures, fatal = [], [], False
    for role, key, settings in engines:
        try:
            answers.append(f"{key}: {describe(settings, role)}")
        except RemoteServiceError as error:
            failures.append(f"{key}: {error}")
            fatal = fatal or settings.fallback == "none"
    if not failures:
        return Finding("remote engines", "pass", "; ".join(answers))
    then = "" if fatal else " (the local fallback serves meanwhile)"
    return Finding(
        "remote engines",
        "fail" if fatal else "warn",
        "; ".join(failures),
        f"start the service or fix [voice.<stt|tts|wake>.remote] uri{then}",
    )


def audio_check(config: Config) -> Finding:
    # In a subprocess: PortAudio prints to stderr and may probe hardware for seconds.
    code = (
        "import sounddevice as sd; d = sd.query_devices(); "
        "print(sum(1 for x in d if x['max_input_channels'] > 0), "
        "sum(1 for x in d if x['max_output_channels'] > 0))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["sounddevice failed"])[-1]
        return Finding(
            "audio devices",
            "warn",
            last,
            "install libportaudio2 (scripts/system-deps.sh); "
            "without audio use --text, --input or the API",
        )
    inputs, outputs = (int(n) for n in done.stdout.split())
    if not inputs or not outputs:
        return Finding(
            "audio devices",
            "warn",
            f"{inputs} input, {outputs} output devices",
            "no sound card: use `--text`, `--input FILE --output-dir DIR` or the API",
        )
    return Finding("audio devices", "pass", f"{inputs} input, {outputs} output devices")


def api_port_check(config: Config) -> Finding:
    host, port = config.api.host, config.api.port
    if not config.api.enabled:
        return Finding("api port", "pass", "the API is disabled ([api] enabled = false)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            url = config.solo.var_path("api", "url")
            if url.exists():
                return Finding(
                    "api port", "pass", f"{host}:{port} in use, by Solo ({url.read_text().strip()})"
                )
            return Finding(
                "api port",
                "fail",
                f"{host}:{port} cannot be bound: {error.strerror}",
                "another program holds it: set [api] port",
            )
    return Finding("api port", "pass", f"{host}:{port} is free")


def disk_check(config: Config) -> Finding:
    var = config.solo.var_path()
    existing = next(path for path in (var, *var.parents) if path.exists())
    free = shutil.disk_usage(existing).free
    detail = f"{free / 1024**3:.1f} GiB free under {var}"
    if free < DISK_FAIL_BYTES:
        return Finding(
            "disk", "fail", detail, "free space: the store, logs and memories write there"
        )
    if free < DISK_WARN_BYTES:
        return Finding("disk", "warn", detail, "less than 4 GiB left for turns, logs and backups")
    return Finding("disk", "pass", detail)


def versions_check(config: Config) -> Finding:
    found = []
    for name in NATIVE_LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return Finding("native libraries", "pass", ", ".join(found))


def gpu_check(config: Config) -> Finding:
    from solo_actors.voice.devices import cuda_available

    cuda = cuda_available()
    wants = config.llm.gpu_layers != 0 or "cuda" in (
        config.voice.stt.device,
        config.voice.tts.device,
    )
    if not cuda:
        if wants:
            return Finding(
                "gpu",
                "fail",
                "the config asks for CUDA, but no CUDA device is usable",
                'set [llm] gpu_layers = 0 and devices to "auto", or install the driver',
            )
        return Finding("gpu", "pass", "no CUDA device; everything runs on the CPU")
    return Finding("gpu", "pass", f"CUDA present; llm gpu_layers={config.llm.gpu_layers}")


CHECKS: tuple[Callable[[Config], Finding], ...] = (
    cpu_check,
    llama_build_check,
    llm_check,
    stt_check,
    tts_check,
    wake_check,
    remote_check,
    gpu_check,
    audio_check,
    api_port_check,
    disk_check,
    versions_check,
)


def examine(config: Config, only: set[str] | None = None) -> list[Finding]:
    """Run every check (or those whose function name starts with one of `only`)."""
    selected = [check for check in CHECKS if not only or check.__name__.split("_")[0] in only]
    return [check(config) for check in selected]
