#!/usr/bin/env bash
# Seeds the fuzz corpora from the fixtures and the example, so the fuzzer
# starts from real files. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/front_end fuzz/corpus/decoders
for f in tests/fixtures/*/*.kdl tests/fixtures/fuzz/*.kdl examples/*/orchestra.kdl; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/front_end/$(echo "$f" | tr '/' '_')"
done
# A real plan cache, store and journal from a build of the example.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r examples/shop/. "$tmp"
rm -rf "$tmp/.orchestra" "$tmp/src/entities"
(cd "$tmp" && env -u CARGO_TARGET_DIR "$OLDPWD/target/release/orchestra" build --progress never >/dev/null 2>&1) || true
for f in "$tmp"/.orchestra/plan-cache* "$tmp"/.orchestra/fingerprints "$tmp"/.orchestra/fingerprints.d/*; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/decoders/$(basename "$f")"
done
# Depfiles as gcc writes them, from a build of the C example, and the
# example's own plan cache and store (records with depfiles and outputs).
cp -r examples/c/. "$tmp/c"
rm -rf "$tmp/c/.orchestra" "$tmp/c/build"
(cd "$tmp/c" && "$OLDPWD/target/release/orchestra" build --progress never link >/dev/null 2>&1) || true
for f in "$tmp"/c/build/*.d "$tmp"/c/.orchestra/plan-cache* "$tmp"/c/.orchestra/fingerprints "$tmp"/c/.orchestra/fingerprints.d/*; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/decoders/c_$(basename "$f")"
done
echo "seeded: $(ls fuzz/corpus/front_end | wc -l) files, $(ls fuzz/corpus/decoders | wc -l) binaries"
