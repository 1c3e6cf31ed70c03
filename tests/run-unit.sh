#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every cmocka unit binary in DIR; each prints its own summary. With
# VALGRIND=1 each runs under memcheck. Exits non-zero if any binary fails.
set -u
dir=${1:?usage: tests/run-unit.sh DIR}
fail=0
n=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    n=$((n + 1))
    if [ "${VALGRIND:-0}" = 1 ]; then
        valgrind -q --leak-check=full --error-exitcode=1 \
            --suppressions="$(dirname "$0")/valgrind.supp" "$t" || fail=$((fail + 1))
    else
        "$t" || fail=$((fail + 1))
    fi
done
echo "unit: $n binaries, $fail failed"
[ "$fail" -eq 0 ]
