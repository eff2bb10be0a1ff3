//! The draft graph the lowering builds: every task of the whole model with
//! its dependencies as indices, before selection, `--skip` and waves.
//!
//! Invariant: a task is pushed only after everything it needs, so every
//! index in `needs` is lower than the task's own. The draft order is
//! therefore a topological order, which lets selection, skipping and waves
//! each run in one linear pass with no recursion.

use std::collections::HashMap;
use std::ops::Range;

use crate::plan::PlanTask;

/// One lowered task and what the later passes need to know about it.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    /// Every plan field but `id`, `needs` and `wave`, which are set last.
    pub(super) task: PlanTask,
    /// Indices of the drafts this one needs (may hold duplicates).
    pub(super) needs: Vec<usize>,
    /// The name `--skip` matches besides the address: a stage, step or
    /// phase name, a gate's name, a task's or target's name.
    pub(super) name: String,
    /// For a gate attached to an owner: the owner, skipped along with it.
    pub(super) owner: Option<usize>,
    /// Byte offset of the top-level item it came from: ties in the plan's
    /// order follow the file.
    pub(super) item_offset: usize,
}

/// A contiguous range of drafts (an item, a phase, an entity) and the tasks
/// that finish it: what "needs X" waits for.
#[derive(Debug, Clone, Default)]
pub(super) struct Part {
    pub(super) tasks: Range<usize>,
    /// The sinks. For a part with no tasks of its own these are whatever
    /// it needed, so needing it still waits for that.
    pub(super) ends: Vec<usize>,
}

#[derive(Debug, Default)]
pub(super) struct Graph {
    pub(super) drafts: Vec<Draft>,
    addresses: HashMap<String, usize>,
    /// The first address pushed twice, if any.
    pub(super) collision: Option<String>,
    /// Offset of the item being lowered, stamped on each pushed draft.
    pub(super) item_offset: usize,
}

impl Graph {
    /// Adds a task that needs `needs` (all already pushed) and returns its index.
    pub(super) fn push(&mut self, task: PlanTask, name: &str, needs: Vec<usize>) -> usize {
        let index = self.drafts.len();
        debug_assert!(needs.iter().all(|&n| n < index), "needs must come first");
        if self.addresses.insert(task.address.clone(), index).is_some() {
            self.collision.get_or_insert_with(|| task.address.clone());
        }
        self.drafts.push(Draft {
            task,
            needs,
            name: name.to_owned(),
            owner: None,
            item_offset: self.item_offset,
        });
        index
    }

    /// The task with this address, if any.
    pub(super) fn find(&self, address: &str) -> Option<usize> {
        self.addresses.get(address).copied()
    }

    /// The index of the next task to be pushed.
    pub(super) fn next(&self) -> usize {
        self.drafts.len()
    }
}
