#!/usr/bin/env bash
# The output cache on the 20k-task graph (bench/gen_incremental.py: FILES
# copies, default 20,000, fanning into NGROUPS groups and one root), side by
# side with ninja and make in one run, measured with hyperfine:
#   (a) a full build: ninja, make, orchestra without a cache, and orchestra
#       storing every task in its local cache (the default)
#   (b) filling a shared cache from the first clone, once per server, with
#       the bytes uploaded
#   (c) a cold build in a second clone (no outputs, no .orchestra/) against
#       the warm shared cache — nginx with WebDAV over the Bazel HTTP
#       protocol, and BuildGrid over REAPI v2 — next to a local full build;
#       then the bytes moved by one such build
#   (d) a no-op: without a cache, with the local one, with a remote set
#
#   bench/cache.sh                                    # the full-size run
#   FILES=2000 NGROUPS=10 RUNS=3 bench/cache.sh       # a quick one
#
# Starts its own nginx and BuildGrid on 127.0.0.1 (tests/servers/) and stops
# them at the end; installs ninja-build, make, hyperfine, nginx and BuildGrid
# when missing (root). Holds /tmp/cargo.lock for the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/common.sh
. bench/common.sh
graph_settings
bench_setup "$(basename "$0")" "$@" -- ninja-build make hyperfine
bgd=$(.ci/install-cache-servers target/ci-tools/buildgrid | tail -n 1)

bench_workdir
servers=$(mktemp -d)
cleanup() {
    bash "$repo/tests/servers/nginx-cache.sh" stop "$servers/nginx" || true
    bash "$repo/tests/servers/buildgrid.sh" stop "$servers/buildgrid" || true
    rm -rf "$servers" "$work"
}
trap cleanup EXIT
http=$(bash tests/servers/nginx-cache.sh start "$servers/nginx")
grpc=$(bash tests/servers/buildgrid.sh start "$servers/buildgrid" "$bgd")

python3 bench/gen_incremental.py "$work/a" --files "$files" --groups "$groups"
# The second clone: the same files elsewhere, nothing built.
cp -a "$work/a" "$work/b"
cd "$work/a"

o="$orchestra build -j $jobs --progress never"
# Keeps the plan cache (as bench/incremental.sh does): a build from no
# outputs, no fingerprints and no output cache.
reset='find out -type f -delete; rm -rf .orchestra/fingerprints .orchestra/fingerprints.d .orchestra/cache'
echo "== $files copies, $groups groups, 1 root; -j $jobs on $(nproc) CPUs; $(uname -sr)"
echo "== servers: nginx $http, BuildGrid $grpc"

echo "== (a) full build: without a cache, and storing every task locally"
hyperfine --shell=bash --runs "$full_runs" --export-json "$out/full.json" \
    --command-name ninja --prepare "find out -type f -delete; rm -f .ninja_log .ninja_deps" "ninja -j $jobs" \
    --command-name make --prepare "find out -type f -delete" "make -s -j $jobs" \
    --command-name 'cache off' --prepare "$reset" "$o --cache off" \
    --command-name 'cache local' --prepare "$reset" "$o"

echo "== (b) filling each shared cache from the first clone (one build each)"
for url in "$http" "$grpc"; do
    eval "$reset"
    start=$(date +%s%N)
    line=$($o --cache remote:w --cache-url "$url" 2>&1 | grep '^cache:' || true)
    echo "$url: $(( ($(date +%s%N) - start) / 1000000 )) ms; $line"
done

cd "$work/b"
# A clone builds its plan cache at its first build: made here, untimed.
$o --cache off >/dev/null 2>&1
eval "$reset"
echo "== (c) a cold build in the second clone: local full build against each warm shared cache"
hyperfine --shell=bash --runs "$full_runs" --export-json "$out/clone.json" \
    --command-name ninja --prepare "find out -type f -delete; rm -f .ninja_log .ninja_deps" "ninja -j $jobs" \
    --command-name 'local build' --prepare "$reset" "$o --cache off" \
    --command-name 'from nginx' --prepare "$reset" "$o --cache remote:r --cache-url $http" \
    --command-name 'from BuildGrid' --prepare "$reset" "$o --cache remote:r --cache-url $grpc"
for url in "$http" "$grpc"; do
    eval "$reset"
    echo "$url: $($o --cache remote:r --cache-url "$url" 2>&1 | grep '^cache:')"
done

echo "== (d) no-op: without a cache, with the local one, with a remote set"
eval "$reset"
$o >/dev/null 2>&1
$o >/dev/null 2>&1
ninja -j "$jobs" >/dev/null
hyperfine --shell=none --warmup 2 --runs "$runs" --export-json "$out/noop.json" \
    --command-name ninja "ninja -j $jobs" \
    --command-name 'cache off' "$o --cache off" \
    --command-name 'cache local' "$o" \
    --command-name 'remote set' "$o --cache-url $http"

echo "== medians and ratios"
python3 "$repo/bench/ratios.py" "$out"/full.json "$out"/clone.json "$out"/noop.json
echo "hyperfine JSON in $out"
