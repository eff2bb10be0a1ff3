#!/usr/bin/env bash
# Scheduler overhead: TASKS (default 2000) tasks that each run `true`, in a
# wide DAG (layers of WIDTH tasks, each needing two of the layer before),
# at -j 2 — orchestra against ninja running the same graph. Both start each
# command through `sh -c`, so what differs is the scheduler, process
# handling and bookkeeping around the commands.
#
#   bench/scheduler.sh            # 2000 tasks, 10 runs each
#   TASKS=500 RUNS=3 bench/scheduler.sh
#
# Installs ninja-build and hyperfine with apt-get when they are missing
# (needs root), and builds orchestra in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

tasks=${TASKS:-2000}
width=${WIDTH:-50}
runs=${RUNS:-10}
jobs=${JOBS:-2}

# shellcheck source=bench/common.sh
. bench/common.sh
bench_setup "$(basename "$0")" "$@" -- ninja-build hyperfine

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
layers=$(( (tasks + width - 1) / width ))

# The same graph twice: task L-I needs L-1/I and L-1/I+1 (wrapping).
{
    echo 'project "bench"'
    printf 'rule run\n  command = true\n' > "$dir/build.ninja"
    n=0
    for ((layer = 0; layer < layers; layer++)); do
        for ((i = 0; i < width && n < tasks; i++, n++)); do
            if ((layer == 0)); then
                echo "task \"t$layer-$i\" { run \"true\"; }"
                echo "build t$layer-$i: run" >> "$dir/build.ninja"
            else
                a="t$((layer - 1))-$i"
                b="t$((layer - 1))-$(( (i + 1) % width ))"
                echo "task \"t$layer-$i\" { needs \"$a\" \"$b\"; run \"true\"; }"
                echo "build t$layer-$i: run $a $b" >> "$dir/build.ninja"
            fi
        done
    done
} > "$dir/orchestra.kdl"

echo "$tasks tasks in $layers layers of $width, -j $jobs ($(nproc) CPUs)"
cd "$dir"
# The commands never create their outputs, so ninja reruns every edge each
# time, just as orchestra runs every task without `inputs`.
hyperfine --shell=none --warmup 1 --runs "$runs" --export-csv "$dir/times.csv" \
    --export-json "$dir/times.json" \
    --command-name orchestra "$orchestra build -j $jobs --progress never" \
    --command-name ninja "ninja -j $jobs"

awk -F, '
    NR > 1 { mean[$1] = $2 }
    END {
        printf "orchestra %.3fs, ninja %.3fs, ratio %.3f (orchestra / ninja)\n",
            mean["orchestra"], mean["ninja"], mean["orchestra"] / mean["ninja"]
    }' "$dir/times.csv"
python3 "$repo/bench/ratios.py" "$dir/times.json"
