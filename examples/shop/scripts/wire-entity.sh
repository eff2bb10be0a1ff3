#!/bin/sh
# wire-entity.sh ENTITY: declares the entity's module in src/entities/mod.rs,
# keeping declarations sorted the way rustfmt wants them. Runs in the
# `modules` pool, so two entities never rewrite the file at once.
set -eu
module=$(printf '%s' "$1" | tr '-' '_')
list=src/entities/mod.rs
tmp=$list.tmp.$$
{
    grep -v '^pub mod ' "$list"
    { grep '^pub mod ' "$list" || true; printf 'pub mod %s;\n' "$module"; } | LC_ALL=C sort -u
} > "$tmp"
mv "$tmp" "$list"
