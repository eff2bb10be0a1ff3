//! The draft graph the lowering builds: every task of the whole model with
//! its dependencies, before selection, `--skip` and waves.
//!
//! Invariant: a task is pushed only after everything it needs, and the
//! top-level items are lowered in dependency order with ties in file order,
//! so the draft order is the plan's order: topological, ties in
//! declaration order. Selection, skipping and waves each run in one linear
//! pass with no recursion and no sorting.
//!
//! While compiling, a [`TaskId`] names a draft (its index here), both in
//! lowering and in `PlanTask::needs`; `waves::finish` renumbers them in
//! place once the selection is known.
//!
//! Lowering a 100k-task model is bound by allocation and by first touches
//! of fresh memory, so drafts borrow what they can from the model (`'m`),
//! nothing is indexed by address, and tasks live in the vector that
//! becomes [`Plan::tasks`](crate::plan::Plan::tasks).

use std::ops::Range;

use crate::plan::{PlanTask, TaskId};

/// What the later passes need to know about one lowered task, beside the
/// task itself (`Graph::tasks`, same index).
#[derive(Debug, Clone)]
pub(super) struct Draft<'m> {
    /// The name `--skip` matches besides the address: a stage, step or
    /// phase name, a gate's name, a task's or target's name.
    pub(super) name: &'m str,
    /// For a gate attached to an owner: the owner, skipped along with it.
    pub(super) owner: Option<TaskId>,
}

/// A contiguous range of drafts (an item, a phase, an entity) and the tasks
/// that finish it: what "needs X" waits for.
#[derive(Debug, Clone, Default)]
pub(super) struct Part {
    pub(super) tasks: Range<usize>,
    /// The sinks. For a part with no tasks of its own these are whatever
    /// it needed, so needing it still waits for that.
    pub(super) ends: Vec<TaskId>,
}

#[derive(Debug, Default)]
pub(super) struct Graph<'m> {
    /// Every plan field but `wave`; `id` and `needs` name drafts.
    pub(super) tasks: Vec<PlanTask>,
    pub(super) drafts: Vec<Draft<'m>>,
    /// An address that `--complexity` gave to two tasks, if any.
    pub(super) collision: Option<String>,
}

impl<'m> Graph<'m> {
    /// Adds a task that needs `needs` (all already pushed; duplicates are
    /// fine) and returns its id.
    pub(super) fn push(&mut self, mut task: PlanTask, name: &'m str, needs: Vec<TaskId>) -> TaskId {
        let id = self.next();
        debug_assert!(needs.iter().all(|&n| n < id), "needs must come first");
        task.id = id;
        task.needs = needs;
        self.tasks.push(task);
        self.drafts.push(Draft { name, owner: None });
        id
    }

    /// The task with this address, if any (a scan: only selection by a
    /// task address that the model does not know needs it).
    pub(super) fn find(&self, address: &str) -> Option<TaskId> {
        let index = self.tasks.iter().position(|t| t.address == address)?;
        Some(id(index))
    }

    /// Room for `count` drafts.
    pub(super) fn reserve(&mut self, count: usize) {
        self.tasks.reserve(count);
        self.drafts.reserve(count);
    }

    /// The id the next task pushed will get.
    pub(super) fn next(&self) -> TaskId {
        id(self.tasks.len())
    }

    pub(super) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(super) fn set_owner(&mut self, gate: TaskId, owner: TaskId) {
        self.drafts[gate.index()].owner = Some(owner);
    }
}

/// The id of the draft at `index`.
pub(super) fn id(index: usize) -> TaskId {
    TaskId(u32::try_from(index).expect("fewer than 2^32 tasks"))
}
