#!/bin/sh
# design-check.sh MILESTONE: every declared entity module exists.
set -eu
for module in $(sed -n 's/^pub mod \(.*\);$/\1/p' src/entities/mod.rs); do
    [ -f "src/entities/$module.rs" ] || { echo "$1: missing src/entities/$module.rs" >&2; exit 1; }
done
echo "$1: design ok"
