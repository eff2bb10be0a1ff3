#!/usr/bin/env bash
# A private BuildGrid (REAPI v2: CAS, ByteStream, ActionCache, Capabilities;
# no Execution) on 127.0.0.1, for the remote-cache integration tests. Install
# it with .ci/install-cache-servers, which prints the path of bgd.
#
#   buildgrid.sh start DIR BGD   start it; prints grpc://127.0.0.1:PORT on stdout
#   buildgrid.sh stop DIR        stop it (and its children) and wait until it
#                                has exited (a no-op when it is not running)
#
# Instance name: "" (the empty one). No TLS, no authorization.
# Everything lives in DIR: server.yml, log (the server's stdout and stderr),
# pid (written by bgd once it serves, removed when it exits), pgid, and the
# disk storage: blob <hash> is the file DIR/cas/objects/<hash[0:2]>/<hash[2:]>
# (written through DIR/tmp). The action cache lives in memory (lost at stop);
# each ActionResult it holds is itself stored as a CAS blob.
# Environment: BUILDGRID_START_TIMEOUT (seconds, default 60).
set -euo pipefail
# shellcheck source=tests/servers/processes.sh
. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

prog="buildgrid.sh"
die() { echo "$prog: error: $*" >&2; exit 1; }
usage() { echo "usage: $prog start DIR BGD | stop DIR" >&2; exit 2; }

# Prints the TCP port(s) process $1 listens on at 127.0.0.1. gRPC binds an
# IPv6 socket to the v4-mapped address ::ffff:127.0.0.1, so read tcp6 too.
listen_ports() {
    local fd target inodes=" "
    for fd in /proc/"$1"/fd/*; do
        target=$(readlink "$fd" 2>/dev/null) || continue
        [[ $target == socket:\[*\] ]] && inodes+="${target:8:-1} "
    done
    local local_addr st inode
    while read -r _ local_addr _ st _ _ _ _ _ inode _; do
        [ "$st" = 0A ] || continue # LISTEN
        case ${local_addr%:*} in
            0100007F | 0000000000000000FFFF00000100007F) ;;
            *) continue ;;
        esac
        [[ $inodes == *" $inode "* ]] || continue
        echo $((16#${local_addr#*:}))
    done < <(tail -q -n +2 /proc/net/tcp /proc/net/tcp6 2>/dev/null)
}

start() {
    local bgd=$1 timeout pid pgid port deadline
    [ -x "$bgd" ] || die "bgd not found at '$bgd' (run .ci/install-cache-servers, it prints the path)"
    timeout=${BUILDGRID_START_TIMEOUT:-60}
    if [ -s "$dir/pgid" ] && group_alive "$(<"$dir/pgid")"; then
        die "a BuildGrid (process group $(<"$dir/pgid")) is already running for $dir; stop it first"
    fi
    rm -f "$dir/pid" "$dir/pgid"
    # Port 0: the kernel picks a free port, read back from /proc once bgd
    # serves. so_reuseport 0 keeps two servers from sharing one port.
    cat >"$dir/server.yml" <<EOF
# Written by $prog; regenerated at each start.
description: BuildGrid for orchestra's remote-cache tests
server:
  - !channel
    address: "127.0.0.1:0"
    insecure-mode: true
grpc-server-options:
  grpc.so_reuseport: 0
authorization:
  method: none
monitoring:
  enabled: false
storages:
  - !disk-storage &cas-storage
    path: "$dir"
caches:
  - !lru-action-cache &action-cache
    storage: *cas-storage
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: true
instances:
  - name: ""
    services:
      - !cas
        storage: *cas-storage
      - !bytestream
        storage: *cas-storage
      - !action-cache
        cache: *action-cache
thread-pool-size: 16
EOF
    # setsid: bgd leads its own process group, so that stop can end it and any
    # child; its output goes to DIR/log, never to our stdout.
    PYTHONUNBUFFERED=1 setsid "$bgd" server start --pid-file "$dir/pid" "$dir/server.yml" \
        </dev/null >"$dir/log" 2>&1 &
    pid=$!
    deadline=$((SECONDS + timeout))
    # bgd writes DIR/pid once its gRPC server has started.
    until [ -s "$dir/pid" ]; do
        if ! alive "$pid"; then
            show_log "$dir/log" 60
            die "bgd exited during start-up (config $dir/server.yml)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            show_log "$dir/log" 60
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            die "bgd did not start within ${timeout}s"
        fi
        sleep 0.05
    done
    pid=$(<"$dir/pid")
    pgid=$(read -r s <"/proc/$pid/stat" && read -r -a f <<<"${s##*) }" && echo "${f[2]}") \
        || { show_log "$dir/log" 60; die "bgd (pid $pid) exited right after start-up"; }
    echo "$pgid" >"$dir/pgid"
    port=$(listen_ports "$pid" | head -n 1)
    if [ -z "$port" ] || ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        show_log "$dir/log" 60
        stop_quietly
        die "bgd started but listens on no 127.0.0.1 port"
    fi
    echo "grpc://127.0.0.1:$port"
}

stop_quietly() { stop >/dev/null 2>&1 || true; }

stop() {
    local pgid
    [ -s "$dir/pgid" ] || return 0
    pgid=$(<"$dir/pgid")
    [[ $pgid =~ ^[0-9]+$ ]] || die "bad process group in $dir/pgid: $pgid"
    stop_group "$pgid" BuildGrid
    rm -f "$dir/pgid" "$dir/pid"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case $dir in
    *\"* | *\\*) die "DIR must not contain \" or \\: $dir" ;;
esac
case $cmd in
    start)
        [ $# -eq 3 ] || usage
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
        bgd=$3
        case $bgd in
            /*) ;;
            */*) bgd=$(pwd)/$bgd ;;
            *) bgd=$(command -v "$bgd" 2>/dev/null) || die "bgd '$3' not found on PATH" ;;
        esac
        start "$bgd"
        ;;
    stop)
        [ $# -eq 2 ] || usage
        [ -d "$dir" ] || exit 0
        dir=$(cd "$dir" && pwd)
        stop
        ;;
    *) usage ;;
esac
