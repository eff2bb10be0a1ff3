#!/usr/bin/env python3
"""Print the medians, CPU times and ratios to ninja of hyperfine JSON files.

Usage: bench/ratios.py RESULT.json [RESULT.json ...]

One table per file: each command's median wall time, mean user and system
time, and its median divided by ninja's (when ninja is in the file).
"""
import json
import statistics
import sys


def main() -> None:
    for path in sys.argv[1:]:
        with open(path) as f:
            results = json.load(f)["results"]
        medians = {r["command"]: statistics.median(r["times"]) for r in results}
        base = medians.get("ninja")
        print(f"-- {path}")
        print(f"{'command':<12} {'median':>10} {'user':>9} {'system':>9} {'/ ninja':>8}")
        for r in results:
            name = r["command"]
            ratio = f"{medians[name] / base:.2f}x" if base else ""
            print(
                f"{name:<12} {medians[name] * 1000:>8.1f}ms {r['user'] * 1000:>7.0f}ms "
                f"{r['system'] * 1000:>7.0f}ms {ratio:>8}"
            )


if __name__ == "__main__":
    main()
