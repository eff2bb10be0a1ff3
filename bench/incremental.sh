#!/usr/bin/env bash
# Incremental builds: orchestra, ninja and make on the same graph — FILES
# (default 20,000) file copies fanning into NGROUPS (default 100) groups and
# one root (bench/gen_incremental.py) — measured side by side with
# hyperfine:
#   (a) full build at -j JOBS (default 2)
#   (b) no-op rebuild
#   (c) rebuild after changing one input
#   (d) `orchestra plan`, cold (no plan cache) and warm
#   (e) peak memory of the no-op (/usr/bin/time -v)
#
#   bench/incremental.sh                         # the full-size run
#   FILES=2000 NGROUPS=10 RUNS=3 bench/incremental.sh
#
# Installs ninja-build, make, hyperfine and time with apt-get when missing
# (needs root), and builds orchestra in release mode. Results go to stdout;
# hyperfine's JSON goes to $OUT (default: a temporary directory, removed).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/common.sh
. bench/common.sh
graph_settings
bench_setup "$(basename "$0")" "$@" -- ninja-build make hyperfine time

bench_workdir
python3 bench/gen_incremental.py "$work" --files "$files" --groups "$groups"
cd "$work"

o="$orchestra build -j $jobs --progress never"
n="ninja -j $jobs"
m="make -s -j $jobs"
# Each tool starts its full build from no outputs and no records of its own.
reset_outputs='find out -type f -delete'
echo "== $files copies, $groups groups, 1 root; -j $jobs on $(nproc) CPUs; $(uname -sr)"
echo "== (a) full build"
hyperfine --shell=bash --runs "$full_runs" --export-json "$out/full.json" \
    --command-name orchestra --prepare "$reset_outputs; rm -rf .orchestra/fingerprints .orchestra/fingerprints.d" "$o" \
    --command-name ninja --prepare "$reset_outputs; rm -f .ninja_log .ninja_deps" "$n" \
    --command-name make --prepare "$reset_outputs" "$m"

# Every tool has built once; build again so each has recorded what it did
# (orchestra's plan cache and fingerprints, ninja's log).
$o >/dev/null 2>&1; $n >/dev/null; $m >/dev/null
echo "== (b) no-op rebuild"
hyperfine --shell=none --warmup 2 --runs "$runs" --export-json "$out/noop.json" \
    --command-name orchestra "$o" --command-name ninja "$n" --command-name make "$m"

echo "== (c) rebuild after changing one input (a copy, its group and the root rerun)"
change='date +%s%N >> src/g1/f7.txt'
hyperfine --shell=bash --warmup 1 --runs "$runs" --export-json "$out/one.json" \
    --command-name orchestra --prepare "$change" "$o" \
    --command-name ninja --prepare "$change" "$n" \
    --command-name make --prepare "$change" "$m"

echo "== (d) orchestra plan, cold (no plan cache) and warm"
hyperfine --shell=bash --warmup 1 --runs "$runs" --export-json "$out/plan.json" \
    --command-name 'plan cold' --prepare 'rm -f .orchestra/plan-cache*' "$orchestra plan" \
    --command-name 'plan warm' --prepare true "$orchestra plan"

echo "== (e) peak memory of the no-op rebuild (maximum resident set size)"
# (d) removed the plan caches: one build puts the build's back first.
$o >/dev/null 2>&1
for tool in orchestra ninja make; do
    case $tool in orchestra) cmd=$o ;; ninja) cmd=$n ;; make) cmd=$m ;; esac
    # time's report and the tool's own stderr share a file; awk finds the line.
    /usr/bin/time -v $cmd >/dev/null 2>"$out/time.txt"
    kb=$(awk '/Maximum resident/ { print $NF }' "$out/time.txt")
    echo "$tool: $kb KB"
done
echo "== medians and ratios"
python3 "$repo/bench/ratios.py" "$out"/full.json "$out"/noop.json "$out"/one.json "$out"/plan.json
echo "hyperfine JSON in $out"
