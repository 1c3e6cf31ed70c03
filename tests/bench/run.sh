#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: run every benchmark binary, then the cluster benchmark.
set -euo pipefail
build=${1:-build/rel}
here=$(cd "$(dirname "$0")" && pwd)
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
echo "== cluster (3 nodes, 127.0.0.1, fsync on)"
"$here/cluster.sh" "$build"
