//! `orchestra plan --format dot`: the plan as a graphviz digraph.
//!
//! One cluster per milestone and per entity; gates are diamonds, wave gates
//! (barriers) octagons, targets double octagons, so checks stand out from
//! work. Edges point from a task to the tasks that need it, the way work
//! flows. Every node is declared before any edge, each on its own line.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Group, Plan, PlanTask, TaskKind};

pub(crate) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail, so results are ignored below.
    let _ = writeln!(out, "digraph {} {{", quoted(&plan.project));
    out.push_str("  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    // Clusters in the order their first task appears, their tasks in plan order.
    let mut clusters: BTreeMap<usize, (String, String, Vec<&PlanTask>)> = BTreeMap::new();
    let mut first_of: BTreeMap<String, usize> = BTreeMap::new();
    for task in &plan.tasks {
        match task.group.as_deref() {
            None => node(&mut out, "  ", task, &task.address),
            Some(group) => {
                let (id, label) = match group {
                    Group::Milestone(m) => (format!("cluster_milestone_{m}"), m.clone()),
                    Group::Entity {
                        group: g,
                        entity: e,
                        ..
                    } => (format!("cluster_entity_{g}/{e}"), format!("{g}/{e}")),
                };
                let at = *first_of.entry(id.clone()).or_insert(task.id.index());
                clusters
                    .entry(at)
                    .or_insert_with(|| (id, label, Vec::new()))
                    .2
                    .push(task);
            }
        }
    }
    for (id, label, tasks) in clusters.values() {
        let _ = writeln!(out, "  subgraph {} {{", quoted(id));
        let _ = writeln!(out, "    label={};", quoted(label));
        for task in tasks {
            let short = task
                .address
                .strip_prefix(label.as_str())
                .and_then(|s| s.strip_prefix('/'))
                .unwrap_or(&task.address);
            node(&mut out, "    ", task, short);
        }
        out.push_str("  }\n");
    }
    for task in &plan.tasks {
        for need in &task.needs {
            let from = &plan.task(*need).address;
            let _ = writeln!(out, "  {} -> {};", quoted(from), quoted(&task.address));
        }
    }
    out.push_str("}\n");
    out
}

fn node(out: &mut String, indent: &str, task: &PlanTask, label: &str) {
    let style = match task.kind {
        TaskKind::Gate => ", shape=diamond, style=filled, fillcolor=\"#fff3b0\"",
        TaskKind::WaveGate => ", shape=octagon, style=filled, fillcolor=\"#ffd6a5\"",
        TaskKind::Target => ", shape=doubleoctagon",
        _ => "",
    };
    let _ = writeln!(
        out,
        "{indent}{} [label={}{style}];",
        quoted(&task.address),
        quoted(label)
    );
}

/// A graphviz quoted ID: only `"` and `\` need escaping.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::plan;

    #[test]
    fn clusters_shapes_and_edges() {
        let p = plan(
            r#"project "demo"
            gate "verify" { check "t" "true"; }
            task "a" { run "x"; }
            entities { needs "a"; each { step "gen" "g"; gate "verify"; }; entity "e"; }
            milestone "M" { needs "entities"; phase "p" { run "y"; } }"#,
            &[],
        );
        insta::assert_snapshot!(super::render(&p), @r##"
        digraph "demo" {
          rankdir=LR;
          node [shape=box, fontname="Helvetica"];
          "a" [label="a"];
          subgraph "cluster_entity_entities/e" {
            label="entities/e";
            "entities/e/gen" [label="gen"];
            "entities/e/verify" [label="verify", shape=diamond, style=filled, fillcolor="#fff3b0"];
          }
          subgraph "cluster_milestone_M" {
            label="M";
            "M/p" [label="p"];
          }
          "a" -> "entities/e/gen";
          "entities/e/gen" -> "entities/e/verify";
          "entities/e/verify" -> "M/p";
        }
        "##);
    }
}
