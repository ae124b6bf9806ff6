#!/usr/bin/env bash
# Installs llama-cpp-python into the venv from a wheel built once per machine.
#
# PyPI has no wheel for it, so it is compiled from source (minutes on 2 cores). The build
# uses -march=native, so the wheel is only valid on CPUs with the same instruction set: it is
# cached under ~/.cache/solo/wheels/<cpu-flags-hash>/ and reused by every later set-up on
# this machine, including fresh clones. Usage: install-llama.sh VENV_PYTHON REQUIREMENT
set -euo pipefail
python=$1
requirement=$2                      # e.g. llama-cpp-python==0.3.36
version=${requirement#*==}
cpu=$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-12)
cache="${SOLO_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/solo/wheels}/$cpu"
here=$(dirname "$0")

wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "==> building $requirement from source: 5-15 minutes on 2 cores, once per machine"
    echo "    (the wheel is kept in $cache for later set-ups)"
    mkdir -p "$cache"
    CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" \
        "$python" -m pip wheel --no-deps --disable-pip-version-check -v -w "$cache" "$requirement" 2>&1 \
        | "$here/build-progress.sh"
    wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl | head -n 1)
fi
echo "==> installing $(basename "$wheel")"
"$(dirname "$python")/uv" pip install --quiet --python "$python" "$wheel"
