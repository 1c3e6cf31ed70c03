#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every cmocka unit binary in DIR; each prints its own summary. With
# VALGRIND=1 each runs under memcheck. Each binary has UNIT_TIMEOUT seconds
# (default 300, 3000 under valgrind): one that hangs is killed and named.
# Exits non-zero if any binary fails, naming every one that did.
set -u
dir=${1:?usage: tests/run-unit.sh DIR}
if [ "${VALGRIND:-0}" = 1 ]; then
    limit=${UNIT_TIMEOUT:-3000}
else
    limit=${UNIT_TIMEOUT:-300}
fi
failed=()
n=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    n=$((n + 1))
    name=$(basename "$t")
    if [ "${VALGRIND:-0}" = 1 ]; then
        cmd=(valgrind -q --leak-check=full --error-exitcode=1
             --suppressions="$(dirname "$0")/valgrind.supp" "$t")
    else
        cmd=("$t")
    fi
    # SIGTERM at the limit, SIGKILL 10 s later if that is not enough.
    timeout -k 10 "$limit" "${cmd[@]}"
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "unit: $name hung: killed after ${limit} s (UNIT_TIMEOUT)"
        failed+=("$name (hung)")
    elif [ "$rc" != 0 ]; then
        echo "unit: $name failed (exit status $rc)"
        failed+=("$name")
    fi
done
echo "unit: $n binaries, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
[ "${#failed[@]}" -eq 0 ]
