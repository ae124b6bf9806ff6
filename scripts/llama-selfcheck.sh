#!/usr/bin/env bash
# After every set-up: decode a few tokens with the installed llama.cpp, in a subprocess.
# A crash (a segfault in a kernel this CPU mishandles, an illegal instruction) is reported
# with its cause; set-up then rebuilds once with the conservative flag set (the AVX2
# baseline), marks the tuned wheel as crashing so later set-ups skip it, and checks again.
# If that also crashes, set-up stops here: it never leaves a venv that segfaults.
# Usage: llama-selfcheck.sh VENV_PYTHON REQUIREMENT
set -euo pipefail
python=$1
requirement=$2
here=$(cd "$(dirname "$0")" && pwd)
venv=$(dirname "$(dirname "$python")")

"$python" -m solo_actors.doctor.selfcheck && exit 0
if [ "$(cat "$venv/.solo-llama-mode" 2>/dev/null)" != conservative ]; then
    tuned_cache=$(cat "$venv/.solo-llama-wheel-dir" 2>/dev/null || true)
    [ -n "$tuned_cache" ] && touch "$tuned_cache/CRASHED"
    echo "==> llama.cpp crashed with the flags tuned for this CPU; rebuilding once with the conservative AVX2 baseline" >&2
    SOLO_LLAMA_FLAGS=conservative "$here/install-llama.sh" "$python" "$requirement"
    "$python" -m solo_actors.doctor.selfcheck && exit 0
fi
cat >&2 <<MSG
error: llama.cpp crashes on this machine even when built with the conservative flags.
       Solo cannot answer questions here as installed. What crashed is printed above;
       'python run.py doctor' checks every model runtime. Please report both outputs.
MSG
exit 1
