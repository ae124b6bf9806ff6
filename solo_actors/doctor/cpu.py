"""The CPU's instruction sets, and the llama.cpp build flags chosen from them.

llama.cpp's default build uses `-march=native`, which turns on whatever the build machine
has, AMX included. ggml's AMX backend segfaults in `ggml_backend_amx_mul_mat` on every decode
on some AVX-512/AMX Xeons (upstream ggml-org/llama.cpp#20824), so Solo never builds it native:
it turns the x86 extensions on one by one from `/proc/cpuinfo`, keeps AVX-512 and VNNI where
the CPU has them, and leaves AMX off everywhere. On aarch64 NEON is the baseline; dot-product
and int8 matrix extensions are added when the CPU lists them.

Standard library only: `scripts/install-llama.sh` runs this module before the venv has
anything else (`python -m solo_actors.doctor.cpu cmake-args`).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

# (cpuinfo flag, ggml CMake option): each option is on only when the CPU lists its flag.
# Order follows ggml's CMakeLists so the printed arguments read like its option list.
X86_OPTIONS: tuple[tuple[str, str], ...] = (
    ("sse4_2", "GGML_SSE42"),
    ("avx", "GGML_AVX"),
    ("avx_vnni", "GGML_AVX_VNNI"),
    ("avx2", "GGML_AVX2"),
    ("bmi2", "GGML_BMI2"),
    ("avx512f", "GGML_AVX512"),
    ("avx512vbmi", "GGML_AVX512_VBMI"),
    ("avx512_vnni", "GGML_AVX512_VNNI"),
    ("avx512_bf16", "GGML_AVX512_BF16"),
    ("fma", "GGML_FMA"),
    ("f16c", "GGML_F16C"),
)
# Never on, whatever the CPU says: the AMX matmul crashes (llama.cpp#20824).
X86_ALWAYS_OFF: tuple[str, ...] = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
# The conservative fallback when the tuned build fails its smoke test: the AVX2 generation
# (Haswell, 2013), which every x86 CPU that runs Solo's models at a usable speed has.
X86_BASELINE: frozenset[str] = frozenset({"sse4_2", "avx", "avx2", "bmi2", "fma", "f16c"})
# aarch64 `Features` words -> the -march extension that uses them.
ARM_EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("asimddp", "dotprod"),
    ("asimdhp", "fp16"),
    ("i8mm", "i8mm"),
)


@dataclass(frozen=True)
class Cpu:
    """What the build cares about: the architecture, the model name and the flag words."""

    arch: str  # "x86_64" | "aarch64" | another `uname -m`
    model: str
    flags: frozenset[str]

    @property
    def has_amx(self) -> bool:
        return any(flag.startswith("amx") for flag in self.flags)


def parse_cpuinfo(text: str, arch: str) -> Cpu:
    """The first processor's model and flags (x86 `flags`, aarch64 `Features`)."""
    model = ""
    flags: frozenset[str] = frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return Cpu(arch=normalise_arch(arch), model=model, flags=flags)


def normalise_arch(machine: str) -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine.lower(), machine.lower())


def this_cpu() -> Cpu:
    text = CPUINFO.read_text() if CPUINFO.exists() else ""
    return parse_cpuinfo(text, platform.machine())


def cmake_args(cpu: Cpu, *, conservative: bool = False) -> list[str]:
    """The ggml CMake flags for this CPU: never native, never AMX.

    `conservative` is the fallback after a failed smoke test: on x86 the AVX2 baseline only
    (and only what the CPU has of it), on aarch64 plain NEON.
    """
    args = ["-DGGML_NATIVE=OFF"]
    if cpu.arch == "x86_64":
        usable = cpu.flags & X86_BASELINE if conservative else cpu.flags
        args += [f"-D{option}={'ON' if flag in usable else 'OFF'}" for flag, option in X86_OPTIONS]
        args += [f"-D{option}=OFF" for option in X86_ALWAYS_OFF]
    elif cpu.arch == "aarch64":
        extensions = (
            [] if conservative else [ext for flag, ext in ARM_EXTENSIONS if flag in cpu.flags]
        )
        args.append(
            "-DGGML_CPU_ARM_ARCH="
            + "+".join(["armv8.2-a" if extensions else "armv8-a", *extensions])
        )
    return args


def main(argv: list[str]) -> int:
    """`python -m solo_actors.doctor.cpu cmake-args [--conservative]` prints the flags."""
    if not argv or argv[0] not in ("cmake-args", "describe"):
        print(
            "usage: python -m solo_actors.doctor.cpu cmake-args [--conservative] | describe",
            file=sys.stderr,
        )
        return 2
    cpu = this_cpu()
    if argv[0] == "describe":
        amx = " (has AMX, built without it)" if cpu.has_amx else ""
        print(f"{cpu.arch} {cpu.model or '(unknown model)'}{amx}")
        return 0
    print(" ".join(cmake_args(cpu, conservative="--conservative" in argv[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
