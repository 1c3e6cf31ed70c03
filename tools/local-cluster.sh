#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Start a local 3-node provcat cluster on 127.0.0.1 with data under
# BUILD/run/, check that every node answers, create a small demo catalog,
# print how to talk to it, and stop every node on Ctrl-C (exit 0). Running
# it again reuses the data and its ports (never re-bootstraps a data dir
# that already holds a cluster).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
--help | -h)
    cat <<USAGE
usage: tools/local-cluster.sh [BUILD_DIR]

Starts provcat-node 1, 2 and 3 on 127.0.0.1 with data in
BUILD_DIR/run/node{1,2,3} and the admin token in BUILD_DIR/run/admin.token;
waits until every node answers and a leader is ready, creates a demo org,
principal and catalog entry, and prints how to reach them. Ctrl-C stops all
nodes cleanly and exits 0. A node that fails to start (a busy port, say)
stops the others and ends the script with its error, before the banner.

Ports: HTTP 8001-8003 and raft 7001-7003 when all six are free; else the
first free block of HTTP N+1..N+3 and raft N+11..N+13 for N = 8020, 8040,
... 8980. PORT_BASE=N asks for that block (an error if a port is busy).
The ports are recorded in BUILD_DIR/run/ports: a cluster keeps its raft
addresses, so later runs reuse them (rm -rf BUILD_DIR/run starts anew).
Environment: PORT_BASE=N as above; RUN_DIR=DIR keeps the data in DIR
instead of BUILD_DIR/run; PROVCAT_RUN_SECONDS=N stops the cluster after N
seconds.
USAGE
    exit 0
    ;;
esac
build=${1:-build}

# Ctrl-C from a terminal must reach this script and its nodes alone: make,
# if it got the SIGINT too, would die of it after we stopped cleanly.
if [ -t 0 ] && [ -z "${PC_FOREGROUND:-}" ]; then
    export PC_FOREGROUND=1
    exec python3 "$top/tools/foreground.py" "$0" "$@"
fi

node_bin="$build/provcat-node"
[ -x "$node_bin" ] || { echo "local-cluster: $node_bin not built (run make)" >&2; exit 1; }
run=${RUN_DIR:-$build/run}
mkdir -p "$run"
token_file="$run/admin.token"
ports_file="$run/ports"

die() {
    echo "local-cluster: $*" >&2
    exit 1
}

# The first of the given ports that cannot be listened on at 127.0.0.1
# (libuv binds with SO_REUSEADDR, so a port in TIME_WAIT is free).
busy_port() {
    python3 - "$@" <<'PY'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
        s.listen(1)
    except OSError:
        print(p)
        break
    finally:
        s.close()
PY
}

block() { # N: the HTTP and raft ports of block N
    http_ports=($(($1 + 1)) $(($1 + 2)) $(($1 + 3)))
    raft_ports=($(($1 + 11)) $(($1 + 12)) $(($1 + 13)))
}

if [ -n "${PORT_BASE:-}" ]; then
    case "$PORT_BASE" in
    *[!0-9]*) die "PORT_BASE '$PORT_BASE' is not a number" ;;
    esac
    [ "$PORT_BASE" -ge 1 ] && [ "$PORT_BASE" -le 65500 ] ||
        die "PORT_BASE $PORT_BASE is out of range (1..65500)"
fi
has_cluster=0
for i in 1 2 3; do
    if [ -n "$(ls -A "$run/node$i/raft" 2>/dev/null)" ]; then
        has_cluster=1
    fi
done
if [ "$has_cluster" = 1 ]; then
    # The raft configuration holds these addresses: they cannot move.
    if [ -f "$ports_file" ]; then
        # shellcheck source=/dev/null
        . "$ports_file"
        read -ra http_ports <<<"$HTTP_PORTS"
        read -ra raft_ports <<<"$RAFT_PORTS"
    else # made before ports were recorded
        http_ports=(8001 8002 8003)
        raft_ports=(7001 7002 7003)
    fi
    if [ -n "${PORT_BASE:-}" ]; then
        have="HTTP ${http_ports[*]}, raft ${raft_ports[*]}"
        block "$PORT_BASE"
        [ "HTTP ${http_ports[*]}, raft ${raft_ports[*]}" = "$have" ] ||
            die "$run holds a cluster on $have; PORT_BASE=$PORT_BASE cannot move it (unset PORT_BASE, or rm -rf $run to start a new cluster)"
    fi
    busy=$(busy_port "${http_ports[@]}" "${raft_ports[@]}")
    [ -z "$busy" ] ||
        die "port $busy (127.0.0.1) is busy, and the cluster in $run uses it (HTTP ${http_ports[*]}, raft ${raft_ports[*]}): stop what holds it, or rm -rf $run to start a new cluster on free ports"
elif [ -n "${PORT_BASE:-}" ]; then
    block "$PORT_BASE"
    busy=$(busy_port "${http_ports[@]}" "${raft_ports[@]}")
    [ -z "$busy" ] || die "port $busy (127.0.0.1) is busy (PORT_BASE=$PORT_BASE: HTTP ${http_ports[*]}, raft ${raft_ports[*]})"
else
    http_ports=(8001 8002 8003)
    raft_ports=(7001 7002 7003)
    busy=$(busy_port "${http_ports[@]}" "${raft_ports[@]}")
    if [ -n "$busy" ]; then
        echo "local-cluster: port $busy is busy; looking for six free ports"
        for ((n = 8020; n <= 8980; n += 20)); do
            block "$n"
            busy=$(busy_port "${http_ports[@]}" "${raft_ports[@]}")
            [ -z "$busy" ] && break
        done
        [ -z "$busy" ] || die "no block of six free ports between 8021 and 8993; set PORT_BASE"
    fi
fi
printf 'HTTP_PORTS="%s"\nRAFT_PORTS="%s"\n' "${http_ports[*]}" "${raft_ports[*]}" >"$ports_file"

cluster="1=127.0.0.1:${raft_ports[0]},2=127.0.0.1:${raft_ports[1]},3=127.0.0.1:${raft_ports[2]}"
pids=()

stop_all() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] || return 0
    echo
    echo "local-cluster: stopping nodes"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    echo "local-cluster: stopped; data kept in $run"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

# Fails the script, naming node $1 and quoting its log, if it has exited.
check_alive() {
    local i=$1
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
        echo "local-cluster: node $i (HTTP 127.0.0.1:${http_ports[$((i - 1))]}, raft 127.0.0.1:${raft_ports[$((i - 1))]}) exited:" >&2
        tail -5 "$run/node$i.log" | sed 's/^/  /' >&2
        exit 1
    fi
}

for i in 1 2 3; do
    dir="$run/node$i"
    state=new
    # A data dir that already holds raft state is never bootstrapped again.
    if [ -n "$(ls -A "$dir/raft" 2>/dev/null)" ]; then
        state=existing
    fi
    : >"$run/node$i.log"
    "$node_bin" --id "$i" --data-dir "$dir" --peer "127.0.0.1:${raft_ports[$((i - 1))]}" \
        --client "127.0.0.1:${http_ports[$((i - 1))]}" --cluster "$cluster" \
        --initial-cluster-state "$state" --admin-token-file "$token_file" \
        --log-level warn 2>>"$run/node$i.log" &
    pids+=($!)
    # The first founder creates the token file; the others must read it.
    if [ "$i" = 1 ]; then
        for _ in $(seq 50); do
            [ -s "$token_file" ] && break
            check_alive 1
            sleep 0.1
        done
    fi
done

# Every node must answer before anything is printed as running.
for i in 1 2 3; do
    url="http://127.0.0.1:${http_ports[$((i - 1))]}"
    for t in $(seq 100); do
        check_alive "$i"
        curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
        [ "$t" = 100 ] && die "node $i does not answer on $url/healthz after 10 s; see $run/node$i.log"
        sleep 0.1
    done
done

leader=""
for _ in $(seq 200); do
    for i in 1 2 3; do
        check_alive "$i"
        url="http://127.0.0.1:${http_ports[$((i - 1))]}"
        if curl -fsS "$url/v1/status" 2>/dev/null | grep -q '"state": *"leader"'; then
            leader=$url
        fi
    done
    [ -n "$leader" ] && curl -fsS "$leader/readyz" >/dev/null 2>&1 && break
    leader=""
    sleep 0.1
done
[ -n "$leader" ] || die "no ready leader after 20 s; see $run/node*.log"

token=$(cat "$token_file")
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
# Demo catalog: an org, its provider principal, one published entry with a
# few records. Every step is idempotent (or its 409 means it is done), so a
# second `make run` adds nothing; any other answer stops the script.
call() { # what curl-args...: the body on 2xx, else fail naming the step
    local what=$1 out code
    shift
    out=$(curl -sS --location-trusted -w '\n%{http_code}' "$@") ||
        die "demo: $what: no answer"
    code=${out##*$'\n'}
    case "$code" in
    2?? | 409) printf '%s\n' "${out%$'\n'*}" ;;
    *) die "demo: $what: HTTP $code: ${out%$'\n'*}" ;;
    esac
}
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }
call "create org health" "${auth[@]}" -H "Idempotency-Key: demo-org" \
    -d '{"id":"health","name":"Provincial Health Commission","level":"province","kind":"agency","parent":"authority"}' \
    "$leader/v1/orgs" >/dev/null
clerk_file="$run/health-clerk.token"
if [ ! -s "$clerk_file" ]; then
    clerk=$(call "create principal health-clerk" "${auth[@]}" \
        -d '{"id":"health-clerk","org":"health","roles":["provider","consumer"]}' \
        "$leader/v1/principals" | json_get token)
    # Created by an earlier run whose token file is gone: issue a new token.
    [ -n "$clerk" ] || clerk=$(call "reissue the health-clerk token" "${auth[@]}" \
        -d '{}' "$leader/v1/principals/health-clerk/token" | json_get token)
    (umask 077 && printf '%s\n' "$clerk" >"$clerk_file")
fi
clerk=(-H "Authorization: Bearer $(cat "$clerk_file")" -H "Content-Type: application/json")
entry='{"id":"health-facilities","title":"Health facilities","description":"Licensed hospitals and clinics","provider":"health","theme":"health","keywords":["hospital","clinic"],"fields":[{"name":"name","type":"string","required":true},{"name":"beds","type":"integer","required":false},{"name":"licensed_on","type":"date","required":true}],"share":{"class":"unconditional","conditions":""},"open":{"class":"unconditional","conditions":""},"update_frequency":"monthly","security_level":1,"scope":"province"}'
call "create entry health-facilities" "${clerk[@]}" -H "Idempotency-Key: demo-entry" \
    -d "$entry" "$leader/v1/catalog" >/dev/null
call "submit the entry" "${clerk[@]}" -H "Idempotency-Key: demo-submit" -X POST \
    "$leader/v1/catalog/health-facilities/submit" >/dev/null
call "approve the entry" "${auth[@]}" -H "Idempotency-Key: demo-review" \
    -d '{"decision":"approve"}' "$leader/v1/catalog/health-facilities/review" >/dev/null
call "write records" "${clerk[@]}" -H "Idempotency-Key: demo-records" \
    -d '{"records":[{"key":"h-0001","value":{"name":"Provincial People'"'"'s Hospital","beds":1200,"licensed_on":"1998-03-01"}},{"key":"h-0002","value":{"name":"Riverside Clinic","beds":20,"licensed_on":"2015-09-14"}},{"key":"h-0003","value":{"name":"North District Hospital","beds":450,"licensed_on":"2007-06-30"}}]}' \
    "$leader/v1/catalog/health-facilities/records:batch" >/dev/null

h1="http://127.0.0.1:${http_ports[0]}"
h2="http://127.0.0.1:${http_ports[1]}"
h3="http://127.0.0.1:${http_ports[2]}"
cat <<INFO

provcat: 3 nodes running
  node 1  $h1   (raft 127.0.0.1:${raft_ports[0]})
  node 2  $h2   (raft 127.0.0.1:${raft_ports[1]})
  node 3  $h3   (raft 127.0.0.1:${raft_ports[2]})
  leader  $leader
  admin token file: $token_file   (logs: $run/node*.log)

  demo entry: health-facilities (open data), provider token: $clerk_file

Try:
  curl -s $h1/v1/status
  curl -s $h1/v1/catalog/health-facilities/records?consistency=stale
  curl -s --location-trusted -H "Authorization: Bearer \$(cat $token_file)" $h2/v1/orgs
  curl -s --location-trusted -H "Authorization: Bearer \$(cat $token_file)" \\
       -H "Content-Type: application/json" -H "Idempotency-Key: city-1" \\
       -d '{"id":"city1","name":"City One","level":"city","kind":"agency","parent":"authority","authority":true}' \\
       $h3/v1/orgs

Ctrl-C stops all nodes.
INFO
if [ -n "${PROVCAT_RUN_SECONDS:-}" ]; then
    sleep "$PROVCAT_RUN_SECONDS" &
    wait $!
else
    wait
fi
