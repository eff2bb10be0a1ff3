#!/usr/bin/env python3
"""Generate a large, valid orchestra.kdl for front-end benchmarks.

Usage: bench/gen_config.py [--bytes N] [--seed S] > orchestra.kdl

Mixes the node kinds a real file has: a gate, tasks with needs chains,
entity groups whose entities relate to earlier ones (so waves form),
pipelines, and milestones with phases and depends-on. Deterministic for a
given seed. Grows until the output reaches --bytes (default 1 MB).
"""
import argparse
import random
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bytes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = []
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        out.append(text)
        size += len(text.encode())

    emit('project "bench" {\n    jobs 2\n    complexity "standard"\n    env LANG="C"\n}\n')
    emit('vars {\n    out "build"\n}\n')
    emit('pool "db" depth=1\n')
    emit('gate "verify" retries=1 {\n    check "a" "true"\n    check "b" "sh -c true" fix="true"\n}\n')
    emit('pipeline "quick" {\n    phases\n}\n')
    emit('pipeline "standard" {\n    stage "prepare" "true {milestone}"\n    phases\n    gate "verify"\n}\n')
    chunk = 0
    while size < args.bytes:
        # 50 tasks, each needing up to two earlier tasks of its chunk.
        for i in range(50):
            needs = ""
            if i > 0:
                picks = sorted({f"t{chunk}-{rng.randrange(i)}" for _ in range(rng.randint(1, 2))})
                needs = "    needs " + " ".join(f'"{p}"' for p in picks) + "\n"
            emit(
                f'task "t{chunk}-{i}" {{\n    description "generated task {i}"\n'
                f'    run "cp src/{i}.txt {{out}}/{i}.txt"\n{needs}'
                f'    inputs "src/{i}.txt"\n    outputs "{{out}}/{i}.txt"\n    timeout "5m"\n}}\n'
            )
        # An entity group of 40 entities relating to earlier ones.
        emit(f'entities "e{chunk}" {{\n    needs "t{chunk}-49"\n    each {{\n')
        emit('        step "generate" "sh -c true {entity} {fields}"\n')
        emit('        step "integrate" "true {entity}" timeout="1m"\n        gate "verify"\n    }\n')
        emit('    wave-gate "verify"\n')
        for i in range(40):
            emit(f'    entity "n{i}" fields="id:u32,name:String,rank:u8"')
            if i > 0:
                rels = sorted({f"n{rng.randrange(i)}" for _ in range(rng.randint(1, 3))})
                emit(" {\n" + "".join(f'        relation "{r}"\n' for r in rels) + "    }\n")
            else:
                emit("\n")
        emit("}\n")
        # A milestone with 10 phases, some in parallel.
        emit(f'milestone "m{chunk}" {{\n    needs "e{chunk}"\n')
        for i in range(10):
            dep = ""
            if i > 1 and rng.random() < 0.5:
                dep = f' depends-on="p{rng.randrange(i)}"'
            emit(f'    phase "p{i}"{dep} {{\n        run "true {{phase}}"\n        pool "db"\n    }}\n')
        emit("}\n")
        chunk += 1
    emit('target "all" {\n    needs ' + " ".join(f'"m{c}"' for c in range(chunk)) + "\n}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
