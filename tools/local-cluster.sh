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
# Demo catalog: an org, its provider principal, one published entry with a
# few records. Every step is idempotent, so a second `make run` adds nothing.
api() { # method path [body [extra curl args]]
    curl -sS --location-trusted "${auth[@]}" -X "$1" ${3:+-d "$3"} "${@:4}" "$leader$2"
}
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }
api POST /v1/orgs '{"id":"health","name":"Provincial Health Commission","level":"province","kind":"agency","parent":"authority"}' \
    -H "Idempotency-Key: demo-org" >/dev/null
clerk_file="$run/health-clerk.token"
if [ ! -s "$clerk_file" ]; then
    clerk=$(api POST /v1/principals '{"id":"health-clerk","org":"health","roles":["provider","consumer"]}' | json_get token)
    # Created by an earlier run whose token file is gone: issue a new token.
    [ -n "$clerk" ] || clerk=$(api POST /v1/principals/health-clerk/token '{}' | json_get token)
    (umask 077 && printf '%s\n' "$clerk" >"$clerk_file")
fi
clerk=(-H "Authorization: Bearer $(cat "$clerk_file")" -H "Content-Type: application/json")
entry='{"id":"health-facilities","title":"Health facilities","description":"Licensed hospitals and clinics","provider":"health","theme":"health","keywords":["hospital","clinic"],"fields":[{"name":"name","type":"string","required":true},{"name":"beds","type":"integer","required":false},{"name":"licensed_on","type":"date","required":true}],"share":{"class":"unconditional","conditions":""},"open":{"class":"unconditional","conditions":""},"update_frequency":"monthly","security_level":1,"scope":"province"}'
curl -sS --location-trusted "${clerk[@]}" -H "Idempotency-Key: demo-entry" -d "$entry" "$leader/v1/catalog" >/dev/null
curl -sS --location-trusted "${clerk[@]}" -H "Idempotency-Key: demo-submit" -X POST "$leader/v1/catalog/health-facilities/submit" >/dev/null
api POST /v1/catalog/health-facilities/review '{"decision":"approve"}' -H "Idempotency-Key: demo-review" >/dev/null
curl -sS --location-trusted "${clerk[@]}" -H "Idempotency-Key: demo-records" \
    -d '{"records":[{"key":"h-0001","value":{"name":"Provincial People'"'"'s Hospital","beds":1200,"licensed_on":"1998-03-01"}},{"key":"h-0002","value":{"name":"Riverside Clinic","beds":20,"licensed_on":"2015-09-14"}},{"key":"h-0003","value":{"name":"North District Hospital","beds":450,"licensed_on":"2007-06-30"}}]}' \
    "$leader/v1/catalog/health-facilities/records:batch" >/dev/null
cat <<INFO

provcat: 3 nodes running
  node 1  http://127.0.0.1:8001   (raft 127.0.0.1:7001)
  node 2  http://127.0.0.1:8002   (raft 127.0.0.1:7002)
  node 3  http://127.0.0.1:8003   (raft 127.0.0.1:7003)
  leader  $leader
  admin token file: $token_file   (logs: $run/node*.log)

  demo entry: health-facilities (open data), provider token: $clerk_file

Try:
  curl -s http://127.0.0.1:8001/v1/status
  curl -s http://127.0.0.1:8001/v1/catalog/health-facilities/records?consistency=stale
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
