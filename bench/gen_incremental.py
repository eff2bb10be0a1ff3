#!/usr/bin/env python3
"""Generate one build graph for orchestra, ninja and make side by side.

Usage: bench/gen_incremental.py DIR [--files N] [--groups G]

The shape ninja's own comparisons use: N source files (default 20,000),
each copied by its own task, fanning into G groups (default 100) that each
concatenate their copies, and one root that concatenates the groups.
Writes DIR/orchestra.kdl, DIR/build.ninja, DIR/Makefile, the sources under
DIR/src/ and the empty output directories under DIR/out/ (so no tool pays
for mkdir), all three running the same `cp` and `cat` commands.
"""
import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=100)
    args = parser.parse_args()
    root, groups = args.dir, args.groups
    per_group = args.files // groups
    kdl = ['project "incremental"\n']
    ninja = [
        "rule cp\n  command = cp $in $out\n",
        "rule cat\n  command = cat $in > $out\n",
    ]
    make = [".PHONY: all\nall: out/root.txt\n"]
    group_files = []
    for g in range(groups):
        os.makedirs(f"{root}/src/g{g}", exist_ok=True)
        os.makedirs(f"{root}/out/g{g}", exist_ok=True)
        copies = []
        for i in range(per_group):
            src, out = f"src/g{g}/f{i}.txt", f"out/g{g}/f{i}.txt"
            with open(f"{root}/{src}", "w") as f:
                f.write(f"file {g}/{i}\n")
            kdl.append(
                f'task "c{g}-{i}" {{ run "cp {src} {out}"; '
                f'inputs "{src}"; outputs "{out}"; }}\n'
            )
            ninja.append(f"build {out}: cp {src}\n")
            make.append(f"{out}: {src}\n\tcp {src} {out}\n")
            copies.append(out)
        group = f"out/g{g}.txt"
        needs = " ".join(f'"c{g}-{i}"' for i in range(per_group))
        kdl.append(
            f'task "g{g}" {{ needs {needs}; run "cat {" ".join(copies)} > {group}"; '
            f'inputs "out/g{g}/*.txt"; outputs "{group}"; }}\n'
        )
        ninja.append(f"build {group}: cat {' '.join(copies)}\n")
        make.append(f"{group}: {' '.join(copies)}\n\tcat {' '.join(copies)} > {group}\n")
        group_files.append(group)
    needs = " ".join(f'"g{g}"' for g in range(groups))
    inputs = " ".join(f'"{f}"' for f in group_files)
    kdl.append(
        f'task "root" {{ needs {needs}; run "cat {" ".join(group_files)} > out/root.txt"; '
        f'inputs {inputs}; outputs "out/root.txt"; }}\n'
    )
    ninja.append(f"build out/root.txt: cat {' '.join(group_files)}\ndefault out/root.txt\n")
    make.append(f"out/root.txt: {' '.join(group_files)}\n\tcat {' '.join(group_files)} > out/root.txt\n")
    for name, lines in (("orchestra.kdl", kdl), ("build.ninja", ninja), ("Makefile", make)):
        with open(f"{root}/{name}", "w") as f:
            f.writelines(lines)


if __name__ == "__main__":
    main()
