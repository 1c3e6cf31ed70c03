#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-compare: run the etcd anchor benchmark (etcd.sh beside this
# script, or $ETCD_ANCHOR), then our record benchmark (cluster.sh) on the
# same machine, one after the other, and print them side by side with ratios
# and the issue's targets marked PASS/FAIL.
set -euo pipefail
build=${1:-build/rel}
here=$(cd "$(dirname "$0")" && pwd)
anchor=${ETCD_ANCHOR:-$here/etcd.sh}
if [ ! -f "$anchor" ]; then
    echo "bench-compare: etcd anchor script not found at $anchor" >&2
    exit 1
fi
out=$(mktemp -d /tmp/provcat-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "== etcd anchor ($anchor, NATIVE=0)"
if [ -n "${ETCD_OUTPUT:-}" ]; then # a saved run of the anchor, for testing
    cp "$ETCD_OUTPUT" "$out/etcd.txt"
elif ! NATIVE=0 DURATION_S=${BENCH_SECONDS:-10} timeout 900 bash "$anchor" \
    >"$out/etcd.txt" 2>&1; then
    tail -20 "$out/etcd.txt" >&2
    echo "bench-compare: the etcd anchor failed" >&2
    exit 1
fi
cp "$out/etcd.txt" "${TMPDIR:-/tmp}/provcat-etcd-anchor.last.txt"
sed -n '/^== results/,$p' "$out/etcd.txt"
echo
echo "== provcat"
if [ -n "${OURS_OUTPUT:-}" ]; then # a saved run of cluster.sh, for testing
    cp "$OURS_OUTPUT" "$out/ours.txt"
else
    "$here/cluster.sh" "$build" | tee "$out/ours.txt"
fi

# etcd: each case prints "== LABEL [API, N conns]" then, later, one
# "ANCHOR_RESULT k=v ..." line; keep "label|api|conns<TAB>ops<TAB>p50<TAB>p99".
awk '
/^== .* \[[a-z]+, [0-9]+ conns\]$/ {
    s = substr($0, 4); i = index(s, " [")
    label = substr(s, 1, i - 1); rest = substr(s, i + 2)
    split(rest, f, /[], ]+/); key = label "|" f[1] "|" f[2]
}
/^ANCHOR_RESULT / && key != "" {
    ops = p50 = p99 = ""
    for (j = 2; j <= NF; j++) {
        split($j, kv, "=")
        if (kv[1] == "ops") ops = kv[2]
        if (kv[1] == "p50_ms") p50 = kv[2]
        if (kv[1] == "p99_ms") p99 = kv[2]
    }
    print key "\t" ops "\t" p50 "\t" p99; key = ""
}' "$out/etcd.txt" >"$out/etcd.kv"

etcd_get() { # label conns field(2=ops 3=p50 4=p99)
    awk -F '\t' -v k="$1|http|$2" -v f="$3" '$1 == k { print $f }' "$out/etcd.kv" | tail -1
}
ours() { # metric name
    awk -v k="$1" '$1 == k { print $2 }' "$out/ours.txt" | tail -1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }
verdict() { # value op bound
    awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN {
        if (v == "-" || v == "") { print "n/a"; exit }
        ok = (op == ">=") ? (v >= b) : (v <= b); print ok ? "PASS" : "FAIL" }'
}

echo
echo "== provcat vs etcd 3.4 (same machine, one after the other; etcd via its JSON gateway)"
fmt='%-34s %9s %8s %8s %9s %8s %8s %7s %7s  %s\n'
printf "$fmt" case "ours/s" "p50 ms" "p99 ms" "etcd/s" "p50 ms" "p99 ms" "x thr" "x p99" "target"
row() { # title our-metric-stem etcd-label conns target-spec...
    local title=$1 stem=$2 label=$3 c=$4 tgt=${5:-} o op50 op99 e ep50 ep99 rt rp v=""
    o=$(ours "${stem}_ops"); op50=$(ours "${stem}_p50"); op99=$(ours "${stem}_p99")
    e=$(etcd_get "$label" "$c" 2); ep50=$(etcd_get "$label" "$c" 3); ep99=$(etcd_get "$label" "$c" 4)
    rt=$(ratio "$o" "$e"); rp=$(ratio "$op99" "$ep99")
    case $tgt in
    thr2) v="thr >= 2x etcd: $(verdict "$rt" ">=" 2)" ;;
    thr2p99) v="thr >= 2x etcd: $(verdict "$rt" ">=" 2); p99 <= etcd: $(verdict "$rp" "<=" 1)" ;;
    esac
    printf "$fmt" "$title" "${o:--}" "${op50:--}" "${op99:--}" "${e:--}" "${ep50:--}" "${ep99:--}" "$rt" "$rp" "$v"
}
row "PUT new key c1 / put c1" cluster_record_put_c1 "put (leader)" 1
row "PUT new key c16 / put c16" cluster_record_put_c16 "put (leader)" 16
row "PUT new key c64 / put c64" cluster_record_put_c64 "put (leader)" 64 thr2p99
row "PUT If-Match c64 / put c64" cluster_record_update_c64 "put (leader)" 64
row "GET linearizable / range lin c64" cluster_record_get_lin_c64 "range linearizable (leader)" 64 thr2
row "GET stale / range serial. c64" cluster_record_get_stale_c64 "range serializable (leader)" 64
recs=$(ours cluster_record_batch100_c32_records)
printf '%-34s %9s %38s  batch >= 100000 records/s: %s\n' "records:batch (100/request) c32" \
    "${recs:--}" "records/s" "$(verdict "${recs:--}" ">=" 100000)"
grant=$(ours cluster_record_get_grant_c64_ops); lin=$(ours cluster_record_get_lin_c64_ops)
gr=$(ratio "$grant" "$lin"); bpr=$(ours cluster_record_get_grant_c64_ledger_bytes_per_read)
printf '%-34s %9s %38s  >= 0.70 of GET lin: %s; %s ledger bytes per read < 64: %s\n' \
    "GET through a grant c64 (audited)" "${grant:--}" "x $gr of GET linearizable" \
    "$(verdict "$gr" ">=" 0.70)" "${bpr:--}" "$(verdict "${bpr:--}" "<=" 63.99)"
echo "(x thr = ours/etcd throughput; x p99 = ours/etcd p99, lower is better)"
