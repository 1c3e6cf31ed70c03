#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cluster benchmark: 3 provcat-node processes on 127.0.0.1 with fsync on,
# loaded with wrk on the leader. After start-up it creates an org, a
# provider principal and a published catalog entry, then measures the record
# path: PUT of new keys at 1, 16 and 64 connections, If-Match updates at 64,
# linearizable and stale GET of one record at 64, a grantee's linearizable
# GETs through a share grant at 64 (audited, each answered once its audit
# fact committed; with the ledger bytes each audited read added), and
# records:batch of 100 records per request at 32; then, right after it and
# against the same cluster, `provcat import` of a JSONL file through the
# library (the import row); plus org creation at 64 for continuity with
# older runs. Prints a table and one "name value unit" line per result (docs/
# bench.md explains the rows). Every load is bounded in time.
#
# Env: BENCH_SECONDS (default 10) per case; BENCH_CASES (default all): a
# space-separated subset of the case names below, for profiling;
# BENCH_NODE_FLAGS: extra provcat-node flags (diagnostics only);
# BENCH_IMPORT_RECORDS (default 1000000) and BENCH_IMPORT_FLAGS (extra
# `provcat import` options, default none: the CLI's defaults) for the
# import row, which needs $build/provcat (make bench builds it).
set -euo pipefail
build=${1:-build/rel}
secs=${BENCH_SECONDS:-10}
node="$build/provcat-node"
command -v wrk >/dev/null || { echo "bench: wrk missing (tools/deps.sh installs it)" >&2; exit 1; }
dir=$(mktemp -d "${BENCH_TMP:-/tmp}/provcat-bench.XXXXXX")
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
# Below the kernel's ephemeral range (32768-60999), which clients take from.
base=$((20000 + RANDOM % 12000))
cluster="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
for i in 1 2 3; do
    "$node" --id $i --data-dir "$dir/n$i" --peer "127.0.0.1:$((base + i - 1))" \
        --client "127.0.0.1:$((base + 10 + i))" --cluster "$cluster" \
        --initial-cluster-state new --admin-token-file "$dir/token" \
        --log-level warn ${BENCH_NODE_FLAGS:-} 2>>"$dir/n$i.log" &
    pids+=($!)
    [ $i = 1 ] && for _ in $(seq 50); do [ -s "$dir/token" ] && break; sleep 0.1; done
done
leader=""
for _ in $(seq 100); do
    for i in 1 2 3; do
        u="http://127.0.0.1:$((base + 10 + i))"
        if curl -fsS "$u/v1/status" 2>/dev/null | grep -q '"state": *"leader"' &&
            curl -fsS "$u/readyz" >/dev/null 2>&1; then leader=$u; fi
    done
    [ -n "$leader" ] && break
    sleep 0.1
done
[ -n "$leader" ] || { echo "bench: no leader" >&2; tail "$dir"/n*.log >&2; exit 1; }
endpoints="http://127.0.0.1:$((base + 11)),http://127.0.0.1:$((base + 12)),http://127.0.0.1:$((base + 13))"
for i in 1 2 3; do # a port taken by another process stops a node at start
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null ||
        { echo "bench: node $i exited at start" >&2; tail "$dir/n$i.log" >&2; exit 1; }
done
export PROVCAT_TOKEN=$(cat "$dir/token")

cpu_ticks() { # total utime+stime of the three nodes, in clock ticks
    local t=0
    for p in "${pids[@]}"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo $t
}
parse() { # wrk output -> "rps p50_ms p99_ms"
    awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }'
}
api() { # method path token [body] -> body of the answer; fails on non-2xx
    curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' ${4:+--data "$4"} "$leader$2"
}
admin=$PROVCAT_TOKEN
entry=bench
fields='[{"name":"name","type":"string","required":true},{"name":"n","type":"integer","required":false},{"name":"note","type":"string","required":false}]'
api POST /v1/orgs "$admin" '{"id":"benchorg","name":"Bench org","level":"province","kind":"agency","parent":"authority"}' >/dev/null
prov=$(api POST /v1/principals "$admin" '{"id":"benchprov","org":"benchorg","roles":["provider"]}' |
    sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
[ -n "$prov" ] || { echo "bench: no provider token" >&2; exit 1; }
api POST /v1/catalog "$prov" '{"id":"'$entry'","title":"Bench","description":"","provider":"benchorg","theme":"t","keywords":[],"fields":'"$fields"',"share":{"class":"unconditional","conditions":""},"open":{"class":"none","conditions":""},"update_frequency":"daily","security_level":2,"scope":"province"}' >/dev/null
api POST "/v1/catalog/$entry/submit" "$prov" >/dev/null
api POST "/v1/catalog/$entry/review" "$admin" '{"decision":"approve"}' >/dev/null
api PUT "/v1/catalog/$entry/records/readkey" "$prov" '{"name":"the record the GET rows read","n":1,"note":"'"$(printf '%0200d' 0)"'"}' >/dev/null
# The update rows' keys: PREFIX-t-i for each wrk thread t and i <= upd_keys,
# created at version 1 in one batch so every measured request is an update.
upd_keys=64
precreate() { # prefix threads
    local items="" t i
    for t in $(seq "$2"); do
        for i in $(seq $upd_keys); do
            items="$items${items:+,}{\"key\":\"$1-$t-$i\",\"value\":{\"name\":\"k\"}}"
        done
    done
    api POST "/v1/catalog/$entry/records:batch" "$prov" "{\"records\":[$items]}" >/dev/null
}

# The grant row: entry benchc (share class conditional) with grant_keys
# records keyed by ID numbers (grant_read.lua's formula), org benchcons with
# consumer benchreader, and a share request approved by the provider, then
# the authority: benchreader reads through the grant.
grant_keys=1000 # a multiple of 200
grant_setup() {
    local items="" i k
    api POST /v1/catalog "$prov" '{"id":"benchc","title":"Bench conditional","description":"","provider":"benchorg","theme":"t","keywords":[],"fields":'"$fields"',"share":{"class":"conditional","conditions":"by request"},"open":{"class":"none","conditions":""},"update_frequency":"daily","security_level":2,"scope":"province"}' >/dev/null
    api POST /v1/catalog/benchc/submit "$prov" >/dev/null
    api POST /v1/catalog/benchc/review "$admin" '{"decision":"approve","override_duplicate":true,"reason":"bench"}' >/dev/null
    for i in $(seq 0 $((grant_keys - 1))); do # batches of 200 (argv limits)
        k=$(printf "110101%04d%02d%02d%03d%d" $((1950 + i % 50)) $((1 + i % 12)) $((1 + i % 28)) $((i % 1000)) $((i % 10)))
        items="$items${items:+,}{\"key\":\"$k\",\"value\":{\"name\":\"the record the grant row reads\",\"n\":$i,\"note\":\"$(printf '%0200d' 0)\"}}"
        if [ $((i % 200)) = 199 ]; then
            api POST /v1/catalog/benchc/records:batch "$prov" "{\"records\":[$items]}" >/dev/null
            items=""
        fi
    done
    api POST /v1/orgs "$admin" '{"id":"benchcons","name":"Bench consumer","level":"province","kind":"agency","parent":"authority"}' >/dev/null
    reader=$(api POST /v1/principals "$admin" '{"id":"benchreader","org":"benchcons","roles":["consumer"]}' |
        sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
    [ -n "$reader" ] || { echo "bench: no reader token" >&2; exit 1; }
    local sr
    sr=$(api POST /v1/share-requests "$reader" '{"entry":"benchc","purpose":"benchmark","days":30}' |
        sed -n 's/.*"id": *"\(sr-[0-9]*\)".*/\1/p')
    api POST "/v1/share-requests/$sr/decide" "$prov" '{"decision":"approve"}' >/dev/null
    api POST "/v1/share-requests/$sr/decide" "$admin" '{"decision":"approve"}' >/dev/null
}
metric() { # name [label filter] -> value on the leader
    curl -fsS "$leader/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
ledger_bytes() { # the ledger's bytes without arena slack: encodings, a
    # 24-byte record per fact, documents, Merkle tree, indexes
    curl -fsS "$leader/metrics" | awk '
    $1 == "provcat_ledger_bytes{part=\"encodings\"}" || $1 == "provcat_ledger_bytes{part=\"docs\"}" ||
    $1 == "provcat_ledger_bytes{part=\"merkle\"}" || $1 == "provcat_ledger_bytes{part=\"index\"}" { t += $2 }
    $1 == "provcat_ledger_revision" { t += 24 * $2 }
    END { printf "%d\n", t }'
}

snaps() { # raft snapshots taken so far, summed over the three nodes
    local t=0 v
    for i in 1 2 3; do
        v=$(curl -fsS "http://127.0.0.1:$((base + 10 + i))/metrics" 2>/dev/null |
            awk '$1 == "provcat_snapshots_total" { print $2 }')
        t=$((t + ${v:-0}))
    done
    echo $t
}
printf "%-22s %6s %10s %9s %9s %9s %8s %6s\n" case conns "ops/s" "p50 ms" "p99 ms" "cpu us/op" "non-2xx" "snaps"
results=()
want() { [ -z "${BENCH_CASES:-}" ] || [[ " $BENCH_CASES " == *" $1 "* ]]; }
run() { # name conns script path token [per]: per = records per request
    local name=$1 c=$2 script=$3 path=$4 tok=$5 per=${6:-1} t0 t1 s0 s1 out rps p50 p99 bad cpu
    want "$name" || want "$name-$c" || return 0
    [ "$script" = record_update.lua ] && precreate "$name-$c" $(( c < 2 ? 1 : 2 ))
    s0=$(snaps)
    t0=$(cpu_ticks)
    out=$(PROVCAT_TOKEN=$tok PROVCAT_ENTRY=${PROVCAT_ENTRY:-$entry} PROVCAT_PREFIX="$name-$c" \
        PROVCAT_KEYS=${PROVCAT_KEYS:-$upd_keys} timeout $((secs + 30)) \
        wrk -t $(( c < 2 ? 1 : 2 )) -c "$c" -d "${secs}s" --timeout 10s --latency \
        -s "$here/$script" "$leader$path" 2>&1)
    t1=$(cpu_ticks)
    s1=$(snaps)
    read -r rps p50 p99 bad <<<"$(echo "$out" | parse)"
    cpu=$(awk -v t=$((t1 - t0)) -v r="$rps" -v s="$secs" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (r > 0) printf "%.0f", t / hz * 1e6 / (r * s); else print "-" }')
    printf "%-22s %6d %10s %9s %9s %9s %8s %6s\n" "$name" "$c" "$rps" "$p50" "$p99" "$cpu" "$bad" \
        "$((s1 - s0))"
    results+=("cluster_${name}_c${c}_ops $rps ops/s" "cluster_${name}_c${c}_p50 $p50 ms"
        "cluster_${name}_c${c}_p99 $p99 ms" "cluster_${name}_c${c}_cpu $cpu us/op"
        "cluster_${name}_c${c}_non2xx $bad requests"
        "cluster_${name}_c${c}_snapshots $((s1 - s0)) snapshots")
    if [ "$per" -gt 1 ]; then
        printf "%-22s %6s %10s   (%d records per request: cpu %s us/record)\n" \
            "  = records/s" "" "$((rps * per))" "$per" \
            "$(awk -v c="$cpu" -v p="$per" 'BEGIN { if (c != "-") printf "%.1f", c / p; else print "-" }')"
        results+=("cluster_${name}_c${c}_records $((rps * per)) records/s")
        if [ "$name" = record_batch100 ] && [ "$((rps * per))" -gt "$batch_best" ]; then
            batch_best=$((rps * per))
        fi
    fi
}
batch_best=0 # the best records/s of the record_batch100 rows, for the import row

# The import row: `provcat import` (the CLI through libprovcat, its default
# batches and parallelism unless BENCH_IMPORT_FLAGS) of BENCH_IMPORT_RECORDS
# new records of ~256 bytes each, shaped as record_batch.lua's, from a JSONL
# file written beforehand, into the same entry, with the provider's token
# and every node as an endpoint. One timed run, not BENCH_SECONDS: records/s
# is records / wall time of the whole command (reading the file included);
# cpu us/record is the nodes' (the CLI's own on the line after). Compared
# with the best records:batch rate of this run (the issue's target: the
# import reaches at least 80% of it).
import_row() {
    local n=${BENCH_IMPORT_RECORDS:-1000000} cli="$build/provcat" f="$dir/import.jsonl"
    local tf="$dir/import.token" c0 c1 out tm real user sys rps cpu ccpu ratio created
    want import || return 0
    if [ ! -x "$cli" ]; then
        echo "bench: import row skipped: $cli missing (make bench builds it)" >&2
        results+=("cluster_import_records - records/s (skipped: no $cli)")
        return 0
    fi
    awk -v n="$n" 'BEGIN {
        pad = sprintf("%220s", ""); gsub(/ /, "z", pad)
        for (i = 1; i <= n; i++) {
            k = "import-" i
            printf "{\"key\":\"%s\",\"value\":{\"name\":\"bench import %s\",\"n\":%d,\"note\":\"%s\"}}\n",
                k, k, i, substr(pad, 1, 220 - length(k))
        }
    }' >"$f"
    printf "%s\n" "$prov" >"$tf"
    c0=$(cpu_ticks)
    tm=$( { TIMEFORMAT='%3R %3U %3S'; time timeout $((n / 1000 + 300)) "$cli" \
        --endpoints "$endpoints" --token-file "$tf" --timeout 60000 -o json \
        import "$entry" "$f" --no-progress ${BENCH_IMPORT_FLAGS:-} \
        >"$dir/import.out" 2>"$dir/import.err"; } 2>&1 ) ||
        { echo "bench: import failed:" >&2; cat "$dir/import.err" "$dir/import.out" >&2; exit 1; }
    c1=$(cpu_ticks)
    out=$(cat "$dir/import.out")
    created=$(echo "$out" | sed -n 's/.*"created":\([0-9]*\).*/\1/p')
    [ "$created" = "$n" ] ||
        { echo "bench: import created ${created:-?} of $n records: $out" >&2; exit 1; }
    read -r real user sys <<<"$tm"
    rps=$(awk -v n="$n" -v s="$real" 'BEGIN { printf "%.0f", n / s }')
    cpu=$(awk -v t=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    ccpu=$(awk -v u="$user" -v s="$sys" -v n="$n" 'BEGIN { printf "%.1f", (u + s) * 1e6 / n }')
    ratio=$(awk -v r="$rps" -v b="$batch_best" 'BEGIN { if (b > 0) printf "%.2f", r / b; else print "-" }')
    printf "%-22s %6s %10s %9s %9s %9s %8s %6s\n" import "-" "$rps" "-" "-" "$cpu" 0 "-"
    printf "%-22s %6s %10s   (%d records in %.1f s; CLI cpu %s us/record; %s of records:batch %s/s: %s)\n" \
        "  = import/batch" "" "$ratio" "$n" "$real" "$ccpu" "$ratio" "$batch_best" \
        "$(awk -v x="$ratio" 'BEGIN { if (x == "-") print "no batch row"; else if (x >= 0.8) print "PASS >= 0.80"; else print "FAIL < 0.80" }')"
    results+=("cluster_import_records $rps records/s" "cluster_import_seconds $real s"
        "cluster_import_cpu $cpu us/record" "cluster_import_cli_cpu $ccpu us/record"
        "cluster_import_vs_batch $ratio ratio")
    rm -f "$f"
}
rec=/v1/catalog/$entry/records
run record_put 1 record_put.lua "$rec" "$prov"
run record_put 16 record_put.lua "$rec" "$prov"
run record_put 64 record_put.lua "$rec" "$prov"
run record_update 64 record_update.lua "$rec" "$prov"
run record_get_lin 64 read.lua "$rec/readkey" "$prov"
run record_get_stale 64 read.lua "$rec/readkey?consistency=stale" "$prov"
if want record_get_grant || want record_get_grant-64; then
    grant_setup
    b0=$(ledger_bytes)
    e0=$(metric provcat_audit_events_proposed_total)
    f0=$(metric provcat_audit_batches_proposed_total)
    PROVCAT_ENTRY=benchc PROVCAT_KEYS=$grant_keys run record_get_grant 64 grant_read.lua /v1/catalog/benchc/records "$reader"
    sleep 0.5 # the row's last audit batch
    b1=$(ledger_bytes)
    e1=$(metric provcat_audit_events_proposed_total)
    f1=$(metric provcat_audit_batches_proposed_total)
    bpr=$(awk -v b=$((b1 - b0)) -v e=$((e1 - e0)) 'BEGIN { if (e > 0) printf "%.1f", b / e; else print "-" }')
    epb=$(awk -v e=$((e1 - e0)) -v f=$((f1 - f0)) 'BEGIN { if (f > 0) printf "%.1f", e / f; else print "-" }')
    printf "%-22s %6s %10s   (audited reads; %s ledger bytes each, %s per audit fact)\n" \
        "  = ledger/read" "" "$((e1 - e0))" "$bpr" "$epb"
    results+=("cluster_record_get_grant_c64_ledger_bytes_per_read $bpr bytes"
        "cluster_record_get_grant_c64_events_per_audit_fact $epb events")
fi
for bc in ${BENCH_BATCH_CONNS:-32}; do run record_batch100 $bc record_batch.lua "$rec" "$prov" 100; done
import_row
run org_create 64 write_org.lua /v1/orgs "$admin"
# Every follower must be alive and caught up: a benchmark that only watches
# the leader hides a crashed follower.
sleep 1
for i in 1 2 3; do
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "bench: node $i died" >&2; exit 1; }
done
curl -fsS "$leader/metrics" | grep '^provcat_raft_follower_lag_entries' | sed 's/^/# /'
printf "%s\n" "${results[@]}"
