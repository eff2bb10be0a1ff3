#!/usr/bin/env python3
"""Writes a C project, and the same build for orchestra and ninja.

    python3 bench/gen_c.py DIR [--files 200] [--headers 40]

DIR gets src/ with FILES `.c` files and HEADERS headers under include/;
each `.c` includes three headers picked deterministically, and each header
includes the one before it in a chain of ten, so one edit to a header early
in a chain reaches many objects through the header graph. `util0.h` is the
header edited by the benchmark; `f7.c` the source.

Both builds compile every `.c` with `cc -O1 -MMD -MF build/NAME.d` and link
one program:
- `orchestra.kdl`: one `rule` over `src/*.c` with `depfile` (a task per
  object, 12 lines in all), and a link of `build/*.o`;
- `build.ninja`: a `cc` rule with `depfile` and `deps = gcc`, and a link.
"""
import argparse
import os


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--headers", type=int, default=40)
    a = p.parse_args()
    os.makedirs(os.path.join(a.dir, "src"), exist_ok=True)
    os.makedirs(os.path.join(a.dir, "include"), exist_ok=True)
    for h in range(a.headers):
        chain = f'#include "util{h - 1}.h"\n' if h % 10 else ""
        with open(os.path.join(a.dir, f"include/util{h}.h"), "w") as f:
            f.write(f"#ifndef UTIL{h}_H\n#define UTIL{h}_H\n{chain}")
            f.write(f"#define UTIL{h}_VALUE {h + 1}\nint util{h}(int);\n#endif\n")
    for i in range(a.files):
        picks = sorted({(i * 7) % a.headers, (i * 13 + 3) % a.headers, (i * 29 + 5) % a.headers})
        with open(os.path.join(a.dir, f"src/f{i}.c"), "w") as f:
            for h in picks:
                f.write(f'#include "util{h}.h"\n')
            body = " + ".join(f"UTIL{h}_VALUE" for h in picks)
            f.write(f"int f{i}(int x) {{ int s = 0; for (int k = 0; k < x; k++) s += k * ({body}); return s; }}\n")
    with open(os.path.join(a.dir, "src/main.c"), "w") as f:
        for i in range(a.files):
            f.write(f"int f{i}(int);\n")
        f.write("int main(void) { int s = 0;\n")
        for i in range(a.files):
            f.write(f"  s += f{i}({i % 5});\n")
        f.write("  return s & 1; }\n")
    names = [f"f{i}" for i in range(a.files)] + ["main"]
    with open(os.path.join(a.dir, "orchestra.kdl"), "w") as f:
        f.write(
            'project "cbench"\n'
            'rule "cc" {\n'
            '    foreach "src/*.c"\n'
            '    run "mkdir -p build && cc -O1 -Iinclude -MMD -MF build/{stem}.d -c {in} -o {out}"\n'
            '    outputs "build/{stem}.o"\n'
            '    depfile "build/{stem}.d"\n'
            "}\n"
            'task "link" {\n'
            '    needs "cc"\n'
            '    inputs "build/*.o"\n'
            '    run "cc -o build/app build/*.o"\n'
            '    outputs "build/app"\n'
            "}\n"
        )
    with open(os.path.join(a.dir, "build.ninja"), "w") as f:
        f.write("rule cc\n  command = mkdir -p build && cc -O1 -Iinclude -MMD -MF $out.d -c $in -o $out\n")
        f.write("  depfile = $out.d\n  deps = gcc\n")
        f.write("rule link\n  command = cc -o $out $in\n")
        for n in names:
            f.write(f"build build/{n}.o: cc src/{n}.c\n")
        f.write("build build/app: link " + " ".join(f"build/{n}.o" for n in names) + "\n")
        f.write("default build/app\n")


if __name__ == "__main__":
    main()
