#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Make a tarball of a minimal Debian 12 root (debootstrap --variant=minbase)
# with a few packages added, unless it is already there: the fresh machine
# of tools/fresh-check.sh and the base image of docker/test.sh.
set -euo pipefail

usage() {
    cat <<USAGE
usage: tools/debian-root.sh TARBALL [PACKAGE,...]

Writes TARBALL (an uncompressed tar, numeric owners) holding the root that
debootstrap --variant=minbase makes of Debian 12 (bookworm), with PACKAGES
(comma-separated) added. Does nothing when TARBALL exists: delete it to
make it again. Installs debootstrap when it is missing. Needs root.

Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
USAGE
}
case "${1:-}" in
--help | -h) usage; exit 0 ;;
"" | -*) usage >&2; exit 2 ;;
esac
out=$1
include=${2:-}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -f "$out" ]; then
    echo "debian-root: $out is there (cached): no debootstrap"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "debian-root: needs root (debootstrap, chroot)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    echo "debian-root: installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        debootstrap >/dev/null
fi

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/debootstrap.XXXXXX")
# Whatever debootstrap left mounted (it mounts /proc and /sys inside while
# it works) goes before the tree does.
cleanup() {
    local m
    for m in $(awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' \
            /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

start=$(date +%s)
echo "debian-root: debootstrap --variant=minbase bookworm${include:+ + $include} (from $mirror)"
if ! debootstrap --variant=minbase ${include:+--include="$include"} bookworm \
        "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -30 "$work/debootstrap.log" >&2
    [ -f "$work/root/debootstrap/debootstrap.log" ] &&
        tail -30 "$work/root/debootstrap/debootstrap.log" >&2
    echo "debian-root: debootstrap failed" >&2
    exit 1
fi
# The downloaded packages are not part of a machine.
rm -f "$work/root/var/cache/apt/archives/"*.deb
tar -C "$work/root" --numeric-owner -cf "$out.tmp" .
mv -f "$out.tmp" "$out"
echo "debian-root: $out ($(du -m "$out" | cut -f1) MB) in $(($(date +%s) - start)) s"
