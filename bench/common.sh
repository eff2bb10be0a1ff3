# Sourced by the benchmark scripts: what every one of them does first.
#
#   bench_setup "$@" -- ninja-build hyperfine ...   (apt packages it needs)
#
# Re-runs the calling script under `flock /tmp/cargo.lock` (benchmarks run
# alone: the whole run holds the machine's shared lock, builds included),
# installs the missing packages with apt-get (needs root), builds orchestra
# in release mode and sets `repo` and `orchestra`.

have() { command -v "$1" >/dev/null 2>&1; }

# The command each apt package provides, to tell whether it is missing.
bench_command_of() {
    case $1 in
        ninja-build) echo ninja ;;
        time) echo /usr/bin/time ;;
        gcc) echo cc ;;
        *) echo "$1" ;;
    esac
}

# The 20,000-file graph both incremental.sh and cache.sh time, and how
# often: FILES, NGROUPS, RUNS, FULL_RUNS and JOBS override.
# shellcheck disable=SC2034  # read by the sourcing script
graph_settings() {
    files=${FILES:-20000}
    groups=${NGROUPS:-100}
    runs=${RUNS:-10}
    full_runs=${FULL_RUNS:-3}
    jobs=${JOBS:-2}
}

bench_setup() {
    local script=$1
    shift
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    repo=$PWD
    if [ -z "${BENCH_LOCKED:-}" ] && have flock; then
        BENCH_LOCKED=1 exec flock /tmp/cargo.lock bash "$repo/bench/$script" "${args[@]}"
    fi
    local missing=() package
    for package in "$@"; do
        have "$(bench_command_of "$package")" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        if [ "$(id -u)" = 0 ] && have apt-get; then
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        else
            echo "bench/$script needs: ${missing[*]} (apt-get install them)" >&2
            exit 1
        fi
    fi
    cargo build --release --locked -q
    orchestra=$repo/target/release/orchestra
}

# A temporary directory for one run: `$work` to build in (removed at exit)
# and `$out` for hyperfine's JSON (kept; `OUT=DIR` chooses it).
bench_workdir() {
    local dir
    dir=$(mktemp -d)
    out=${OUT:-$dir/results}
    work=$dir/work
    mkdir -p "$out" "$work"
    trap 'rm -rf "$work"' EXIT
}
