#!/usr/bin/env bash
# Turns a verbose CMake/Ninja build log on stdin into one updating progress line, so a
# build of several minutes shows that it is moving. The full log is kept for failures.
set -uo pipefail
log=$(mktemp -t solo-build.XXXXXX.log)
while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    if [[ $line =~ \[([0-9]+)/([0-9]+)\] ]]; then
        printf '\r    compiling %s/%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    fi
done
printf '\n'
if grep -qiE '^error|error:|failed to build' "$log"; then
    echo "    the build failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
rm -f "$log"
