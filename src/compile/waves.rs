//! The last pass: waves and the plan's order. A task's wave is 1 + the
//! highest wave among what it needs. The plan lists tasks by wave, ties in
//! file order, which is a topological order because every need sits in a
//! lower wave; ids are positions in that list.

use super::graph::Draft;
use crate::model::Model;
use crate::plan::{Plan, PlanTask, Skipped, TaskId};

/// Builds the plan from the selected drafts (whose needs are all selected).
pub(super) fn finish(
    model: &Model,
    drafts: Vec<Draft>,
    selected: &[bool],
    skipped: Vec<Skipped>,
) -> Plan {
    // Needs point at lower indices: one pass in index order.
    let mut waves = vec![0u32; drafts.len()];
    for (i, draft) in drafts.iter().enumerate() {
        if selected[i] {
            waves[i] = 1 + draft.needs.iter().map(|&n| waves[n]).max().unwrap_or(0);
        }
    }
    let mut order: Vec<usize> = (0..drafts.len()).filter(|&i| selected[i]).collect();
    order.sort_unstable_by_key(|&i| (waves[i], drafts[i].item_offset, i));
    let mut ids = vec![TaskId(u32::MAX); drafts.len()];
    for (position, &i) in order.iter().enumerate() {
        ids[i] = TaskId(u32::try_from(position).expect("fewer than 2^32 tasks"));
    }
    let mut placed: Vec<Option<PlanTask>> = vec![None; order.len()];
    for (i, draft) in drafts.into_iter().enumerate() {
        if !selected[i] {
            continue;
        }
        let mut task = draft.task;
        task.id = ids[i];
        task.wave = waves[i];
        task.needs = draft.needs.iter().map(|&n| ids[n]).collect();
        task.needs.sort_unstable();
        task.needs.dedup();
        let at = task.id.index();
        placed[at] = Some(task);
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
        tasks: placed.into_iter().flatten().collect(),
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{plan, wave_of};

    #[test]
    fn wave_is_one_more_than_the_highest_need() {
        let p = plan(
            r#"project "p" { shell "bash" "-c"; }
            pool "db" depth=2
            task "a" { run "x"; }
            task "b" { run "x"; needs "a"; }
            task "c" { run "x"; needs "a" "b"; }
            task "d" { run "x"; }"#,
            &[],
        );
        assert_eq!(
            [wave_of(&p, "a"), wave_of(&p, "b"), wave_of(&p, "c")],
            [1, 2, 3]
        );
        assert_eq!(wave_of(&p, "d"), 1);
        assert_eq!(p.wave_count(), 3);
        for task in &p.tasks {
            assert_eq!(p.task(task.id).address, task.address);
            assert!(task.needs.iter().all(|n| p.task(*n).wave < task.wave));
        }
        assert_eq!(p.shell, ["bash", "-c"]);
        assert_eq!(p.pools, [("db".to_owned(), 2)]);
    }
}
