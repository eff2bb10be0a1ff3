#!/usr/bin/env bash
# Nested makes under orchestra, with and without the jobserver: TASKS
# (default 2) tasks each run a make that compiles FILES (default 24) C files
# with `cc -O2`, under `orchestra build -j JOBS` (default 2). Three ways to
# write the task, side by side with hyperfine:
#   serial     run "make"                      (each make runs one job)
#   unbounded  run "make -j"                   (each make runs all at once)
#   jobserver  run "make", jobserver=#true     (the makes share -j)
# and, for each, the most compiles that ran at once (from a log every
# compile writes when it starts and ends).
#
#   bench/jobserver.sh
#   TASKS=1 FILES=40 bench/jobserver.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tasks=${TASKS:-2}
files=${FILES:-24}
jobs=${JOBS:-2}
runs=${RUNS:-5}

# shellcheck source=bench/common.sh
. bench/common.sh
bench_setup "$(basename "$0")" "$@" -- hyperfine gcc make

bench_workdir
cd "$work"
for t in $(seq 1 "$tasks"); do
    mkdir -p "part$t"
    for i in $(seq 1 "$files"); do
        {
            echo "double f${i}(double x) {"
            echo "  double s = 0; for (int k = 1; k < 4000; k++) s += x / k * (k % 7);"
            for r in $(seq 1 40); do echo "  s = s * 1.0001 + (double)$r / (s + 1.5);"; done
            echo "  return s; }"
        } > "part$t/f$i.c"
    done
    {
        echo "OBJS := \$(patsubst %.c,%.o,\$(wildcard *.c))"
        echo "all: \$(OBJS)"
        echo "%.o: %.c"
        printf '\t@echo "+ $$(date +%%s%%N)" >> ../jobs.log; cc -O2 -c $< -o $@; echo "- $$(date +%%s%%N)" >> ../jobs.log\n'
        echo "clean:"
        printf '\trm -f *.o\n'
    } > "part$t/Makefile"
done

write_kdl() { # STYLE
    : > "$1.kdl"
    for t in $(seq 1 "$tasks"); do
        case $1 in
            serial) echo "task \"part$t\" { run \"make -C part$t\"; }" ;;
            unbounded) echo "task \"part$t\" { run \"make -j -C part$t\"; }" ;;
            jobserver) echo "task \"part$t\" jobserver=#true { run \"make -C part$t\"; }" ;;
        esac >> "$1.kdl"
    done
}

most_at_once() {
    sort -k2 -n jobs.log | awk '{c += ($1 == "+") ? 1 : -1; if (c > m) m = c} END {print m}'
}

clean='rm -f part*/*.o jobs.log'
echo "== $tasks tasks, each a make of $files compiles; orchestra -j $jobs on $(nproc) CPUs; $(make --version | head -1)"
args=()
for style in serial unbounded jobserver; do
    write_kdl "$style"
    args+=(--command-name "$style" --prepare "$clean; cp $style.kdl orchestra.kdl"
        "$orchestra build -j $jobs --progress never")
done
hyperfine --shell=bash --runs "$runs" --export-json "$out/jobserver.json" "${args[@]}"
echo "== the most compiles at once"
for style in serial unbounded jobserver; do
    eval "$clean"
    cp "$style.kdl" orchestra.kdl
    "$orchestra" build -j "$jobs" --progress never >/dev/null 2>&1
    echo "$style: $(most_at_once)"
done
python3 "$repo/bench/ratios.py" "$out/jobserver.json"
echo "hyperfine JSON in $out"
