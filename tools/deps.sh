#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what provcat needs to build and test on Debian 12, then build raft
# 0.22.1 from Debian 13's source package (with our patches) into build/deps.
# Idempotent: a no-op in well under a second when everything is there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"
raft_version=0.22.1
# What building the programs needs (raft's source package included) ...
build_packages=(libuv1-dev liblz4-dev libxxhash-dev libsodium-dev
                libjansson-dev libhttp-parser-dev libcurl4-openssl-dev
                libunistring-dev pkg-config autoconf automake libtool make gcc
                dpkg-dev)
# ... and what the tests, `make run`, `make check` and the benchmarks add:
# Debian 12's own raft (make RAFT=system), cmocka, clang for the sanitizer
# and fuzz builds, groff and systemd-analyze to check the man page and the
# unit `make install` writes.
packages=("${build_packages[@]}" libcmocka-dev libraft-dev clang
          libclang-rt-14-dev groff-base systemd wrk curl python3)

usage() {
    cat <<USAGE
usage: tools/deps.sh [--check] [--build] [--help]

Installs the Debian packages provcat needs (only those missing; runs
apt-get update only then), and builds libraft $raft_version from Debian 13's
source package into build/deps/ unless it is already there.

  --check   exit 0 if nothing is missing, 1 otherwise; change nothing
  --build   only what building the programs needs, not the tests' tools
            (the container image's build stage)
  --help    this text
USAGE
}

check_only=0
for arg in "$@"; do
    case "$arg" in
    --help | -h) usage; exit 0 ;;
    --check) check_only=1 ;;
    --build) packages=("${build_packages[@]}") ;;
    *) echo "deps.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
# The stamp names the recipe, so a changed patch or build flag rebuilds raft.
stamp="$deps/.raft-$(cat "$0" "$top"/tools/patches/raft-*.patch | sha256sum | cut -c1-16)"
raft_ok=0
if [ -f "$deps/lib/libraft.a" ] && [ -f "$stamp" ]; then
    raft_ok=1
fi
if [ "$check_only" = 1 ]; then
    [ ${#missing[@]} -eq 0 ] && [ "$raft_ok" = 1 ] && exit 0
    exit 1
fi

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps.sh: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$raft_ok" = 1 ]; then
    exit 0
fi

# Fetch Debian 13's raft source through a private apt configuration, so the
# system's sources stay untouched.
work="$deps/src"
rm -rf "$work" "$deps/lib" "$deps/include"
mkdir -p "$work/lists/partial" "$work/pkg"
cat >"$work/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SRC
apt_priv=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=-
          -o "Dir::State::Lists=$work/lists" -o Debug::NoLocking=1)
echo "deps.sh: fetching raft $raft_version source (Debian 13)"
apt-get "${apt_priv[@]}" update -qq
(cd "$work/pkg" && apt-get "${apt_priv[@]}" source -qq --download-only "raft=$raft_version-1" >/dev/null 2>&1)
(cd "$work/pkg" && dpkg-source -x --no-check raft_"$raft_version"-1.dsc raft >/dev/null)
src="$work/pkg/raft"
for p in "$top"/tools/patches/raft-"$raft_version"-*.patch; do
    if ! patch -d "$src" -p1 --forward --quiet <"$p"; then
        echo "deps.sh: patch $(basename "$p") no longer applies to raft $raft_version" >&2
        exit 1
    fi
done
echo "deps.sh: building raft $raft_version into build/deps"
(
    cd "$src"
    autoreconf -i >/dev/null 2>&1
    ./configure --prefix="$deps" --enable-static --disable-shared \
        --disable-example --disable-benchmark CFLAGS="-O2 -g -fPIC -DNDEBUG" >/dev/null
    make -j"$(nproc)" >/dev/null 2>&1
    make install >/dev/null
)
rm -f "$deps"/.raft-*
touch "$stamp"
rm -rf "$work"
echo "deps.sh: raft $raft_version ready"
