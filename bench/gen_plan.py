#!/usr/bin/env python3
"""Generate a large orchestra.kdl for timing `orchestra plan`.

    python3 bench/gen_plan.py 100000 > /tmp/big.kdl
    ORCHESTRA_TIMINGS=1 target/release/orchestra -f /tmp/big.kdl plan --format json > /dev/null

The file lowers to about TASKS tasks: a fifth plain tasks with `needs` and
gates, two fifths entities (groups of 500 with relations, two steps, an
`each` gate and a wave gate), two fifths milestones (full pipeline: design,
five phases with `depends-on`, a gate, review), and a few targets. The
output is deterministic for a given TASKS and --seed.
"""

import argparse
import random


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", type=int, help="roughly how many plan tasks")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = []
    w = out.append

    w('project "bench" {\n    complexity "full"\n    env MODE="bench"\n}\n')
    w('pool "db" depth=2\n')
    w('vars {\n    crate "bench"\n}\n')
    w('gate "verify" retries=1 {\n    check "build" "true"\n    check "test" "true {task}"\n}\n')
    w('pipeline "quick" {\n    phases\n}\n')
    w('pipeline "full" {\n    stage "design" "echo design {milestone}"\n    phases\n'
      '    gate "verify"\n    stage "review" "echo review {milestone}"\n}\n')

    # Plain tasks: one or two tasks each (a gate on every fourth).
    plain = args.tasks // 5 * 4 // 5
    for i in range(plain):
        needs = sorted({rng.randrange(i) for _ in range(rng.randint(0, 3))}) if i else []
        w(f'task "t{i}" {{\n    run "echo {{task}} {{crate}}"\n')
        w(f'    inputs "src/t{i}/**"\n')
        if needs:
            w('    needs ' + " ".join(f'"t{n}"' for n in needs) + "\n")
        if i % 4 == 0:
            w('    gate "verify"\n')
        w("}\n")

    # Entity groups of 500: three tasks per entity plus a gate per wave.
    entities = args.tasks * 2 // 5 // 3
    group_size = 500
    for g in range((entities + group_size - 1) // group_size):
        size = min(group_size, entities - g * group_size)
        w(f'entities "models-{g}" {{\n')
        if plain:
            w(f'    needs "t{rng.randrange(plain)}"\n')
        w('    each {\n        step "generate" "echo gen {entity} {fields}"\n'
          '        step "integrate" "echo wire {entity}"\n        gate "verify"\n    }\n')
        w('    wave-gate "verify"\n')
        for e in range(size):
            relations = sorted({rng.randrange(max(0, e - 50), e) for _ in range(rng.randint(0, 2))}) if e else []
            fields = f' fields="id:u64,n{e}:String"' if e % 3 else ""
            if relations:
                w(f'    entity "e{e}"{fields} {{\n')
                w('        relation ' + " ".join(f'"e{r}"' for r in relations) + "\n    }\n")
            else:
                w(f'    entity "e{e}"{fields}\n')
        w("}\n")
    groups = (entities + group_size - 1) // group_size

    # Milestones through the full pipeline: 4 + 5 phases = 9 tasks each.
    milestones = args.tasks * 2 // 5 // 9
    for m in range(milestones):
        w(f'milestone "m{m}" {{\n')
        needs = []
        if m:
            needs.append(f"m{rng.randrange(max(0, m - 20), m)}")
        if groups and m % 10 == 0:
            needs.append(f"models-{rng.randrange(groups)}")
        if needs:
            w("    needs " + " ".join(f'"{n}"' for n in needs) + "\n")
        for p in range(5):
            w(f'    phase "p{p}" {{\n        run "echo {{milestone}} {{phase}}"\n')
            if p >= 2:
                deps = sorted({rng.randrange(p) for _ in range(2)})
                w("        depends-on " + " ".join(f'"p{d}"' for d in deps) + "\n")
            if p == 4:
                w('        pool "db"\n')
            w("    }\n")
        w("}\n")

    step = max(1, milestones // 10)
    targets = [f"m{m}" for m in range(0, milestones, step)]
    w('target "all" {\n    needs ' + " ".join(f'"{t}"' for t in targets or ["t0"]) + '\n    gate "verify"\n}\n')
    print("".join(out), end="")


if __name__ == "__main__":
    main()
