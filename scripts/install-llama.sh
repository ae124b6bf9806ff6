#!/usr/bin/env bash
# Installs llama-cpp-python into the venv from a wheel built once per machine and flag set.
#
# PyPI has no wheel for it, so it is compiled from source (minutes on 2 cores). The build is
# never `-march=native`: solo_actors/doctor/cpu.py picks the instruction sets from
# /proc/cpuinfo one by one (AVX-512 and VNNI kept where present, AMX always off: its matmul
# segfaults on some Xeons, llama.cpp#20824). The wheel is cached under
# ~/.cache/solo/wheels/<key>/, where the key hashes the version, the CPU flag line and the
# whole CMAKE_ARGS, so a changed flag set (a GPU build, the conservative fallback) is a new
# build and never the previous wheel. pip's own cache is bypassed (--no-cache-dir) for the
# same reason: it ignores CMAKE_ARGS.
#
# Usage: install-llama.sh VENV_PYTHON REQUIREMENT
# Environment: SOLO_GPU=cuda        build with CUDA (needs nvcc); anything else is the CPU build
#              SOLO_LLAMA_FLAGS=conservative   the AVX2 baseline (set by the self-check's retry)
#              CMAKE_ARGS           extra CMake arguments, appended to Solo's
set -euo pipefail
python=$1
requirement=$2                      # e.g. llama-cpp-python==0.3.36
version=${requirement#*==}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

mode=${SOLO_LLAMA_FLAGS:-tuned}
cache_root="${SOLO_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/solo/wheels}"
cpu_line=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m)
wheel_dir() {  # the cache folder of one flag set: version, CPU and CMake arguments hashed
    printf '%s\n%s\n%s\n' "$version" "$cpu_line" "$1" | sha256sum | cut -c1-12
}
tuned_args() {
    PYTHONPATH="$root" "$python" -m solo_actors.doctor.cpu cmake-args $([ "$mode" = conservative ] && echo --conservative)
}
flags=$(tuned_args)
if [ "$mode" = tuned ] && [ -e "$cache_root/$(wheel_dir "-DLLAVA_BUILD=OFF $flags ${CMAKE_ARGS:-}")/CRASHED" ]; then
    # The self-check saw this flag set crash on this machine before: go straight to the baseline.
    echo "==> the tuned llama.cpp build crashed here before; using the conservative flags"
    mode=conservative
    flags=$(tuned_args)
fi
case "${SOLO_GPU:-}" in
    "" | cpu | none) ;;
    cuda)
        command -v nvcc >/dev/null || {
            echo "error: SOLO_GPU=cuda needs the CUDA toolkit (nvcc on PATH); install it or unset SOLO_GPU" >&2
            exit 2
        }
        flags="$flags -DGGML_CUDA=ON" ;;
    *)
        echo "error: SOLO_GPU=${SOLO_GPU} is not a GPU build Solo knows; use SOLO_GPU=cuda or leave it unset" >&2
        exit 2 ;;
esac
cmake_args="-DLLAVA_BUILD=OFF $flags ${CMAKE_ARGS:-}"
cache="$cache_root/$(wheel_dir "$cmake_args")"
venv=$(dirname "$(dirname "$python")")
if [ "$(cat "$venv/.solo-llama-build" 2>/dev/null)" = "$cmake_args" ] && "$python" -c 'import llama_cpp' 2>/dev/null; then
    exit 0  # the installed build is this flag set already
fi

wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "==> building $requirement from source ($mode flags${SOLO_GPU:+, $SOLO_GPU}): 5-15 minutes on 2 cores, once per machine"
    echo "    CMAKE_ARGS=$cmake_args"
    echo "    (the wheel is kept in $cache for later set-ups)"
    mkdir -p "$cache"
    CMAKE_ARGS="$cmake_args" \
        "$python" -m pip wheel --no-deps --no-cache-dir --disable-pip-version-check -v -w "$cache" "$requirement" 2>&1 \
        | "$here/build-progress.sh"
    wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl | head -n 1)
fi
echo "==> installing $(basename "$wheel") ($mode flags)"
"$(dirname "$python")/uv" pip install --quiet --reinstall --python "$python" "$wheel"
# What the doctor and the self-check read: the installed build's flags, mode and cache folder.
printf '%s\n' "$cmake_args" > "$venv/.solo-llama-build"
printf '%s\n' "$mode" > "$venv/.solo-llama-mode"
printf '%s\n' "$cache" > "$venv/.solo-llama-wheel-dir"
