//! `--skip NAME`: leaves stages, steps, phases, gates, checks or tasks out
//! of the selected plan, keeping the DAG connected.
//!
//! NAME matches a task by its address or by its own name (the stage, step,
//! phase or gate name: `--skip review` skips `review` in every milestone),
//! every task under an address (`--skip M1` a milestone, `--skip
//! entities/product` an entity, `--skip entities` a group), and a check by
//! its name (removed from every gate that has it). Skipping
//! a task skips the gate attached to it. Dependents of a skipped task need
//! what it needed instead. Each skip is recorded; a NAME that matches
//! nothing is an error, never silently ignored.

use std::collections::HashSet;

use super::SelectionError;
use super::graph::{Draft, Graph};
use crate::plan::{PlanTask, Skipped, TaskId};
use crate::words::suggest;

/// Removes what `names` match from `selected`, rewires the dependents and
/// drops skipped checks. Returns what was skipped.
pub(super) fn apply(
    graph: &mut Graph<'_>,
    selected: &mut [bool],
    names: &[String],
) -> Result<Vec<Skipped>, SelectionError> {
    let Graph { tasks, drafts, .. } = graph;
    let mut skipped = Vec::new();
    let mut removed = vec![false; drafts.len()];
    for name in names {
        let mut matched = false;
        let under = format!("{name}/");
        for i in 0..drafts.len() {
            let address = &tasks[i].address;
            let hit = *address == *name || drafts[i].name == *name || address.starts_with(&under);
            if selected[i] && !removed[i] && hit {
                removed[i] = true;
                matched = true;
                skipped.push(Skipped {
                    address: address.to_string(),
                    by: name.clone(),
                });
            }
        }
        // A gate goes with its owner (a target's gate comes before it, so
        // this is a second pass).
        for i in 0..drafts.len() {
            if selected[i] && !removed[i] && drafts[i].owner.is_some_and(|o| removed[o.index()]) {
                removed[i] = true;
                skipped.push(Skipped {
                    address: tasks[i].address.to_string(),
                    by: name.clone(),
                });
            }
        }
        for i in (0..drafts.len()).filter(|&i| selected[i] && !removed[i]) {
            let Some(gate) = tasks[i].gate.as_mut() else {
                continue;
            };
            let before = gate.checks.len();
            gate.checks.retain(|c| c.name != *name);
            if gate.checks.len() < before {
                matched = true;
                skipped.push(Skipped {
                    address: format!("{}/{name}", tasks[i].address),
                    by: name.clone(),
                });
            }
        }
        if !matched {
            return Err(SelectionError::UnknownSkip {
                name: name.clone(),
                suggestion: suggest(name, candidates(tasks, drafts, selected)),
            });
        }
    }
    rewire(tasks, selected, &removed);
    for (slot, gone) in selected.iter_mut().zip(&removed) {
        *slot &= !gone;
    }
    Ok(skipped)
}

/// Every name `--skip` would match in the selection, for suggestions.
fn candidates<'a>(tasks: &'a [PlanTask], drafts: &[Draft<'a>], selected: &[bool]) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    for i in (0..tasks.len()).filter(|&i| selected[i]) {
        seen.insert(drafts[i].name);
        seen.insert(tasks[i].address.as_str());
        for check in tasks[i].gate.iter().flat_map(|g| &g.checks) {
            seen.insert(check.name.as_str());
        }
    }
    let mut out: Vec<&str> = seen.into_iter().collect();
    out.sort_unstable();
    out
}

/// Replaces each need on a removed draft by that draft's own needs, through
/// any chain of removed drafts. Needs point at lower indices, so one pass
/// in index order has every removed draft's replacement ready when needed.
fn rewire(tasks: &mut [PlanTask], selected: &[bool], removed: &[bool]) {
    if !removed.contains(&true) {
        return;
    }
    let mut through: Vec<Vec<TaskId>> = vec![Vec::new(); tasks.len()];
    for i in 0..tasks.len() {
        let touched = removed[i] || tasks[i].needs.iter().any(|n| removed[n.index()]);
        if !selected[i] || !touched {
            continue;
        }
        let mut needs = Vec::with_capacity(tasks[i].needs.len());
        for &n in &tasks[i].needs {
            if removed[n.index()] {
                needs.extend_from_slice(&through[n.index()]);
            } else {
                needs.push(n);
            }
        }
        needs.sort_unstable();
        needs.dedup();
        if removed[i] {
            through[i] = needs;
        } else {
            tasks[i].needs = needs;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, needs_of, plan_with, try_plan};

    const KDL: &str = r#"
        gate "verify" { check "lint" "l"; check "test" "t"; }
        pipeline "full" {
            stage "design" "d"
            phases
            stage "review" "r" { gate "verify"; }
            stage "publish" "p"
        }
        milestone "M" complexity="full" {
            phase "a" { run "1"; }
            phase "b" { run "2"; }
        }
    "#;

    #[test]
    fn a_skipped_stage_and_its_gate_leave_the_chain_connected() {
        let p = plan_with(KDL, &["M"], None, &["review"]);
        assert_eq!(addresses(&p), ["M/design", "M/a", "M/b", "M/publish"]);
        assert_eq!(needs_of(&p, "M/publish"), ["M/b"]);
        let skipped: Vec<(&str, &str)> = p
            .skipped
            .iter()
            .map(|s| (s.address.as_str(), s.by.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [("M/review", "review"), ("M/review/verify", "review")]
        );
    }

    #[test]
    fn a_skipped_check_leaves_the_gate() {
        let p = plan_with(KDL, &["M"], None, &["lint"]);
        let gate = p
            .tasks
            .iter()
            .find(|t| t.address == "M/review/verify")
            .unwrap();
        let checks: Vec<&str> = gate
            .gate
            .as_ref()
            .unwrap()
            .checks
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(checks, ["test"]);
        assert_eq!(p.skipped[0].address, "M/review/verify/lint");
    }

    #[test]
    fn skipping_by_address_removes_one_task() {
        let p = plan_with(KDL, &["M"], None, &["M/a", "design"]);
        assert_eq!(needs_of(&p, "M/b"), Vec::<String>::new());
        assert_eq!(p.skipped.len(), 2);
    }

    #[test]
    fn a_skip_that_matches_nothing_is_an_error() {
        let err = try_plan(KDL, &["M"], None, &["reveiw"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`--skip reveiw` matches no stage, step, phase, gate, check or task of the selected plan: did you mean `review`?"
        );
    }
}
