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
5. The README's systemd steps as written, in the same root booted with
   systemd as PID 1 (systemd-nspawn -b; systemd, systemd-sysv and sudo
   added): a script run at boot takes the README's code block, with a
   stand-in for the person at sudoedit (local addresses, one node), runs
   it, then checks that provcat-node.service is active (Type=notify), ready
   and running as a dynamic user, and that systemctl stop ends it with
   status 0. Its log is build/fresh/systemd.log.

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
# /etc/hosts as the Debian installer writes it (debootstrap writes none):
# localhost resolves (test_observe names nodes by it) and so does the host
# name (sudo looks it up).
cat >"$root/etc/hosts" <<EOF
127.0.0.1 localhost
127.0.1.1 $(hostname)
::1 localhost ip6-localhost ip6-loopback
EOF
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

# The network as a machine on it sees it: its name servers (resolv.conf,
# above), the certificate authorities it adds to Debian's (an intercepting
# proxy's: npm fetches the OpenAPI validator over https) and its proxy
# settings. Node does not read the system's store by itself, hence
# NODE_EXTRA_CA_CERTS.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1 ||
        { echo "fresh-check: update-ca-certificates failed in the root" >&2; exit 1; }
fi
net_env=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && net_env+=("$v=${!v}")
done
inside=(chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        "${net_env[@]}" sh -c)

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

t0=$(date +%s)
echo "fresh-check: the README's systemd steps, booted with systemd-nspawn"
if ! command -v systemd-nspawn >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        systemd-container >/dev/null
fi
"${inside[@]}" 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends systemd systemd-sysv sudo >/dev/null'
read -r http raft <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
# The README's code block under "As a systemd service", as written.
awk '/^As a systemd service/ { f = 1 } f && /^```$/ { n++; next } f && n == 1' \
    "$top/README.md" >"$root/root/readme-systemd.sh"
grep -q 'systemctl enable --now provcat-node' "$root/root/readme-systemd.sh" ||
    { echo "fresh-check: no systemd steps found in README.md" >&2; exit 1; }
# The person at sudoedit: this machine's addresses, a one-node cluster.
cat >"$root/usr/local/sbin/provcat-conf-edit" <<EDIT
#!/bin/sh
sed -i -e 's/^peer = .*/peer = 127.0.0.1:$raft/' \
    -e 's/^client = .*/client = 127.0.0.1:$http/' \
    -e 's|^advertise-client-url = .*|advertise-client-url = http://127.0.0.1:$http|' \
    -e 's/^cluster = .*/cluster = 1=127.0.0.1:$raft/' "\$1"
EDIT
cat >"$root/usr/local/sbin/provcat-readme-check" <<CHECK
#!/bin/bash
# Run at boot by provcat-readme-check.service; powers the machine off.
exec >/root/readme-systemd.log 2>&1
fail() { echo "RESULT: FAILED: \$*"; journalctl -u provcat-node --no-pager | tail -30; systemctl poweroff --no-block; exit 1; }
systemctl is-system-running --wait
cd /src/provcat
echo "--- the README's steps"
cat /root/readme-systemd.sh
echo "---"
SUDO_EDITOR=/usr/local/sbin/provcat-conf-edit bash -ex /root/readme-systemd.sh || fail "the README's steps"
[ "\$(systemctl is-active provcat-node)" = active ] || fail "not active"
[ "\$(systemctl show -p Type --value provcat-node)" = notify ] || fail "not Type=notify"
pid=\$(systemctl show -p MainPID --value provcat-node)
uid=\$(awk '/^Uid:/ { print \$2 }' "/proc/\$pid/status")
echo "provcat-node.service: active, pid \$pid, uid \$uid"
# DynamicUser= takes a uid from 61184-65519, never root's.
[ "\$uid" -ge 61184 ] && [ "\$uid" -le 65519 ] || fail "runs as uid \$uid"
for _ in \$(seq 100); do
    curl -fsS http://127.0.0.1:$http/readyz >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS http://127.0.0.1:$http/readyz || fail "readyz"
echo
curl -fsS -H "Authorization: Bearer \$(cat /etc/provcat/admin.token)" \
    http://127.0.0.1:$http/v1/whoami || fail "whoami with the admin token"
echo
[ -d /var/lib/private/provcat/raft ] || fail "no /var/lib/private/provcat/raft"
systemctl stop provcat-node
echo "after stop: \$(systemctl show -p Result,ExecMainStatus provcat-node | tr '\n' ' ')"
[ "\$(systemctl show -p ExecMainStatus --value provcat-node)" = 0 ] || fail "exit status"
[ "\$(systemctl show -p Result --value provcat-node)" = success ] || fail "result"
journalctl -u provcat-node --no-pager | grep -q "serving HTTP" || fail "journal"
echo "RESULT: passed"
systemctl poweroff --no-block
CHECK
chmod 755 "$root/usr/local/sbin/provcat-conf-edit" "$root/usr/local/sbin/provcat-readme-check"
cat >"$root/etc/systemd/system/provcat-readme-check.service" <<'UNIT'
[Unit]
Description=fresh-check: the README's systemd steps
[Service]
Type=simple
ExecStart=/usr/local/sbin/provcat-readme-check
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/provcat-readme-check.service \
    "$root/etc/systemd/system/multi-user.target.wants/provcat-readme-check.service"
unmount_all
rc=0
timeout -k 10 900 systemd-nspawn -q -D "$root" -b --register=no --keep-unit \
    >"$fresh/systemd-boot.log" 2>&1 </dev/null || rc=$?
cp "$root/root/readme-systemd.log" "$fresh/systemd.log" 2>/dev/null || true
if [ "$rc" != 0 ] || ! grep -q "^RESULT: passed" "$fresh/systemd.log" 2>/dev/null; then
    cat "$fresh/systemd.log" 2>/dev/null || tail -40 "$fresh/systemd-boot.log"
    echo "fresh-check: the README's systemd steps failed (nspawn exit status $rc)"
    exit 1
fi
grep -E '^(provcat-node.service|after stop|RESULT)' "$fresh/systemd.log" | sed 's/^/  /'
echo "fresh-check: the README's systemd steps passed in $(($(date +%s) - t0)) s"
