//! Selection: the tasks the given addresses name and everything they need.
//!
//! An address selects every task lowered from it (a milestone's stages,
//! phases and gates; an entity's steps and gate; a task and its gate…).
//! With no address, the project's `default`; without one, everything: every
//! task, entity group, milestone and target, and every gate that no owner
//! uses (a gate that is used runs as part of its owners).

use std::collections::HashSet;

use super::SelectionError;
use super::lower::Lowered;
use crate::model::{Address, AddressError, Model, PipelineItem};
use crate::words::suggest;

/// Marks the selected drafts.
pub(super) fn select(
    model: &Model,
    lowered: &Lowered,
    addresses: &[String],
) -> Result<Vec<bool>, SelectionError> {
    let mut roots = Vec::new();
    if addresses.is_empty() {
        match &model.config().project.default {
            Some(default) => roots.extend(resolve(model, lowered, default)?),
            None => roots.extend(everything(model, lowered)),
        }
    } else {
        for address in addresses {
            roots.extend(resolve(model, lowered, address)?);
        }
    }
    Ok(closure(lowered, roots))
}

/// Every part of the file and what it needs.
pub(super) fn all(model: &Model, lowered: &Lowered) -> Vec<bool> {
    closure(lowered, everything(model, lowered))
}

/// The drafts lowered from `address`: what the model resolves it to, or
/// else the task of the plan with exactly that address (a stage, a gate
/// task, a wave gate) with the gate attached to it.
fn resolve(model: &Model, lowered: &Lowered, address: &str) -> Result<Vec<usize>, SelectionError> {
    let resolved = match model.resolve(address) {
        Ok(resolved) => resolved,
        Err(error) => {
            let graph = &lowered.graph;
            if let Some(task) = graph.find(address) {
                let owned = (0..graph.len()).filter(|&i| graph.drafts[i].owner == Some(task));
                return Ok(std::iter::once(task.index()).chain(owned).collect());
            }
            return Err(unknown(lowered, address, error));
        }
    };
    let part = match resolved {
        Address::Item(item) => Some(lowered.item(item)),
        Address::Phase { milestone, phase } => lowered.phases[milestone].get(phase),
        Address::Entity { group, entity } => lowered.entities[group].get(entity),
        Address::Step {
            group,
            entity,
            step,
        } => {
            let part = lowered.entities[group].get(entity);
            return Ok(part.map(|p| p.tasks.start + step).into_iter().collect());
        }
        Address::RuleTask { rule, file } => {
            return Ok(vec![lowered.rules[rule].tasks.start + file]);
        }
    };
    Ok(part.map(|p| p.tasks.clone().collect()).unwrap_or_default())
}

/// The model's complaint, unless a task address is a nearer miss (the
/// model knows nothing of stages and gate tasks).
fn unknown(lowered: &Lowered, address: &str, error: AddressError) -> SelectionError {
    let tasks = lowered.graph.tasks.iter().map(|t| t.address.as_str());
    let error = match suggest(address, tasks) {
        Some(task) if error.suggestion.is_none() => AddressError {
            what: "address",
            name: address.to_owned(),
            offset: 0,
            suggestion: Some(task),
            hint: None,
        },
        _ => error,
    };
    SelectionError::UnknownAddress {
        address: address.to_owned(),
        error,
    }
}

/// Every item's drafts, except gates some owner uses.
fn everything(model: &Model, lowered: &Lowered) -> Vec<usize> {
    let used = used_gates(model);
    let c = model.config();
    let unused_gates = (0..c.gates.len()).filter(|&i| !used.contains(c.gates[i].name.as_str()));
    let parts = lowered
        .tasks
        .iter()
        .chain(&lowered.groups)
        .chain(&lowered.rules)
        .chain(&lowered.milestones)
        .chain(&lowered.targets)
        .chain(unused_gates.map(|i| &lowered.gates[i]));
    parts.flat_map(|p| p.tasks.clone()).collect()
}

/// Names of the gates an owner runs.
fn used_gates(model: &Model) -> HashSet<&str> {
    let c = model.config();
    let bodies = c.tasks.iter().map(|t| &t.body).chain(
        c.milestones
            .iter()
            .flat_map(|m| m.phases.iter().map(|p| &p.body)),
    );
    let mut used: HashSet<&str> = bodies
        .filter_map(|b| b.gate.as_deref().map(String::as_str))
        .collect();
    for group in &c.entity_groups {
        used.extend(group.each_gate.as_deref().map(String::as_str));
        used.extend(group.wave_gate.as_deref().map(String::as_str));
    }
    used.extend(
        c.targets
            .iter()
            .filter_map(|t| t.gate.as_deref().map(String::as_str)),
    );
    // A `phase-gate` runs after each phase, not on its own.
    used.extend(
        (c.milestones.iter().filter_map(|m| m.phase_gate.as_deref()))
            .chain(c.pipelines.iter().filter_map(|p| p.phase_gate.as_deref()))
            .map(String::as_str),
    );
    for item in c.pipelines.iter().flat_map(|p| &p.items) {
        match item {
            PipelineItem::Stage(stage) => {
                used.extend(stage.body.gate.as_deref().map(String::as_str));
            }
            PipelineItem::Gate(gate) => {
                used.insert(gate.as_str());
            }
            PipelineItem::Phases(_) => {}
        }
    }
    used
}

/// `roots` and everything they need, transitively. Needs point at lower
/// indices, so one pass from the end marks the whole closure.
fn closure(lowered: &Lowered, roots: Vec<usize>) -> Vec<bool> {
    let tasks = &lowered.graph.tasks;
    let mut selected = vec![false; tasks.len()];
    for root in roots {
        if let Some(slot) = selected.get_mut(root) {
            *slot = true;
        }
    }
    for i in (0..tasks.len()).rev() {
        if selected[i] {
            for n in &tasks[i].needs {
                selected[n.index()] = true;
            }
        }
    }
    selected
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, plan, try_plan};

    const KDL: &str = r#"
        gate "lint" { check "l" "true" }
        gate "unused" { check "u" "true" }
        task "a" { run "x"; gate "lint"; }
        task "b" { run "y"; needs "a"; }
        task "c" { run "z"; }
        milestone "M" { needs "b"; phase "one" { run "1"; }; phase "two" { run "2"; }; }
    "#;

    #[test]
    fn an_address_brings_what_it_needs() {
        assert_eq!(addresses(&plan(KDL, &["b"])), ["a", "a/lint", "b"]);
        assert_eq!(
            addresses(&plan(KDL, &["M/one"])),
            ["a", "a/lint", "b", "M/one"]
        );
        assert_eq!(addresses(&plan(KDL, &["c", "a"])), ["a", "a/lint", "c"]);
    }

    #[test]
    fn any_task_address_selects_that_task_and_its_gate() {
        let kdl = r#"
            gate "g" { check "c" "true"; }
            pipeline "full" { stage "design" "d" { gate "g"; }; phases; }
            milestone "M" complexity="full" { phase "one" { run "1"; } }
        "#;
        assert_eq!(
            addresses(&plan(kdl, &["M/design"])),
            ["M/design", "M/design/g"]
        );
        assert_eq!(
            addresses(&plan(kdl, &["M/design/g"])),
            ["M/design", "M/design/g"]
        );
        let err = try_plan(kdl, &["M/desing"], None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown address `M/desing`: did you mean `M/design`?"
        );
    }

    #[test]
    fn nothing_named_means_the_default_or_everything_but_used_gates() {
        let all = addresses(&plan(KDL, &[]));
        assert!(all.contains(&"unused".to_owned()));
        assert!(!all.contains(&"lint".to_owned()));
        assert_eq!(all.len(), 7);
        let with_default = format!("project \"p\" {{ default \"c\"; }} {KDL}");
        assert_eq!(addresses(&plan(&with_default, &[])), ["c"]);
    }

    #[test]
    fn unknown_addresses_suggest_a_near_miss() {
        let err = try_plan(KDL, &["M/on"], None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown phase `on` in address `M/on`: did you mean `M/one`?"
        );
        let err = try_plan(KDL, &["lnt"], None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown address `lnt`: did you mean `lint`?"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
