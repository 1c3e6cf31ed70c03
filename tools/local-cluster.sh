#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Start a local 3-node provcat cluster on 127.0.0.1 with data under
# BUILD/run/, create a small demo catalog, print how to talk to it, and stop
# every node on Ctrl-C. Running it again reuses the data (never re-bootstraps
# a data dir that already holds a cluster).
set -euo pipefail

build=${1:-build}
case "${1:-}" in
--help | -h)
    cat <<USAGE
usage: tools/local-cluster.sh [BUILD_DIR]

Starts provcat-node 1, 2 and 3 on 127.0.0.1 (raft ports 7001-7003, HTTP
ports 8001-8003) with data in BUILD_DIR/run/node{1,2,3} and the admin token
in BUILD_DIR/run/admin.token; waits for a leader, creates a demo org and
principal, and prints example commands. Ctrl-C stops all nodes cleanly.
Environment: PROVCAT_RUN_SECONDS=N stops the cluster after N seconds.
USAGE
    exit 0
    ;;
esac
node_bin="$build/provcat-node"
[ -x "$node_bin" ] || { echo "local-cluster: $node_bin not built (run make)" >&2; exit 1; }
run="$build/run"
mkdir -p "$run"
token_file="$run/admin.token"
cluster="1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003"
pids=()

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "local-cluster: stopping nodes"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    echo "local-cluster: stopped; data kept in $run"
}
trap stop_all INT TERM EXIT

for i in 1 2 3; do
    dir="$run/node$i"
    state=new
    # A data dir that already holds raft state is never bootstrapped again.
    if [ -d "$dir/raft" ] && [ -n "$(ls -A "$dir/raft" 2>/dev/null)" ]; then
        state=existing
    fi
    "$node_bin" --id "$i" --data-dir "$dir" --peer "127.0.0.1:700$i" \
        --client "127.0.0.1:800$i" --cluster "$cluster" \
        --initial-cluster-state "$state" --admin-token-file "$token_file" \
        --log-level warn 2>>"$run/node$i.log" &
    pids+=($!)
    # The first founder creates the token file; the others must read it.
    if [ "$i" = 1 ]; then
        for _ in $(seq 50); do [ -s "$token_file" ] && break; sleep 0.1; done
    fi
done

leader=""
for _ in $(seq 100); do
    for i in 1 2 3; do
        if curl -fsS "http://127.0.0.1:800$i/v1/status" 2>/dev/null | grep -q '"state": *"leader"'; then
            leader="http://127.0.0.1:800$i"
        fi
    done
    [ -n "$leader" ] && curl -fsS "$leader/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
if [ -z "$leader" ]; then
    echo "local-cluster: no leader after 10 s; see $run/node*.log" >&2
    exit 1
fi
token=$(cat "$token_file")
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
# Demo catalog data: an org and a provider principal (idempotent by key).
curl -sS --location-trusted "${auth[@]}" -H "Idempotency-Key: demo-org" \
    -d '{"id":"health","name":"Provincial Health Commission","level":"province","kind":"agency","parent":"authority"}' \
    "$leader/v1/orgs" >/dev/null || true
curl -sS --location-trusted "${auth[@]}" -H "Idempotency-Key: demo-principal" \
    -d '{"id":"health-clerk","org":"health","roles":["provider","consumer"]}' \
    "$leader/v1/principals" >/dev/null || true

cat <<INFO

provcat: 3 nodes running
  node 1  http://127.0.0.1:8001   (raft 127.0.0.1:7001)
  node 2  http://127.0.0.1:8002   (raft 127.0.0.1:7002)
  node 3  http://127.0.0.1:8003   (raft 127.0.0.1:7003)
  leader  $leader
  admin token file: $token_file   (logs: $run/node*.log)

Try:
  curl -s http://127.0.0.1:8001/v1/status
  curl -s --location-trusted -H "Authorization: Bearer \$(cat $token_file)" http://127.0.0.1:8002/v1/orgs
  curl -s --location-trusted -H "Authorization: Bearer \$(cat $token_file)" \\
       -H "Content-Type: application/json" -H "Idempotency-Key: city-1" \\
       -d '{"id":"city1","name":"City One","level":"city","kind":"agency","parent":"authority","authority":true}' \\
       http://127.0.0.1:8003/v1/orgs

Ctrl-C stops all nodes.
INFO
if [ -n "${PROVCAT_RUN_SECONDS:-}" ]; then
    sleep "$PROVCAT_RUN_SECONDS"
else
    wait
fi
