#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cluster benchmark: 3 provcat-node processes on 127.0.0.1 with fsync on;
# small writes (org creation) at 1, 16 and 64 connections, then
# linearizable and stale reads at 64 connections, with wrk. Prints a table
# and one "name value unit" line per result. Every load is bounded in time.
set -euo pipefail
build=${1:-build/rel}
secs=${BENCH_SECONDS:-10}
node="$build/provcat-node"
command -v wrk >/dev/null || { echo "bench: wrk missing (tools/deps.sh installs it)" >&2; exit 1; }
dir=$(mktemp -d /tmp/provcat-bench.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
cluster="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
for i in 1 2 3; do
    "$node" --id $i --data-dir "$dir/n$i" --peer "127.0.0.1:$((base + i - 1))" \
        --client "127.0.0.1:$((base + 10 + i))" --cluster "$cluster" \
        --initial-cluster-state new --admin-token-file "$dir/token" \
        --log-level warn 2>>"$dir/n$i.log" &
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
printf "%-28s %6s %10s %9s %9s %9s\n" case conns "ops/s" "p50 ms" "p99 ms" "cpu us/op"
results=()
run() { # name conns script path
    local name=$1 c=$2 script=$3 path=$4 t0 t1 out rps p50 p99 bad cpu
    t0=$(cpu_ticks)
    out=$(PROVCAT_PREFIX="$name-$c" wrk -t $(( c < 2 ? 1 : 2 )) -c "$c" -d "${secs}s" --latency \
        -s "$here/$script" "$leader$path" 2>&1)
    t1=$(cpu_ticks)
    read -r rps p50 p99 bad <<<"$(echo "$out" | parse)"
    cpu=$(awk -v t=$((t1 - t0)) -v r="$rps" -v s="$secs" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (r > 0) printf "%.0f", t / hz * 1e6 / (r * s); else print "-" }')
    printf "%-28s %6d %10s %9s %9s %9s%s\n" "$name" "$c" "$rps" "$p50" "$p99" "$cpu" \
        "$([ "$bad" -gt 0 ] && echo "  ($bad non-2xx)")"
    results+=("cluster_${name}_c${c}_ops $rps ops/s" "cluster_${name}_c${c}_p50 $p50 ms" "cluster_${name}_c${c}_p99 $p99 ms")
}
run write_org 1 write_org.lua /v1/orgs
run write_org 16 write_org.lua /v1/orgs
run write_org 64 write_org.lua /v1/orgs
run read_linearizable 64 read.lua /v1/orgs/authority
run read_stale 64 read.lua "/v1/orgs/authority?consistency=stale"
# Every follower must be alive and caught up: a benchmark that only watches
# the leader hides a crashed follower.
sleep 1
for i in 1 2 3; do
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "bench: node $i died" >&2; exit 1; }
done
curl -fsS "$leader/metrics" | grep provcat_raft_follower_lag | sed 's/^/# /'
printf "%s\n" "${results[@]}"
