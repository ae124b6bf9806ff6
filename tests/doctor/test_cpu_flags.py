"""The llama.cpp build flags chosen from sample /proc/cpuinfo files: never native, never
AMX, AVX-512 and VNNI kept where the CPU has them, NEON extensions on aarch64."""

from __future__ import annotations

from solo_actors.doctor.cpu import cmake_args, parse_cpuinfo

AVX2_ONLY = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD Ryzen 7 3700X 8-Core Processor
flags\t\t: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 popcnt aes avx f16c bmi1 avx2 bmi2
"""

AVX512_AMX = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni amx_bf16 amx_tile amx_int8
processor\t: 1
flags\t\t: fpu
"""  # noqa: E501

AARCH64 = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp i8mm
CPU implementer\t: 0x41
"""  # noqa: E501


def flags_of(args: list[str]) -> dict[str, str]:
    return dict(arg.removeprefix("-D").split("=", 1) for arg in args)


def test_avx2_machine_gets_avx2_and_nothing_wider() -> None:
    cpu = parse_cpuinfo(AVX2_ONLY, "x86_64")
    flags = flags_of(cmake_args(cpu))
    assert flags["GGML_NATIVE"] == "OFF"
    assert flags["GGML_AVX2"] == flags["GGML_FMA"] == flags["GGML_F16C"] == "ON"
    assert flags["GGML_AVX512"] == flags["GGML_AVX512_VNNI"] == flags["GGML_AVX_VNNI"] == "OFF"
    assert not cpu.has_amx


def test_avx512_amx_machine_keeps_avx512_and_vnni_but_never_amx() -> None:
    cpu = parse_cpuinfo(AVX512_AMX, "x86_64")
    assert cpu.has_amx and cpu.model.startswith("Intel(R) Xeon(R) Platinum")
    flags = flags_of(cmake_args(cpu))
    assert flags["GGML_NATIVE"] == "OFF"
    for option in (
        "GGML_AVX512",
        "GGML_AVX512_VNNI",
        "GGML_AVX512_VBMI",
        "GGML_AVX512_BF16",
        "GGML_AVX_VNNI",
    ):
        assert flags[option] == "ON", option
    for option in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
        assert flags[option] == "OFF", option


def test_conservative_fallback_is_the_avx2_baseline() -> None:
    flags = flags_of(cmake_args(parse_cpuinfo(AVX512_AMX, "x86_64"), conservative=True))
    assert flags["GGML_AVX2"] == "ON"
    assert flags["GGML_AVX512"] == flags["GGML_AVX_VNNI"] == flags["GGML_AMX_INT8"] == "OFF"


def test_conservative_never_claims_what_the_cpu_lacks() -> None:
    old = parse_cpuinfo("flags\t: sse4_2 avx\n", "x86_64")
    flags = flags_of(cmake_args(old, conservative=True))
    assert flags["GGML_AVX"] == "ON" and flags["GGML_AVX2"] == "OFF"


def test_aarch64_gets_neon_extensions_and_no_x86_flag() -> None:
    cpu = parse_cpuinfo(AARCH64, "arm64")
    assert cpu.arch == "aarch64"
    args = cmake_args(cpu)
    assert args == ["-DGGML_NATIVE=OFF", "-DGGML_CPU_ARM_ARCH=armv8.2-a+dotprod+fp16+i8mm"]
    assert cmake_args(cpu, conservative=True) == [
        "-DGGML_NATIVE=OFF",
        "-DGGML_CPU_ARM_ARCH=armv8-a",
    ]
