#!/usr/bin/env bash
# A private nginx serving a Bazel HTTP cache (WebDAV PUT/GET) on 127.0.0.1,
# for the remote-cache integration tests. Install nginx with
# .ci/install-cache-servers.
#
#   nginx-cache.sh start DIR   start it; prints http://127.0.0.1:PORT on stdout
#   nginx-cache.sh stop DIR    stop it and wait until it has exited (a no-op
#                              when it is not running)
#
# Everything lives in DIR: the blobs in DIR/store (PUT /cas/<hash> writes
# DIR/store/cas/<hash>, any nested path is created), nginx.conf, nginx.pid,
# error.log, access.log, tmp/. DIR is created if missing. nginx runs as the
# current user (as root, its workers stay root so that they can write DIR).
# Environment: NGINX (binary, default: nginx on PATH or /usr/sbin/nginx),
# NGINX_START_TIMEOUT (seconds, default 10).
set -euo pipefail
# shellcheck source=tests/servers/processes.sh
. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

prog="nginx-cache.sh"
die() { echo "$prog: error: $*" >&2; exit 1; }
usage() { echo "usage: $prog start|stop DIR" >&2; exit 2; }

# Answers when an HTTP request to 127.0.0.1:$1 gets a status line back.
http_ready() {
    local line
    { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET /.ready-probe HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 || { exec 3>&-; return 1; }
    IFS= read -r -t 2 line <&3 || line=""
    exec 3>&-
    [[ $line == HTTP/1.?\ * ]]
}

running_pid() {
    local pid
    [ -s "$dir/nginx.pid" ] || return 1
    pid=$(<"$dir/nginx.pid")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    echo "$pid"
}

write_conf() {
    local port=$1 user_line=""
    # As root, workers would otherwise drop to `nobody` and could not write
    # DIR/store; as another user the directive is ignored with a warning.
    [ "$(id -u)" = 0 ] && user_line="user root;"
    cat >"$dir/nginx.conf" <<EOF
# Written by $prog; regenerated at each start.
$user_line
daemon on;
worker_processes 1;
pid "$dir/nginx.pid";
error_log "$dir/error.log" warn;
events { worker_connections 512; }
http {
    access_log "$dir/access.log";
    client_body_temp_path "$dir/tmp/client_body";
    proxy_temp_path "$dir/tmp/proxy";
    fastcgi_temp_path "$dir/tmp/fastcgi";
    uwsgi_temp_path "$dir/tmp/uwsgi";
    scgi_temp_path "$dir/tmp/scgi";
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        location / {
            root "$dir/store";
            dav_methods PUT DELETE;
            dav_access user:rw group:rw all:r;
            create_full_put_path on;
            client_max_body_size 0;
            log_not_found off;
        }
    }
}
EOF
}

start() {
    local nginx timeout port="" pid deadline
    nginx=${NGINX:-$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}
    [ -x "$nginx" ] || die "nginx not found (run .ci/install-cache-servers)"
    timeout=${NGINX_START_TIMEOUT:-10}
    if pid=$(running_pid); then
        die "an nginx (pid $pid) is already running for $dir; stop it first"
    fi
    mkdir -p "$dir/store" "$dir/tmp"
    rm -f "$dir/nginx.pid"
    # nginx cannot listen on port 0: try random ports below the kernel's
    # ephemeral range (so outgoing connections do not take them) until one binds.
    for _ in $(seq 1 20); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        # A port something already listens on makes nginx retry for 2.5 s: skip it.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            port=""
            continue
        fi
        write_conf "$port"
        : >"$dir/error.log"
        # shellcheck disable=SC2094 # -e and the redirections append to one log
        if "$nginx" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >>"$dir/error.log" 2>&1; then
            break
        fi
        if grep -q 'Address already in use' "$dir/error.log"; then
            port=""
            continue
        fi
        show_log "$dir/error.log" 50
        die "nginx failed to start (config $dir/nginx.conf)"
    done
    [ -n "$port" ] || { show_log "$dir/error.log" 50; die "found no free port for nginx after 20 tries"; }
    deadline=$((SECONDS + timeout))
    until http_ready "$port"; do
        # (the daemonized master writes its pid file a moment after nginx returns)
        if [ "$SECONDS" -ge "$deadline" ] || { [ -s "$dir/nginx.pid" ] && ! running_pid >/dev/null; }; then
            show_log "$dir/error.log" 50
            stop_quietly
            die "nginx did not answer on 127.0.0.1:$port within ${timeout}s"
        fi
        sleep 0.05
    done
    echo "http://127.0.0.1:$port"
}

stop_quietly() { stop >/dev/null 2>&1 || true; }

stop() {
    local pid
    pid=$(running_pid) || { rm -f "$dir/nginx.pid"; return 0; }
    # The daemonized master leads its own process group, workers included.
    stop_group "$pid" nginx
    rm -f "$dir/nginx.pid"
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case $dir in
    *\"* | *\\* | *\;* | *\$* | *\{* | *\}*) die "DIR must not contain \" \\ ; \$ { }: $dir" ;;
esac
case $cmd in
    start) mkdir -p "$dir" ;;
    stop) [ -d "$dir" ] || exit 0 ;;
    *) usage ;;
esac
dir=$(cd "$dir" && pwd)
"$cmd"
