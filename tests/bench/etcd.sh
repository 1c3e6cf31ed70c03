#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# etcd baseline for make bench-compare: a 3-member etcd 3.4 cluster on
# 127.0.0.1 (default durability, data in a fresh mktemp dir), loaded with wrk
# through etcd's HTTP/JSON gateway the way cluster.sh loads provcat-node:
#   put (leader)                 at 1, 16 and 64 connections: POST /v3/kv/put,
#                                a new key per request, 256-byte values
#   range linearizable (leader)  at 64: POST /v3/kv/range of one seeded key
#   range serializable (leader)  at 64: the same with "serializable": true
# after a 3 s PUT warm-up. Each case prints "== LABEL [http, N conns]", wrk's
# report and one "ANCHOR_RESULT requests= secs= ops= p50_ms= p99_ms= max_ms=
# errors=" line (compare.sh reads these); then the stored key counts of the
# PUT cases and, last, a "== results" table. Every step is bounded in time;
# on exit it stops the etcd processes it started and removes its temp dir.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tests/bench/etcd.sh [--help]

Runs a 3-member etcd 3.4 cluster on 127.0.0.1 and measures PUT and range
through its JSON gateway with wrk (see the header of this script).

Env: DURATION_S  seconds per measured case (default 10)
     BASE_PORT   member i (0-2) listens for clients on BASE_PORT+10*i and
                 for peers on the port after it (default 32379)
     TMPDIR      where the temp dir with the data dirs goes (default /tmp)
Needs etcd, wrk, jq and curl; as root it installs missing ones with
apt-get install -y etcd-server etcd-client wrk jq curl.
EOF
}
case ${1:-} in
"") ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac

secs=${DURATION_S:-10}
base_port=${BASE_PORT:-32379}
value_bytes=256
pkgs=(etcd-server etcd-client wrk jq curl)

fail() { echo "etcd.sh: $*" >&2; exit 1; }
note() { echo "# $*"; }

# --- tools -------------------------------------------------------------------
missing_tools() {
    local t
    for t in etcd wrk jq curl timeout base64; do
        command -v "$t" >/dev/null || printf '%s ' "$t"
    done
}
missing=$(missing_tools)
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
    note "installing ${pkgs[*]} (missing: $missing)"
    timeout 600 apt-get install -y "${pkgs[@]}" >/dev/null 2>&1 ||
        { timeout 600 apt-get update >/dev/null 2>&1 &&
            timeout 600 apt-get install -y "${pkgs[@]}" >/dev/null 2>&1; } ||
        fail "apt-get install -y ${pkgs[*]} failed"
    missing=$(missing_tools)
fi
[ -z "$missing" ] ||
    fail "missing tools: $missing(as root: apt-get install -y ${pkgs[*]})"
etcd_version=$(timeout 10 etcd --version | awk '/^etcd Version/ { print $3 }')
case $etcd_version in
3.4.*) ;;
*) echo "etcd.sh: warning: etcd $etcd_version, not 3.4" >&2 ;;
esac

# --- temp dir and cleanup ----------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/provcat-etcd.XXXXXX")
etcd_pids=() # only the etcd processes started below
stop_cluster() {
    local p n
    for p in "${etcd_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for n in $(seq 100); do # up to 10 s for them to exit
        local left=0
        for p in "${etcd_pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && break
        [ "$n" = 100 ] || sleep 0.1
    done
    for p in "${etcd_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${etcd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    etcd_pids=()
}
cleanup() {
    stop_cluster
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- cluster -----------------------------------------------------------------
port_busy() { # something accepts connections on 127.0.0.1:$1
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
names=(e1 e2 e3)
clients=()
members=""
for i in 0 1 2; do
    c=$((base_port + 10 * i))
    for p in "$c" $((c + 1)); do
        ! port_busy "$p" || fail "port $p on 127.0.0.1 is busy (set BASE_PORT)"
    done
    clients+=("http://127.0.0.1:$c")
    members+="${members:+,}${names[$i]}=http://127.0.0.1:$((c + 1))"
done

echo "== etcd $etcd_version, wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), $(nproc) CPUs, data in $work"
for i in 0 1 2; do
    c=$((base_port + 10 * i))
    # No durability flags: etcd fsyncs its WAL on every commit by default.
    etcd --name "${names[$i]}" --data-dir "$work/${names[$i]}" \
        --listen-client-urls "${clients[$i]}" \
        --advertise-client-urls "${clients[$i]}" \
        --listen-peer-urls "http://127.0.0.1:$((c + 1))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((c + 1))" \
        --initial-cluster "$members" --initial-cluster-state new \
        --initial-cluster-token "provcat-bench-$$" \
        >"$work/${names[$i]}.log" 2>&1 &
    etcd_pids+=($!)
done
note "etcd PIDs ${etcd_pids[*]}, clients ${clients[*]}"

post() { # URL PATH JSON -> the gateway's JSON answer
    curl -fsS --max-time 5 -H 'Content-Type: application/json' -d "$3" "$1$2"
}
b64() { printf '%s' "$1" | base64 -w0; }

leader="" follower=""
deadline=$((SECONDS + 60))
while [ -z "$leader" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no healthy cluster with a leader within 60 s"
    for i in 0 1 2; do
        kill -0 "${etcd_pids[$i]}" 2>/dev/null ||
            { tail -20 "$work/${names[$i]}.log" >&2; fail "etcd ${names[$i]} exited"; }
    done
    ok=0
    for u in "${clients[@]}"; do
        curl -fsS --max-time 2 "$u/health" 2>/dev/null |
            jq -e '.health == "true"' >/dev/null 2>&1 && ok=$((ok + 1))
    done
    if [ "$ok" = 3 ]; then
        follower=""
        for u in "${clients[@]}"; do
            st=$(post "$u" /v3/maintenance/status '{}' 2>/dev/null) || continue
            if jq -e '.header.member_id == .leader' >/dev/null <<<"$st"; then
                leader=$u
            else
                follower=${follower:-$u}
            fi
        done
    fi
    [ -n "$leader" ] || sleep 0.5
done
note "healthy; leader $leader, a follower $follower"

read_key=$(b64 "bench/read")
read_val=$(head -c "$value_bytes" /dev/zero | tr '\0' 'r' | base64 -w0)
post "$leader" /v3/kv/put "{\"key\":\"$read_key\",\"value\":\"$read_val\"}" >/dev/null
[ "$(post "$leader" /v3/kv/range "{\"key\":\"$read_key\"}" | jq -r '.kvs[0].value')" = "$read_val" ] ||
    fail "the seeded key does not read back through the gateway"

# --- wrk scripts -------------------------------------------------------------
# Shared part: base64 (LuaJIT's bit library) and done(), which prints the
# one summary line compare.sh looks for. Latencies from wrk are in us.
cat >"$work/common.lua" <<'EOF'
local bit = require("bit")
local digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function base64(s)
  local pad = (3 - #s % 3) % 3
  local padded = s .. string.rep("\0", pad)
  local out = {}
  for i = 1, #padded, 3 do
    local a, b, c = padded:byte(i, i + 2)
    local n = a * 65536 + b * 256 + c
    for shift = 18, 0, -6 do
      local d = bit.band(bit.rshift(n, shift), 63) + 1
      out[#out + 1] = digits:sub(d, d)
    end
  end
  local text = table.concat(out)
  return text:sub(1, #text - pad) .. string.rep("=", pad)
end

function done(summary, latency, requests)
  local e = summary.errors
  local s = summary.duration / 1e6
  print(string.format("ANCHOR_RESULT requests=%d secs=%.2f ops=%.1f p50_ms=%.3f"
    .. " p99_ms=%.3f max_ms=%.3f errors=%d", summary.requests, s,
    summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
# PUT: args[1] = key prefix; key = prefix/<thread>/<n>, a new one per request.
{
    cat "$work/common.lua"
    echo "local value_bytes = $value_bytes"
    cat <<'EOF'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

local head, count, body_tail
function init(args)
  head = args[1] .. "/" .. thread_no .. "/"
  count = 0
  local value = base64(string.rep("p", value_bytes))
  wrk.method = "POST"
  wrk.path = "/v3/kv/put"
  wrk.headers["Content-Type"] = "application/json"
  body_tail = '","value":"' .. value .. '"}'
end

function request()
  count = count + 1
  return wrk.format(nil, nil, nil,
    '{"key":"' .. base64(head .. count) .. body_tail)
end
EOF
} >"$work/put.lua"
# Range: the same request every time; args[1] = base64 key, args[2] = mode.
{
    cat "$work/common.lua"
    cat <<'EOF'
function init(args)
  local body = '{"key":"' .. args[1] .. '"'
  if args[2] == "serializable" then body = body .. ',"serializable":true' end
  wrk.method = "POST"
  wrk.path = "/v3/kv/range"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body .. "}"
end
EOF
} >"$work/range.lua"

# --- measurements ------------------------------------------------------------
results=() # "label|conns|ANCHOR_RESULT line"
run_wrk() { # CONNS SECONDS LUA [script args...]: wrk on the leader, bounded
    local conns=$1 d=$2 lua=$3
    shift 3
    timeout $((d + 30)) wrk -t$((conns < 2 ? conns : 2)) -c"$conns" -d"${d}s" \
        --timeout 10s --latency -s "$lua" "$leader" -- "$@"
}
measure() { # LABEL CONNS LUA [script args...]
    local label=$1 conns=$2 out line
    shift 2
    echo
    echo "== $label [http, $conns conns]"
    out=$(run_wrk "$conns" "$secs" "$@") || fail "wrk failed for $label at $conns"
    echo "$out"
    line=$(grep '^ANCHOR_RESULT ' <<<"$out") || fail "no ANCHOR_RESULT for $label"
    results+=("$label|$conns|$line")
    sleep 1
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; } # NAME RESULT-LINE

echo
note "warm-up: 3 s of PUT at 16 connections (not reported)"
run_wrk 16 3 "$work/put.lua" bench/warmup >/dev/null || fail "warm-up failed"
sleep 1
for c in 1 16 64; do
    measure "put (leader)" "$c" "$work/put.lua" "bench/put-c$c"
done
measure "range linearizable (leader)" 64 "$work/range.lua" "$read_key" linearizable
measure "range serializable (leader)" 64 "$work/range.lua" "$read_key" serializable

# Every acknowledged PUT must be there: count the keys under each prefix
# ([prefix/, prefix0) as a range, "0" being the byte after "/").
echo
echo "== keys stored by the PUT cases"
for r in "${results[@]}"; do
    IFS='|' read -r label conns line <<<"$r"
    [ "$label" = "put (leader)" ] || continue
    p="bench/put-c$conns"
    n=$(post "$leader" /v3/kv/range \
        "{\"key\":\"$(b64 "$p/")\",\"range_end\":\"$(b64 "${p}0")\",\"count_only\":true}" |
        jq -r '.count // "0"')
    acked=$(($(field requests "$line") - $(field errors "$line")))
    echo "$p: $n keys stored, $acked PUTs acknowledged"
    if [ "$n" -eq 0 ] || [ "$n" -lt "$acked" ]; then
        fail "$p: acknowledged PUTs are missing"
    fi
done
[ "$(post "$leader" /v3/maintenance/status '{}' | jq -r '.header.member_id == .leader')" = true ] ||
    echo "etcd.sh: warning: the leader changed during the run" >&2

stop_cluster
note "cluster stopped"

echo
echo "== results (etcd $etcd_version, 3 members on 127.0.0.1, $(nproc) CPUs, ${secs} s per case, wrk via the JSON gateway)"
fmt='%-28s %5s %9s %8s %8s %8s %6s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$fmt" case conns "ops/s" "p50 ms" "p99 ms" "max ms" errors
for r in "${results[@]}"; do
    IFS='|' read -r label conns line <<<"$r"
    # shellcheck disable=SC2059
    printf "$fmt" "$label" "$conns" "$(field ops "$line")" "$(field p50_ms "$line")" \
        "$(field p99_ms "$line")" "$(field max_ms "$line")" "$(field errors "$line")"
done
