//! Which ready task starts first: the one with the longest remaining path
//! to the end of the build (the critical path), so long chains are not left
//! for last while short side branches fill the slots.
//!
//! With no recorded durations yet, a task weighs the number of commands and
//! checks it runs (a target with none weighs nothing). Ties go to the task
//! declared first, which keeps runs reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::plan::{Dependents, Plan, PlanTask, TaskId};

/// How much work a task is, for path lengths.
fn weight(task: &PlanTask) -> u64 {
    let checks = task.gate.as_ref().map_or(0, |g| g.checks.len());
    (task.commands.len() + checks) as u64
}

/// For every task, its weight plus the heaviest path through what depends on
/// it, indexed by [`TaskId`].
pub(crate) fn longest_path_to_end(plan: &Plan, dependents: &Dependents) -> Vec<u64> {
    // `plan.tasks` is topological, so walking it backwards sees every
    // dependent before the tasks it needs.
    let mut length = vec![0u64; plan.tasks.len()];
    for task in plan.tasks.iter().rev() {
        let longest_after = dependents
            .get(task.id)
            .iter()
            .map(|d| length[d.index()])
            .max()
            .unwrap_or(0);
        length[task.id.index()] = weight(task) + longest_after;
    }
    length
}

/// Ready tasks, highest priority first.
#[derive(Debug)]
pub(crate) struct ReadyQueue {
    priority: Vec<u64>,
    heap: BinaryHeap<(u64, Reverse<TaskId>)>,
}

impl ReadyQueue {
    pub(crate) fn new(priority: Vec<u64>) -> Self {
        Self {
            priority,
            heap: BinaryHeap::new(),
        }
    }

    pub(crate) fn push(&mut self, task: TaskId) {
        self.heap.push((self.priority[task.index()], Reverse(task)));
    }

    pub(crate) fn pop(&mut self) -> Option<TaskId> {
        self.heap.pop().map(|(_, Reverse(task))| task)
    }
}
