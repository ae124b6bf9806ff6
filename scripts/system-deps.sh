#!/usr/bin/env bash
# Debian packages Solo needs at run time that PyPI cannot provide: PortAudio for
# sounddevice; chromium for the dashboard's browser test (tests/browser); espeak-ng and
# flite, the speech engines whose voices the wake tests and bench/bench_voices.py use
# besides Piper's (tests/voice/voices.py). Installs them
# when we are root, else prints the one command to run.
set -euo pipefail
packages=(libportaudio2 chromium espeak-ng flite)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "==> missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
fi
