# shellcheck shell=bash disable=SC2154  # `prog` comes from the sourcing script
# Sourced by the server scripts here: telling whether a server's processes
# are still there, stopping them, showing their log. An exited daemon stays
# a zombie until init reaps it, which can take a second or two: zombies
# count as gone. The sourcing script defines `prog` and `die`.

# Succeeds while process $1 exists and is not a zombie.
alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

# Succeeds while a live (not zombie) process is in process group $1.
group_alive() {
    local f stat fields
    for f in /proc/[0-9]*/stat; do
        { read -r stat <"$f"; } 2>/dev/null || continue
        read -r -a fields <<<"${stat##*) }"
        [ "${fields[2]}" = "$1" ] && [ "${fields[0]}" != Z ] && return 0
    done
    return 1
}

# Stops process group $1 ($2 names the server in messages): SIGTERM, then
# SIGKILL after 10 s; dies if it is still there after that.
stop_group() {
    local pgid=$1 name=$2
    group_alive "$pgid" || return 0
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 200); do
        group_alive "$pgid" || return 0
        sleep 0.05
    done
    echo "$prog: $name (process group $pgid) ignored SIGTERM for 10s; killing it" >&2
    kill -KILL -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        group_alive "$pgid" || return 0
        sleep 0.05
    done
    die "$name (process group $pgid) did not exit"
}

# Shows the last $2 lines of log file $1 on stderr, if it has any.
show_log() {
    if [ -s "$1" ]; then
        echo "--- $1 ---" >&2
        tail -n "$2" "$1" >&2
        echo "---" >&2
    fi
}
