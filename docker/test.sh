#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The image end to end: build it, run a 3-node cluster of containers, kill
# the leader's container, restart it, and check that the three agree; then
# the compose file the same way. Cleans up everything it made.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
--help | -h)
    cat <<USAGE
usage: docker/test.sh   (make docker-test)

1. Debian's Docker (docker.io, docker-compose) is installed if missing;
   dockerd is started if none answers (no bridge, no iptables: containers
   use the host's network on 127.0.0.1 only) and stopped again at the end,
   its data in a temporary directory under build/ that goes with it.
2. The base image is a debootstrap root (tools/debian-root.sh, cached in
   build/fresh/) imported with docker import: no registry is needed.
3. docker build -f docker/Dockerfile --build-arg BASE=<that image>.
4. Three containers with --network host on free 127.0.0.1 ports, a named
   volume each and the admin token as a read-only file: healthy, running as
   a non-root user, no compiler in the image; records written; the leader's
   container killed (SIGKILL); records written to the new leader; the
   container started again; all three report the same (revision, root).
   docker stop of the leader: it hands leadership over and exits 0.
5. docker/compose.yaml (docker-compose up) on other free ports: three
   healthy nodes that agree, then docker-compose down -v.
Every container, volume and image made here is removed at the end (also
on failure), and the script checks that none is left.
USAGE
    exit 0
    ;;
esac
[ "$(id -u)" = 0 ] || { echo "docker-test: needs root (dockerd)" >&2; exit 1; }

id=pct$$
work="$top/build/docker-test"
log() { echo "docker-test: $*"; }
die() { echo "docker-test: FAILED: $*" >&2; exit 1; }
t_start=$(date +%s)

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi
# Debian's client, which matches its daemon (another may come first in PATH).
docker=docker
[ -x /usr/bin/docker ] && docker=/usr/bin/docker

rm -rf "$work"
mkdir -p "$work"
started_dockerd=0
dockerd_pid=
base=provcat-test-base:$id
image=provcat-test-node:$id
build_image=provcat-test-build:$id
containers=()
volumes=()
compose_up=0

# compose_cmd ARGS...: docker-compose on docker/compose.yaml, our project.
compose_cmd() {
    PROVCAT_IMAGE=$image PROVCAT_ADMIN_TOKEN="$work/admin.token" \
        docker-compose -p "provcat-test-$id" -f "$top/docker/compose.yaml" "$@"
}

cleanup() {
    local rc=$? left
    trap - EXIT
    set +e
    if [ "$compose_up" = 1 ]; then
        compose_cmd down -v --timeout 30 >>"$work/compose.log" 2>&1
    fi
    for c in "${containers[@]}"; do $docker rm -f "$c" >/dev/null 2>&1; done
    for v in "${volumes[@]}"; do $docker volume rm -f "$v" >/dev/null 2>&1; done
    for i in "$image" "$build_image" "$base"; do
        $docker rmi -f "$i" >/dev/null 2>&1
    done
    if $docker info >/dev/null 2>&1; then
        left=$($docker ps -aq --filter "name=provcat-test-$id"; \
               $docker volume ls -q --filter "name=provcat-test-$id"; \
               $docker images -q --filter "reference=provcat-test-*:$id")
        if [ -n "$left" ]; then
            echo "docker-test: left behind: $left" >&2
            rc=1
        else
            log "no container, volume or image of this run is left"
        fi
    fi
    if [ "$started_dockerd" = 1 ]; then
        kill -TERM "$dockerd_pid" 2>/dev/null
        for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$dockerd_pid" 2>/dev/null
        wait "$dockerd_pid" 2>/dev/null
        for m in $(awk -v w="$work" 'index($5, w "/") == 1 { print $5 }' \
                /proc/self/mountinfo | sort -r); do
            umount -l "$m"
        done
        rm -rf --one-file-system "$work/docker-root" "$work/exec-root"
        log "dockerd stopped"
    fi
    if [ "$rc" = 0 ]; then
        log "passed in $(($(date +%s) - t_start)) s"
    else
        echo "docker-test: FAILED (exit status $rc); logs in $work" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT

if ! $docker info >/dev/null 2>&1; then
    log "starting dockerd (--bridge=none --iptables=false, data in $work/docker-root)"
    sock="unix://$work/docker.sock"
    dockerd --host "$sock" --data-root "$work/docker-root" \
        --exec-root "$work/exec-root" --pidfile "$work/dockerd.pid" \
        --bridge=none --iptables=false --ip-masq=false \
        >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    started_dockerd=1
    export DOCKER_HOST=$sock
    for _ in $(seq 60); do
        $docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || { tail -20 "$work/dockerd.log" >&2; die "dockerd exited"; }
        sleep 0.5
    done
    $docker info >/dev/null 2>&1 || die "dockerd does not answer after 30 s"
fi
log "docker: $($docker version --format 'server {{.Server.Version}}, storage '"$($docker info --format '{{.Driver}}')")"

t0=$(date +%s)
tarball="$top/build/fresh/bookworm-minbase.tar"
"$top/tools/debian-root.sh" "$tarball"
$docker import "$tarball" "$base" >/dev/null
log "base image $base imported in $(($(date +%s) - t0)) s"

t0=$(date +%s)
# The build stage alone first, tagged, so that cleaning up removes it too.
build() {
    $docker build --network host --build-arg "BASE=$base" \
        -f "$top/docker/Dockerfile" "$@" "$top"
}
build --target build -t "$build_image" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; die "docker build (build stage)"; }
build -t "$image" >>"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; die "docker build"; }
log "image built in $(($(date +%s) - t0)) s; $(grep -m1 '^runtime packages:' "$work/build.log")"
log "image size: $($docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# An image of the runtime stage: no compiler, a non-root user, the volume.
! $docker run --rm --network host --entrypoint /bin/sh "$image" -c 'command -v gcc cc make' >/dev/null ||
    die "the image has a compiler or make"
[ "$($docker image inspect -f '{{.Config.User}}' "$image")" = provcat ] || die "the image's user is not provcat"
$docker image inspect -f '{{json .Config.Volumes}}' "$image" | grep -q '"/var/lib/provcat"' ||
    die "no /var/lib/provcat volume"
$docker run --rm --network host "$image" --version | grep -q '^provcat-node ' || die "--version"

read -r -a ports <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(12)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
http=("${ports[@]:0:3}")
raft=("${ports[@]:3:3}")
(umask 077 && printf 'pct_%s\n' "$(head -c 32 /dev/urandom | basenc --base64url -w0 | tr -d =)" \
    >"$work/admin.token")
chown 10001:10001 "$work/admin.token"
token=$(cat "$work/admin.token")
cluster="1=127.0.0.1:${raft[0]},2=127.0.0.1:${raft[1]},3=127.0.0.1:${raft[2]}"

start_node() { # i
    local i=$1
    $docker run -d --name "provcat-test-$id-$i" --network host \
        -v "provcat-test-$id-$i:/var/lib/provcat" \
        -v "$work/admin.token:/run/secrets/admin_token:ro" \
        -e PROVCAT_ID="$i" -e PROVCAT_PEER="127.0.0.1:${raft[$((i - 1))]}" \
        -e PROVCAT_CLIENT="127.0.0.1:${http[$((i - 1))]}" \
        -e PROVCAT_CLUSTER="$cluster" -e PROVCAT_INITIAL_CLUSTER_STATE=new \
        -e PROVCAT_ADMIN_TOKEN_FILE=/run/secrets/admin_token \
        "$image" >/dev/null
}
url() { echo "http://127.0.0.1:${http[$(($1 - 1))]}"; }
status() { curl -fsS --max-time 2 "$(url "$1")/v1/status" 2>/dev/null; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get(sys.argv[1]))' "$1"; }
wait_healthy() { # container...
    local c h
    for c in "$@"; do
        for t in $(seq 120); do
            h=$($docker inspect -f '{{.State.Health.Status}}' "$c")
            [ "$h" = healthy ] && break
            [ "$t" = 120 ] && { $docker logs "$c" 2>&1 | tail -20 >&2; die "$c is $h after 60 s"; }
            sleep 0.5
        done
    done
}
leader_of() { # node numbers: prints the one that leads
    local i
    for _ in $(seq 100); do
        for i in "$@"; do
            if [ "$(status "$i" | field state)" = leader ] &&
                curl -fsS --max-time 2 "$(url "$i")/readyz" >/dev/null 2>&1; then
                echo "$i"
                return
            fi
        done
        sleep 0.2
    done
    die "no ready leader among nodes $*"
}
# Requests to the leader $L (the one that leads among $@).
api() { # what method path [body]
    local out code
    out=$(curl -sS --max-time 10 --location-trusted -w '\n%{http_code}' -X "$2" \
        -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        ${4:+-d "$4"} "$(url "$L")$3") || die "$1: no answer"
    code=${out##*$'\n'}
    case "$code" in
    2??) printf '%s\n' "${out%$'\n'*}" ;;
    *) die "$1: HTTP $code: ${out%$'\n'*}" ;;
    esac
}
batch() { # first last: records h-first..h-last
    local r="" k
    for k in $(seq "$1" "$2"); do
        r="$r${r:+,}{\"key\":\"h-$k\",\"value\":{\"name\":\"Hospital $k\",\"licensed_on\":\"2020-01-01\"}}"
    done
    api "records $1-$2" POST /v1/catalog/health-facilities/records:batch "{\"records\":[$r]}" >/dev/null
}
agree() { # node numbers: wait until all report one (revision, root); print it
    local i pairs
    for _ in $(seq 150); do
        pairs=$(for i in "$@"; do status "$i" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["revision"], d["root"])' 2>/dev/null || echo none; done | sort -u)
        if [ "$(printf '%s\n' "$pairs" | wc -l)" = 1 ] && [ "$pairs" != none ]; then
            echo "$pairs"
            return
        fi
        sleep 0.2
    done
    die "nodes $* do not agree: $pairs"
}

t0=$(date +%s)
for i in 1 2 3; do
    containers+=("provcat-test-$id-$i")
    volumes+=("provcat-test-$id-$i")
    start_node "$i"
done
wait_healthy "${containers[@]}"
for i in 1 2 3; do
    [ "$($docker exec "provcat-test-$id-$i" id -u)" = 10001 ] || die "node $i does not run as uid 10001"
done
L=$(leader_of 1 2 3)
log "3 containers healthy in $(($(date +%s) - t0)) s (HTTP ${http[*]}, raft ${raft[*]}); node $L leads"

api "org" POST /v1/orgs '{"id":"health","name":"Health","level":"province","kind":"agency","parent":"authority"}' >/dev/null
clerk=$(api "principal" POST /v1/principals '{"id":"clerk","org":"health","roles":["provider","consumer"]}' | field token)
entry='{"id":"health-facilities","title":"Health facilities","description":"Licensed hospitals","provider":"health","theme":"health","keywords":["hospital"],"fields":[{"name":"name","type":"string","required":true},{"name":"licensed_on","type":"date","required":true}],"share":{"class":"unconditional","conditions":""},"open":{"class":"unconditional","conditions":""},"update_frequency":"monthly","security_level":1,"scope":"province"}'
admin=$token
token=$clerk
api "entry" POST /v1/catalog "$entry" >/dev/null
api "submit" POST /v1/catalog/health-facilities/submit >/dev/null
token=$admin
api "review" POST /v1/catalog/health-facilities/review '{"decision":"approve"}' >/dev/null
token=$clerk
batch 1 100
log "wrote 100 records through node $L"

$docker kill "provcat-test-$id-$L" >/dev/null
killed=$L
rest=()
for i in 1 2 3; do [ "$i" = "$killed" ] || rest+=("$i"); done
L=$(leader_of "${rest[@]}")
batch 101 200
log "killed node $killed's container; node $L leads; wrote 100 more records"
$docker start "provcat-test-$id-$killed" >/dev/null
wait_healthy "provcat-test-$id-$killed"
pair=$(agree 1 2 3)
n=$(curl -fsS "$(url "$killed")/v1/catalog/health-facilities/records?consistency=stale&limit=1000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 200 ] || die "node $killed lists $n records after its restart, not 200"
log "node $killed restarted: all three at (revision, root) = ($pair), 200 records on node $killed"

# docker stop: SIGTERM; a leader hands leadership over, then exits 0.
t0=$(date +%s)
$docker stop -t 30 "provcat-test-$id-$L" >/dev/null
code=$($docker inspect -f '{{.State.ExitCode}}' "provcat-test-$id-$L")
[ "$code" = 0 ] || die "node $L exited $code after docker stop"
$docker logs "provcat-test-$id-$L" 2>&1 | grep -q "handing leadership over before stopping" ||
    die "node $L did not hand leadership over"
stopped=$L
rest=()
for i in 1 2 3; do [ "$i" = "$stopped" ] || rest+=("$i"); done
L=$(leader_of "${rest[@]}")
log "docker stop of the leader: exit 0 in $(($(date +%s) - t0)) s, leadership handed over to node $L"
for c in "${containers[@]}"; do $docker rm -f "$c" >/dev/null; done
for v in "${volumes[@]}"; do $docker volume rm "$v" >/dev/null; done

# The compose file, as the docs run it, on other free ports.
t0=$(date +%s)
export PROVCAT_HTTP1=${ports[6]} PROVCAT_HTTP2=${ports[7]} PROVCAT_HTTP3=${ports[8]}
export PROVCAT_RAFT1=${ports[9]} PROVCAT_RAFT2=${ports[10]} PROVCAT_RAFT3=${ports[11]}
http=("${ports[@]:6:3}")
compose_up=1
compose_cmd up -d >"$work/compose.log" 2>&1 || { cat "$work/compose.log"; die "docker-compose up"; }
mapfile -t cids < <(compose_cmd ps -q)
[ "${#cids[@]}" = 3 ] || die "docker-compose started ${#cids[@]} containers"
wait_healthy "${cids[@]}"
token=$admin
L=$(leader_of 1 2 3)
api "org via compose" POST /v1/orgs '{"id":"health","name":"Health","level":"province","kind":"agency","parent":"authority"}' >/dev/null
pair=$(agree 1 2 3)
[ "$($docker network ls -q --filter driver=bridge | wc -l)" -le 1 ] || die "a bridge network was made"
compose_cmd down -v --timeout 30 >>"$work/compose.log" 2>&1 || { cat "$work/compose.log"; die "docker-compose down"; }
compose_up=0
log "compose: 3 healthy nodes agree at ($pair); down -v in $(($(date +%s) - t0)) s"
