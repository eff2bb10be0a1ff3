//! Test helpers: models and plans from KDL strings, and short accessors.

use super::{Selection, SelectionError, compile};
use crate::model::Model;
use crate::plan::Plan;
use crate::validate::{Options, validate};

/// A valid model from `kdl`; panics with the diagnostics otherwise.
pub(crate) fn model(kdl: &str) -> Model {
    let (config, mut diagnostics) = crate::config::load_str(kdl);
    let config = config.unwrap_or_else(|| panic!("syntax: {diagnostics:#?}"));
    let (model, more) = validate(
        config,
        kdl,
        "project",
        Options {
            check_programs: false,
        },
    );
    diagnostics.extend(more);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    model.expect("valid model")
}

pub(crate) fn try_plan(
    kdl: &str,
    addresses: &[&str],
    complexity: Option<&str>,
    skip: &[&str],
) -> Result<Plan, SelectionError> {
    let selection = Selection {
        addresses: addresses.iter().map(|&a| a.to_owned()).collect(),
        complexity: complexity.map(str::to_owned),
        skip: skip.iter().map(|&s| s.to_owned()).collect(),
        set: Vec::new(),
        everything: false,
        args: Vec::new(),
    };
    compile(&model(kdl), &selection)
}

pub(crate) fn plan_with(
    kdl: &str,
    addresses: &[&str],
    complexity: Option<&str>,
    skip: &[&str],
) -> Plan {
    try_plan(kdl, addresses, complexity, skip).expect("selection compiles")
}

pub(crate) fn plan(kdl: &str, addresses: &[&str]) -> Plan {
    plan_with(kdl, addresses, None, &[])
}

/// Every task's address, in plan order.
pub(crate) fn addresses(plan: &Plan) -> Vec<String> {
    plan.tasks.iter().map(|t| t.address.to_string()).collect()
}

/// The addresses a task needs, sorted.
pub(crate) fn needs_of(plan: &Plan, address: &str) -> Vec<String> {
    let task = find(plan, address);
    let mut needs: Vec<String> = task
        .needs
        .iter()
        .map(|n| plan.task(*n).address.to_string())
        .collect();
    needs.sort();
    needs
}

pub(crate) fn wave_of(plan: &Plan, address: &str) -> u32 {
    find(plan, address).wave
}

fn find<'p>(plan: &'p Plan, address: &str) -> &'p crate::plan::PlanTask {
    plan.tasks
        .iter()
        .find(|t| t.address == address)
        .unwrap_or_else(|| panic!("no task `{address}` in {:?}", addresses(plan)))
}
