//! Random valid configurations for the property tests: tasks with
//! `needs`, an entity group with relations (declared forwards or
//! backwards), milestones with phases, `depends-on` and pipelines, targets,
//! and gates on any of them, written out as `orchestra.kdl` text. Names are
//! chosen so no two parts collide (`t0`, `e1`, `m2/p0`, `g1`).

use std::collections::BTreeSet;
use std::fmt::Write;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Debug, Clone)]
pub(super) struct Spec {
    /// Per task: needs (earlier tasks), gated.
    pub(super) tasks: Vec<(Vec<Index>, bool)>,
    pub(super) group: Option<GroupSpec>,
    pub(super) milestones: Vec<MilestoneSpec>,
    /// Per target: needs (any task), gated.
    pub(super) targets: Vec<(Vec<Index>, bool)>,
    pub(super) project_full: bool,
}

#[derive(Debug, Clone)]
pub(super) struct GroupSpec {
    pub(super) steps: usize,
    pub(super) each_gate: bool,
    pub(super) wave_gate: bool,
    pub(super) needs: Vec<Index>,
    /// Per entity `e{j}`: relations to entities of lower index.
    pub(super) relations: Vec<Vec<Index>>,
    /// Declare the entities last first, so relations point forward.
    pub(super) reversed: bool,
}

#[derive(Debug, Clone)]
pub(super) struct MilestoneSpec {
    /// 0: none (the project's default), 1: quick, 2: full.
    pub(super) pipeline: usize,
    pub(super) needs_tasks: Vec<Index>,
    pub(super) needs_milestones: Vec<Index>,
    pub(super) needs_entities: bool,
    /// Per phase: 0 follows the previous, 1 bare `depends-on`, 2 the
    /// earlier phases listed; then gated.
    pub(super) phases: Vec<(usize, Vec<Index>, bool)>,
}

pub(super) fn spec() -> impl Strategy<Value = Spec> {
    let tasks = vec((vec(any::<Index>(), 0..3), any::<bool>()), 0..6);
    let group = proptest::option::of(
        (
            0..3usize,
            any::<bool>(),
            any::<bool>(),
            vec(any::<Index>(), 0..2),
            vec(vec(any::<Index>(), 0..3), 1..7),
            any::<bool>(),
        )
            .prop_map(
                |(steps, each_gate, wave_gate, needs, relations, reversed)| GroupSpec {
                    steps,
                    each_gate,
                    wave_gate,
                    needs,
                    relations,
                    reversed,
                },
            ),
    );
    let milestone = (
        0..3usize,
        vec(any::<Index>(), 0..2),
        vec(any::<Index>(), 0..2),
        any::<bool>(),
        vec((0..3usize, vec(any::<Index>(), 0..3), any::<bool>()), 0..5),
    )
        .prop_map(
            |(pipeline, needs_tasks, needs_milestones, needs_entities, phases)| MilestoneSpec {
                pipeline,
                needs_tasks,
                needs_milestones,
                needs_entities,
                phases,
            },
        );
    let targets = vec((vec(any::<Index>(), 0..3), any::<bool>()), 0..3);
    (tasks, group, vec(milestone, 0..4), targets, any::<bool>()).prop_map(
        |(tasks, group, milestones, targets, project_full)| Spec {
            tasks,
            group,
            milestones,
            targets,
            project_full,
        },
    )
}

/// Distinct picks among the first `n`, sorted.
pub(super) fn picks(indices: &[Index], n: usize) -> BTreeSet<usize> {
    if n == 0 {
        return BTreeSet::new();
    }
    indices.iter().map(|i| i.index(n)).collect()
}

fn quoted(names: impl IntoIterator<Item = String>) -> String {
    names.into_iter().fold(String::new(), |mut out, n| {
        let _ = write!(out, " \"{n}\"");
        out
    })
}

impl Spec {
    pub(super) fn kdl(&self) -> String {
        let mut k = String::new();
        let _ = writeln!(k, "project \"p\" {{");
        if self.project_full {
            let _ = writeln!(k, "    complexity \"full\"");
        }
        k.push_str(
            "}\ngate \"verify\" { check \"c0\" \"true\"; check \"c1\" \"true\"; }\n\
             pipeline \"quick\" { phases; }\n\
             pipeline \"full\" {\n  stage \"design\" \"d {milestone}\"\n  phases\n  gate \"verify\"\n  \
             stage \"review\" \"r\" { gate \"verify\"; }\n}\n",
        );
        self.tasks_kdl(&mut k);
        self.group_kdl(&mut k);
        self.milestones_kdl(&mut k);
        self.targets_kdl(&mut k);
        k
    }

    fn tasks_kdl(&self, k: &mut String) {
        for (i, (needs, gate)) in self.tasks.iter().enumerate() {
            let _ = write!(k, "task \"t{i}\" {{ run \"echo {{task}}\"; ");
            let needs = picks(needs, i);
            if !needs.is_empty() {
                let _ = write!(
                    k,
                    "needs{}; ",
                    quoted(needs.iter().map(|j| format!("t{j}")))
                );
            }
            if *gate {
                k.push_str("gate \"verify\"; ");
            }
            k.push_str("}\n");
        }
    }

    fn group_kdl(&self, k: &mut String) {
        if let Some(g) = &self.group {
            k.push_str("entities {\n");
            let needs = picks(&g.needs, self.tasks.len());
            if !needs.is_empty() {
                let _ = writeln!(
                    k,
                    "  needs{}",
                    quoted(needs.iter().map(|j| format!("t{j}")))
                );
            }
            if g.steps > 0 || g.each_gate {
                k.push_str("  each {\n");
                for s in 0..g.steps {
                    let _ = writeln!(k, "    step \"s{s}\" \"gen {{entity}} {{task}}\"");
                }
                if g.each_gate {
                    k.push_str("    gate \"verify\"\n");
                }
                k.push_str("  }\n");
            }
            if g.wave_gate {
                k.push_str("  wave-gate \"verify\"\n");
            }
            let mut order: Vec<usize> = (0..g.relations.len()).collect();
            if g.reversed {
                order.reverse();
            }
            for j in order {
                let relations = picks(&g.relations[j], j);
                let _ = write!(k, "  entity \"e{j}\"");
                if !relations.is_empty() {
                    let _ = write!(
                        k,
                        " {{ relation{}; }}",
                        quoted(relations.iter().map(|r| format!("e{r}")))
                    );
                }
                k.push('\n');
            }
            k.push_str("}\n");
        }
    }

    fn milestones_kdl(&self, k: &mut String) {
        for (m, ms) in self.milestones.iter().enumerate() {
            let _ = write!(k, "milestone \"m{m}\"");
            match ms.pipeline {
                1 => k.push_str(" complexity=\"quick\""),
                2 => k.push_str(" complexity=\"full\""),
                _ => {}
            }
            k.push_str(" {\n");
            let mut needs: Vec<String> = picks(&ms.needs_tasks, self.tasks.len())
                .iter()
                .map(|t| format!("t{t}"))
                .collect();
            needs.extend(
                picks(&ms.needs_milestones, m)
                    .iter()
                    .map(|x| format!("m{x}")),
            );
            if ms.needs_entities && self.group.is_some() {
                needs.push("entities".into());
            }
            if !needs.is_empty() {
                let _ = writeln!(k, "  needs{}", quoted(needs));
            }
            for (x, (mode, deps, gate)) in ms.phases.iter().enumerate() {
                let _ = write!(k, "  phase \"p{x}\" {{ run \"ph {{phase}}\"; ");
                let deps = picks(deps, x);
                match mode {
                    1 => k.push_str("depends-on; "),
                    2 if !deps.is_empty() => {
                        let _ = write!(
                            k,
                            "depends-on{}; ",
                            quoted(deps.iter().map(|d| format!("p{d}")))
                        );
                    }
                    _ => {}
                }
                if *gate {
                    k.push_str("gate \"verify\"; ");
                }
                k.push_str("}\n");
            }
            k.push_str("}\n");
        }
    }

    fn targets_kdl(&self, k: &mut String) {
        for (g, (needs, gate)) in self.targets.iter().enumerate() {
            let needs = picks(needs, self.tasks.len());
            let _ = write!(k, "target \"g{g}\" {{ ");
            if !needs.is_empty() {
                let _ = write!(
                    k,
                    "needs{}; ",
                    quoted(needs.iter().map(|t| format!("t{t}")))
                );
            }
            if *gate {
                k.push_str("gate \"verify\"; ");
            }
            k.push_str("}\n");
        }
    }

    pub(super) fn task_end(&self, t: usize) -> String {
        if self.tasks[t].1 {
            format!("t{t}/verify")
        } else {
            format!("t{t}")
        }
    }
}
