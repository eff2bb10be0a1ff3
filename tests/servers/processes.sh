# Sourced by the server scripts here: telling whether a server's processes
# are still there. An exited daemon stays a zombie until init reaps it,
# which can take a second or two: zombies count as gone.

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
