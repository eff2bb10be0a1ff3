//! The last pass: ids and waves. A task's wave is 1 + the highest wave
//! among what it needs. The drafts are already in the plan's order
//! (topological, ties in declaration order: see `graph.rs`), so the plan
//! is the selected drafts, renumbered in place in the vector lowering
//! filled; a large plan is neither sorted nor copied.

use super::graph::{Graph, id};
use crate::model::Model;
use crate::plan::matched_digest;
use crate::plan::{Plan, Skipped, TaskId};

/// Builds the plan from the selected drafts (whose needs are all selected).
pub(super) fn finish(
    model: &Model,
    graph: Graph<'_>,
    selected: &[bool],
    skipped: Vec<Skipped>,
    dotenv: Vec<Vec<String>>,
) -> Plan {
    let mut tasks = graph.tasks;
    let mut ids = vec![TaskId(u32::MAX); tasks.len()];
    let mut next = 0;
    for (i, task) in tasks.iter_mut().enumerate() {
        if !selected[i] {
            continue;
        }
        ids[i] = id(next);
        next += 1;
        for need in &mut task.needs {
            *need = ids[need.index()];
        }
        task.needs.sort_unstable();
        task.needs.dedup();
        task.id = ids[i];
    }
    let mut kept = selected.iter();
    tasks.retain(|_| kept.next().copied().unwrap_or(false));
    // Needs come first, so each wave is ready when it is needed.
    for i in 0..tasks.len() {
        let highest = tasks[i].needs.iter().map(|n| tasks[n.index()].wave).max();
        tasks[i].wave = 1 + highest.unwrap_or(0);
    }
    let c = model.config();
    Plan {
        project: model.project_name().to_owned(),
        shell: c
            .project
            .shell
            .as_ref()
            .map_or_else(|| vec!["sh".into(), "-c".into()], |s| s.value.clone()),
        pools: c
            .pools
            .iter()
            .map(|p| (p.name.value.clone(), p.depth.value))
            .collect(),
        jobs: c.project.jobs.as_ref().map(|j| j.value),
        secrets: c.project.secrets.iter().map(|s| s.value.clone()).collect(),
        lock_timeout: c.project.lock_timeout.as_ref().map(|t| t.value),
        cache_size: c.project.cache_size.as_ref().map(|s| s.value),
        cache_url: c.project.cache_url.as_ref().map(|u| u.value.clone()),
        dotenv,
        tasks,
        skipped,
        foreach: c
            .rules
            .iter()
            .flat_map(|r| &r.foreach)
            .map(|f| (f.pattern.value.clone(), matched_digest(&f.matched)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, plan, wave_of};

    #[test]
    fn wave_is_one_more_than_the_highest_need() {
        let p = plan(
            r#"project "p" { shell "bash" "-c"; }
            pool "db" depth=2
            task "c" { run "x"; needs "a" "b"; }
            task "a" { run "x"; }
            task "b" { run "x"; needs "a"; }
            task "d" { run "x"; }"#,
            &[],
        );
        assert_eq!(
            [wave_of(&p, "a"), wave_of(&p, "b"), wave_of(&p, "c")],
            [1, 2, 3]
        );
        assert_eq!(wave_of(&p, "d"), 1);
        assert_eq!(p.wave_count(), 3);
        // Needs first, ties in file order.
        assert_eq!(addresses(&p), ["a", "b", "c", "d"]);
        for task in &p.tasks {
            assert_eq!(p.task(task.id).address, task.address);
            assert!(task.needs.iter().all(|n| *n < task.id));
        }
        assert_eq!(p.shell, ["bash", "-c"]);
        assert_eq!(p.pools, [("db".to_owned(), 2)]);
    }
}
