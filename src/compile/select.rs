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
use crate::model::{Address, Item, Model, PipelineItem};

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

/// The drafts lowered from `address`.
fn resolve(
    model: &Model,
    lowered: &Lowered,
    address: &str,
) -> Result<std::ops::Range<usize>, SelectionError> {
    let resolved = model
        .resolve(address)
        .map_err(|error| SelectionError::UnknownAddress {
            address: address.to_owned(),
            error,
        })?;
    let part = match resolved {
        Address::Item(item) => lowered.items.get(&item),
        Address::Phase { milestone, phase } => lowered.phases[milestone].get(phase),
        Address::Entity { group, entity } => lowered.entities[group].get(entity),
        Address::Step {
            group,
            entity,
            step,
        } => {
            let at = lowered.entities[group]
                .get(entity)
                .map_or(0, |p| p.tasks.start + step);
            return Ok(at..at + 1);
        }
    };
    Ok(part.map_or(0..0, |p| p.tasks.clone()))
}

/// Every item's drafts, except gates some owner uses.
fn everything(model: &Model, lowered: &Lowered) -> Vec<usize> {
    let used = used_gates(model);
    let mut roots = Vec::new();
    for (item, part) in &lowered.items {
        let skip = match item {
            Item::Gate(i) => used.contains(model.config().gates[*i].name.as_str()),
            _ => false,
        };
        if !skip {
            roots.extend(part.tasks.clone());
        }
    }
    roots
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
    let drafts = &lowered.graph.drafts;
    let mut selected = vec![false; drafts.len()];
    for root in roots {
        if let Some(slot) = selected.get_mut(root) {
            *slot = true;
        }
    }
    for i in (0..drafts.len()).rev() {
        if selected[i] {
            for &n in &drafts[i].needs {
                selected[n] = true;
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
        assert_eq!(addresses(&plan(KDL, &["c", "a"])), ["a", "c", "a/lint"]);
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
