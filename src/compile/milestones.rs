//! Lowering a milestone through its pipeline: the pipeline named by
//! `--complexity`, else the milestone's `complexity`, else the project's,
//! else bare phases. Items run in order; `phases` expands to the milestone's
//! phases; the milestone's `needs` apply to its first items.
//!
//! Phases follow the previous phase, or with `depends-on` only the phases
//! named (a bare `depends-on`: none, they start with the milestone). The
//! item after `phases` needs every phase that no other phase waits for.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::Part;
use super::lower::Lowering;
use super::templates::{Origin, Scope};
use crate::model::{Milestone, PipelineItem, Spanned};
use crate::plan::{Group, TaskId, TaskKind};

impl<'m> Lowering<'m> {
    /// Lowers milestone `m`; returns its ends.
    pub(super) fn milestone(&mut self, m: usize) -> Vec<TaskId> {
        let model = self.model;
        let milestone = &model.config().milestones[m];
        let pipeline = self.pipeline.or_else(|| model.pipeline_of(milestone));
        let cluster = Group::Milestone(milestone.name.value.clone());
        // What the next item waits for: first the milestone's needs.
        let mut entry = self.needs(&milestone.needs);
        let Some(pipeline) = pipeline else {
            return self.phases(m, milestone, None, &cluster, entry);
        };
        // Validation checked each milestone against its own pipeline; a
        // `--complexity` pipeline may still name a stage or gate like a phase.
        let clash = milestone.phases.iter().find(|p| {
            pipeline
                .items
                .iter()
                .any(|i| item_name(i) == Some(p.name.as_str()))
        });
        if let Some(phase) = clash {
            let address = format!("{}/{}", milestone.name.value, phase.name.value);
            self.out.graph.collision.get_or_insert(address);
        }
        for item in &pipeline.items {
            match item {
                PipelineItem::Stage(stage) => {
                    let address = format!("{}/{}", milestone.name.value, stage.name.value);
                    let origin = Origin {
                        scope: Scope {
                            milestone: Some(&milestone.name.value),
                            ..Scope::default()
                        },
                        address,
                        kind: TaskKind::Stage,
                        group: Some(cluster.clone()),
                        declared: stage.span,
                    };
                    let task = self.vars.body_task(origin, &stage.body);
                    let index = self.out.graph.push(task, &stage.name.value, entry);
                    entry = vec![self.owned_gate(
                        index,
                        stage.body.gate.as_ref(),
                        Some(cluster.clone()),
                    )];
                }
                PipelineItem::Gate(name) => {
                    if let Some(gate) = model.gate(name) {
                        let address = format!("{}/{}", milestone.name.value, gate.name.value);
                        let group = Some(cluster.clone());
                        entry = vec![self.gate(address, gate, TaskKind::Gate, group, entry)];
                    }
                }
                PipelineItem::Phases(_) => {
                    let gate = pipeline.phase_gate.as_ref();
                    entry = self.phases(m, milestone, gate, &cluster, entry);
                }
            }
        }
        entry
    }

    /// The milestone's phases; returns the ends of those no phase waits for
    /// (or `entry` itself when there are no phases). A phase with no gate
    /// of its own gets the milestone's `phase-gate`, else the pipeline's.
    fn phases(
        &mut self,
        m: usize,
        milestone: &'m Milestone,
        pipeline_gate: Option<&'m Spanned<String>>,
        cluster: &Group,
        entry: Vec<TaskId>,
    ) -> Vec<TaskId> {
        let phases = &milestone.phases;
        if phases.is_empty() {
            return entry;
        }
        // Phases are few: a scan beats building a map per milestone.
        let position = |name: &str| phases.iter().position(|p| p.name.as_str() == name);
        let waits: Vec<Wait> = phases
            .iter()
            .enumerate()
            .map(|(i, phase)| match &phase.depends_on {
                None if i == 0 => Wait::Entry,
                None => Wait::Phase(i - 1),
                Some(names) if names.is_empty() => Wait::Entry,
                Some(names) => Wait::Phases(names.iter().filter_map(|n| position(n)).collect()),
            })
            .collect();
        let mut parts = vec![Part::default(); phases.len()];
        for p in phase_order(&waits) {
            let phase = &phases[p];
            let needs = match &waits[p] {
                Wait::Entry => entry.clone(),
                Wait::Phase(q) => parts[*q].ends.clone(),
                Wait::Phases(list) => list
                    .iter()
                    .flat_map(|&q| parts[q].ends.iter().copied())
                    .collect(),
            };
            let address = format!("{}/{}", milestone.name.value, phase.name.value);
            let origin = Origin {
                scope: Scope {
                    milestone: Some(&milestone.name.value),
                    phase: Some(&phase.name.value),
                    ..Scope::default()
                },
                address,
                kind: TaskKind::Phase,
                group: Some(cluster.clone()),
                declared: phase.span,
            };
            let first = self.out.graph.len();
            let task = self.vars.body_task(origin, &phase.body);
            let index = self.out.graph.push(task, &phase.name.value, needs);
            let gate = (phase.body.gate.as_ref())
                .or(milestone.phase_gate.as_ref())
                .or(pipeline_gate);
            let end = self.owned_gate(index, gate, Some(cluster.clone()));
            parts[p] = Part {
                tasks: first..self.out.graph.len(),
                ends: vec![end],
            };
        }
        let mut awaited = vec![false; phases.len()];
        waits
            .iter()
            .flat_map(Wait::phases)
            .for_each(|&q| awaited[q] = true);
        let ends = (0..phases.len())
            .filter(|&p| !awaited[p])
            .flat_map(|p| parts[p].ends.iter().copied())
            .collect();
        self.out.phases[m] = parts;
        ends
    }
}

/// The name a pipeline item gives its task (`milestone/name`).
fn item_name(item: &PipelineItem) -> Option<&str> {
    match item {
        PipelineItem::Stage(stage) => Some(stage.name.as_str()),
        PipelineItem::Gate(gate) => Some(gate.as_str()),
        PipelineItem::Phases(_) => None,
    }
}

/// What a phase waits for.
enum Wait {
    /// What the milestone's phases start after.
    Entry,
    /// The previous phase (no `depends-on`).
    Phase(usize),
    /// The phases its `depends-on` names.
    Phases(Vec<usize>),
}

impl Wait {
    fn phases(&self) -> &[usize] {
        match self {
            Self::Entry => &[],
            Self::Phase(q) => std::slice::from_ref(q),
            Self::Phases(list) => list,
        }
    }
}

/// Phases in an order where each comes after those it waits for, ties in
/// declaration order. Usually that is declaration order itself; when a
/// `depends-on` names a later phase, Kahn's algorithm with a min-heap.
fn phase_order(waits: &[Wait]) -> Vec<usize> {
    let backwards = waits
        .iter()
        .enumerate()
        .all(|(p, w)| w.phases().iter().all(|&q| q < p));
    if backwards {
        return (0..waits.len()).collect();
    }
    let mut pending: Vec<usize> = waits.iter().map(|w| w.phases().len()).collect();
    let mut waiters: Vec<Vec<usize>> = vec![Vec::new(); waits.len()];
    for (p, w) in waits.iter().enumerate() {
        for &q in w.phases() {
            waiters[q].push(p);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..waits.len())
        .filter(|&p| pending[p] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(waits.len());
    while let Some(Reverse(q)) = ready.pop() {
        order.push(q);
        for &p in &waiters[q] {
            pending[p] -= 1;
            if pending[p] == 0 {
                ready.push(Reverse(p));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, needs_of, plan};

    const PIPELINES: &str = r#"
        project "p" { complexity "standard"; }
        gate "verify" { check "t" "true" }
        pipeline "quick" { phases; }
        pipeline "standard" { phases; gate "verify"; }
        pipeline "full" {
            stage "design" "design {milestone}"
            phases
            gate "verify"
            stage "review" "review {milestone}" { gate "verify"; }
        }
        task "setup" { run "true" }
    "#;

    #[test]
    fn full_pipeline_wraps_the_phases() {
        let p = plan(
            &format!(
                r#"{PIPELINES}
                milestone "M" complexity="full" {{
                    needs "setup"
                    phase "schema" {{ run "schema {{phase}} in {{milestone}}"; }}
                    phase "endpoints" depends-on="schema" {{ run "x"; }}
                    phase "docs" depends-on="schema" {{ run "y"; }}
                }}"#
            ),
            &["M"],
        );
        assert_eq!(needs_of(&p, "M/design"), ["setup"]);
        assert_eq!(needs_of(&p, "M/schema"), ["M/design"]);
        assert_eq!(needs_of(&p, "M/endpoints"), ["M/schema"]);
        assert_eq!(needs_of(&p, "M/docs"), ["M/schema"]);
        assert_eq!(needs_of(&p, "M/verify"), ["M/docs", "M/endpoints"]);
        assert_eq!(needs_of(&p, "M/review"), ["M/verify"]);
        assert_eq!(needs_of(&p, "M/review/verify"), ["M/review"]);
        let schema = p.tasks.iter().find(|t| t.address == "M/schema").unwrap();
        assert_eq!(
            format!("{:?}", schema.commands),
            r#"[Shell("schema schema in M")]"#
        );
    }

    #[test]
    fn project_default_pipeline_and_override() {
        let kdl = format!(r#"{PIPELINES} milestone "M" {{ phase "a" {{ run "x"; }} }}"#);
        assert_eq!(addresses(&plan(&kdl, &["M"])), ["M/a", "M/verify"]);
        let quick = crate::compile::testing::plan_with(&kdl, &["M"], Some("quick"), &[]);
        assert_eq!(addresses(&quick), ["M/a"]);
    }

    #[test]
    fn no_pipeline_runs_bare_phases_in_order() {
        let p = plan(
            r#"milestone "M" {
                phase "a" { run "x"; }
                phase "b" { run "x"; }
                phase "c" { run "x"; depends-on; }
                phase "d" depends-on="e" { run "x"; }
                phase "e" { run "x"; depends-on; }
            }"#,
            &["M"],
        );
        assert_eq!(needs_of(&p, "M/a"), Vec::<String>::new());
        assert_eq!(needs_of(&p, "M/b"), ["M/a"]);
        assert!(needs_of(&p, "M/c").is_empty());
        // `d` names a later phase: lowered after it all the same.
        assert!(needs_of(&p, "M/e").is_empty());
        assert_eq!(needs_of(&p, "M/d"), ["M/e"]);
        assert_eq!(addresses(&p), ["M/a", "M/b", "M/c", "M/e", "M/d"]);
    }
}
