#!/usr/bin/env bash
# A real compile, orchestra against ninja: a generated C project of FILES
# (default 200) `.c` files and HEADERS (default 40) headers in chains
# (bench/gen_c.py), built by `cc` with depfiles by both tools, side by side
# with hyperfine at -j JOBS (default 2):
#   (a) full build
#   (b) no-op rebuild
#   (c) one header edited (util0.h: the objects including it, through the
#       header chains, and the link)
#   (d) one .c edited (f7.c: its object and the link)
#
#   bench/c_project.sh
#   FILES=50 RUNS=3 bench/c_project.sh
#
# Installs ninja-build and hyperfine with apt-get when missing (needs root)
# and builds orchestra in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

files=${FILES:-200}
headers=${HEADERS:-40}
runs=${RUNS:-10}
full_runs=${FULL_RUNS:-3}
jobs=${JOBS:-2}

# shellcheck source=bench/common.sh
. bench/common.sh
bench_setup "$(basename "$0")" "$@" -- ninja-build hyperfine gcc

bench_workdir
python3 bench/gen_c.py "$work" --files "$files" --headers "$headers"
cd "$work"

o="$orchestra build -j $jobs --progress never"
n="ninja -j $jobs"
echo "== $files .c files, $headers headers; cc $(cc -dumpversion); -j $jobs on $(nproc) CPUs"
echo "== (a) full build"
hyperfine --shell=bash --runs "$full_runs" --export-json "$out/full.json" \
    --command-name orchestra --prepare "rm -rf build .orchestra/fingerprints .orchestra/fingerprints.d" "$o" \
    --command-name ninja --prepare "rm -rf build .ninja_log .ninja_deps" "$n"
$o >/dev/null 2>&1; $n >/dev/null
echo "== (b) no-op rebuild"
hyperfine --shell=none --warmup 2 --runs "$runs" --export-json "$out/noop.json" \
    --command-name orchestra "$o" --command-name ninja "$n"
echo "== (c) one header edited"
header='sed -i "s/^#define UTIL0_VALUE .*/#define UTIL0_VALUE $RANDOM/" include/util0.h'
hyperfine --shell=bash --warmup 1 --runs "$runs" --export-json "$out/header.json" \
    --command-name orchestra --prepare "$header" "$o" \
    --command-name ninja --prepare "$header" "$n"
echo "== (d) one .c edited"
source='sed -i "s/^int f7(int x) { int s = [0-9]*;/int f7(int x) { int s = $RANDOM;/" src/f7.c'
hyperfine --shell=bash --warmup 1 --runs "$runs" --export-json "$out/source.json" \
    --command-name orchestra --prepare "$source" "$o" \
    --command-name ninja --prepare "$source" "$n"
echo "== what each scenario rebuilds"
sed -i "s/^#define UTIL0_VALUE .*/#define UTIL0_VALUE 99999/" include/util0.h
echo "header: orchestra $($o 2>&1 | grep -c '] start ') tasks, ninja $($n | grep -c '^\[') edges"
echo "== medians and ratios"
python3 "$repo/bench/ratios.py" "$out"/full.json "$out"/noop.json "$out"/header.json "$out"/source.json
echo "hyperfine JSON in $out"
