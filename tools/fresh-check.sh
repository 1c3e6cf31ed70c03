#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's two commands on a fresh Debian 12 machine: a minimal root
# with a C toolchain and none of the project's packages, a clean clone of
# this tree's HEAD in it, then `make test` and `make run` inside, as a new
# user would type them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    cat <<USAGE
usage: tools/fresh-check.sh [--keep]

1. A Debian 12 root: debootstrap --variant=minbase plus make, gcc, git,
   python3 and ca-certificates (tools/debian-root.sh; its tarball is kept
   in build/fresh/, so later runs skip debootstrap).
2. A clean clone of this tree's HEAD (committed work only) in /src/provcat.
3. chroot, in a mount namespace of its own with /proc, /sys and /dev
   mounted (and always unmounted): \`make test\`, which installs the
   packages and builds raft as on any fresh machine; its output is in
   build/fresh/make-test.log, and printed whole if it fails.
4. \`make run\` on a terminal: its banner, 200 from /readyz at the leader
   it prints, Ctrl-C, exit status 0 (tests/integration/ptyrun.py).

Prints the time of each step. Needs root and Debian's archive.
  --keep   leave the root in build/fresh/root afterwards
Environment: DEBIAN_MIRROR (tools/debian-root.sh), FRESH_TEST_TIMEOUT
(seconds for make test, default 2400).
USAGE
}
keep=0
case "${1:-}" in
--help | -h) usage; exit 0 ;;
--keep) keep=1 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root (chroot, mounts)" >&2; exit 1; }

fresh="$top/build/fresh"
root="$fresh/root"
tarball="$fresh/bookworm-minbase-make-gcc-git-python3-ca.tar"
log="$fresh/make-test.log"

# Mounts made here must never outlive the check nor show outside it: run
# in a private mount namespace (they vanish with it) and unmount them on
# every exit anyway.
if [ -z "${FRESH_CHECK_NS:-}" ]; then
    mkdir -p "$fresh"
    t0=$(date +%s)
    "$top/tools/debian-root.sh" "$tarball" make,gcc,git,python3,ca-certificates
    echo "fresh-check: base root ready in $(($(date +%s) - t0)) s"
    FRESH_CHECK_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi

# Every mount at or below the root, deepest first.
mounts_below() {
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' \
        /proc/self/mountinfo | sort -r
}
# Processes whose root directory is the fresh root (left by a failure).
kill_inside() {
    local p
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
            kill -KILL "${p#/proc/}" 2>/dev/null || true
        fi
    done
}
unmount_all() {
    local m
    kill_inside
    for m in $(mounts_below); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    if [ -n "$(mounts_below)" ]; then
        echo "fresh-check: still mounted: $(mounts_below | tr '\n' ' ')" >&2
        return 1
    fi
}
cleanup() {
    local rc=$?
    trap - EXIT
    unmount_all || rc=1
    echo "fresh-check: /proc, /sys and /dev unmounted"
    if [ "$keep" = 0 ]; then
        rm -rf --one-file-system "$root"
    fi
    exit "$rc"
}

unmount_all
rm -rf --one-file-system "$root"
mkdir -p "$root"
t0=$(date +%s)
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
commit=$(git -C "$top" rev-parse HEAD)
if [ -n "$(git -C "$top" status --porcelain)" ]; then
    echo "fresh-check: note: uncommitted changes are not in the clone (HEAD $commit)"
fi
git clone --quiet --no-hardlinks "$top" "$root/src/provcat"
git -C "$root/src/provcat" checkout --quiet --detach "$commit"
echo "fresh-check: root extracted, clone of $commit in /src/provcat ($(($(date +%s) - t0)) s)"
for p in libuv1-dev libraft-dev pkg-config libcmocka-dev curl; do
    if chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        echo "fresh-check: $p is installed in the fresh root: not fresh" >&2
        exit 1
    fi
done

trap cleanup EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"

inside=(chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        sh -c)

t0=$(date +%s)
echo "fresh-check: make test (log: $log)"
rc=0
timeout -k 30 "${FRESH_TEST_TIMEOUT:-2400}" "${inside[@]}" 'cd /src/provcat && make test' \
    >"$log" 2>&1 </dev/null || rc=$?
t_test=$(($(date +%s) - t0))
if [ "$rc" != 0 ]; then
    cat "$log"
    [ "$rc" = 124 ] && echo "fresh-check: make test still running after ${FRESH_TEST_TIMEOUT:-2400} s: stopped"
    echo "fresh-check: make test failed (exit status $rc) after $t_test s"
    exit 1
fi
grep -E '^(deps\.sh:|unit: |integration: )' "$log" | sed 's/^/  /'
echo "fresh-check: make test passed in $t_test s"

t0=$(date +%s)
echo "fresh-check: make run, on a terminal"
python3 "$top/tests/integration/ptyrun.py" --timeout 300 -- \
    "${inside[@]}" 'cd /src/provcat && exec make run'
echo "fresh-check: make run passed in $(($(date +%s) - t0)) s"
