#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Print the path of a promtool (Prometheus's checker) for the test that
# runs `promtool check metrics` on a live node's /metrics
# (tests/integration/test_observe.py), fetching one when there is none.
#
# Debian 12's prometheus package holds it, but installing that package
# also installs and starts a Prometheus server, which a test machine does
# not want: its promtool is one static binary, so it is unpacked from the
# package into build/deps/bin/promtool instead (apt-get download: nothing
# installed, nothing started; a 19 MB download, 48 MB unpacked, about 3 s
# here). Kept apart from tools/deps.sh, whose contents name the raft build
# (editing it rebuilds raft). Exit 1, saying why, when none can be had.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/deps/bin/promtool"

if command -v promtool >/dev/null 2>&1; then
    command -v promtool
    exit 0
fi
if [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}
mkdir -p "$top/build"
work=$(mktemp -d "$top/build/promtool.XXXXXX")
trap 'rm -rf "$work"' EXIT
fetch() { (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); }
if ! fetch && ! { as_root apt-get update -qq >/dev/null 2>&1 && fetch; }; then
    echo "promtool.sh: cannot download Debian's prometheus package" \
        "(apt-get download prometheus failed)" >&2
    exit 1
fi
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb |
    tar -x -C "$work" ./usr/bin/promtool
mkdir -p "$(dirname "$bin")"
mv "$work/usr/bin/promtool" "$bin"
echo "promtool.sh: $("$bin" --version 2>&1 | head -1)" >&2
echo "$bin"
