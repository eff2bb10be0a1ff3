#!/bin/sh
# schema.sh: lists every generated struct and its fields in reports/schema.txt.
set -eu
mkdir -p reports
grep -h -e '^pub struct' -e '^    pub ' src/entities/*.rs > reports/schema.txt
echo "wrote reports/schema.txt ($(grep -c '^pub struct' reports/schema.txt) structs)"
