#!/bin/sh
# report.sh MILESTONE STAGE: records that a stage of a milestone ran.
set -eu
mkdir -p reports
echo "$1 $2 ok" > "reports/$1-$2.txt"
echo "$1: $2 recorded"
