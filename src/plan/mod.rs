//! The immutable execution plan: a DAG of tasks with waves.
//!
//! `crate::compile` lowers a validated [`crate::model::Model`] into a
//! [`Plan`]; `crate::run` executes one. Everything here is plain data after
//! templating: no `{name}` is left, every default is applied, every
//! dependency is a [`TaskId`]. Nothing here imports `kdl`.
//!
//! The renderings live beside it, each a pure function of the plan:
//! `text.rs` (waves for people), `json.rs` (the versioned schema in
//! `docs/plan-json.md`) and `dot.rs` (graphviz).

pub mod describe;
pub mod dot;
pub mod json;
pub mod source;
pub mod text;

use std::time::Duration;

pub mod cache;
#[cfg(test)]
pub(crate) mod testing;

use crate::model::{CommandKind, Span};

/// Index of a task in [`Plan::tasks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u32);

impl TaskId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a task was lowered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A `task` node.
    Task,
    /// One `each` step of one entity.
    Step,
    /// A pipeline `stage` of one milestone.
    Stage,
    /// A milestone `phase`.
    Phase,
    /// A gate attached to an owner (or run alone): its checks, not commands.
    Gate,
    /// A `wave-gate` after one wave of entities: a barrier.
    WaveGate,
    /// A `target`: no commands, done when what it needs is done.
    Target,
}

/// The cluster a task belongs to, for grouping in output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    Milestone(String),
    /// One entity of a group, with the entity's wave (1 + the highest wave
    /// among its relations), which a reader checks against the relations.
    Entity {
        group: String,
        entity: String,
        wave: u32,
    },
}

/// A command after templating.
pub type Cmd = CommandKind;

/// One check of a gate task, after templating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    pub name: String,
    pub command: Cmd,
    pub fix: Option<Cmd>,
    pub optional: bool,
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub dir: Option<String>,
    pub env: Vec<(String, String)>,
}

/// A gate as the runner needs it: checks in order, and how many more
/// attempts after the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSpec {
    pub name: String,
    pub retries: u32,
    pub checks: Vec<CheckSpec>,
}

/// One node of the DAG.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanTask {
    pub id: TaskId,
    /// `scaffold`, `entities/product/generate`, `M1-catalog/schema`,
    /// `M1-catalog/verify`, `ci`…
    pub address: String,
    pub kind: TaskKind,
    pub group: Option<Group>,
    /// Commands in order; the first failure fails the task. Empty for gates
    /// (see [`PlanTask::gate`]) and targets.
    pub commands: Vec<Cmd>,
    /// For gate tasks: the checks to run.
    pub gate: Option<GateSpec>,
    /// Direct dependencies, sorted and deduplicated.
    pub needs: Vec<TaskId>,
    /// 1 + the highest wave among `needs` (1 when it needs nothing).
    pub wave: u32,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Project env, then the task's own (later entries win), templated.
    pub env: Vec<(String, String)>,
    /// Working directory relative to the project root.
    pub dir: Option<String>,
    pub timeout: Option<Duration>,
    /// More attempts after the first.
    pub retries: u32,
    pub pool: Option<String>,
    pub confirm: Option<String>,
    pub description: Option<String>,
    /// Where it was declared in orchestra.kdl.
    pub declared: Span,
}

/// A part of the selection that `--skip` left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub address: String,
    /// The `--skip NAME` that removed it.
    pub by: String,
}

/// The compiled plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub project: String,
    /// Program and leading arguments for shell-form commands (`sh -c`).
    pub shell: Vec<String>,
    /// Pools by name and depth.
    pub pools: Vec<(String, u32)>,
    /// The project's `jobs` setting, kept so a cached plan can run without
    /// the model.
    pub jobs: Option<u32>,
    /// The project's `secret` variable names, masked in all output.
    pub secrets: Vec<String>,
    /// The project's `lock-timeout`: older milestone locks are stale.
    pub lock_timeout: Option<Duration>,
    /// Every selected task, in a topological order (needs before
    /// dependents; ties in declaration order). `tasks[i].id == TaskId(i)`.
    pub tasks: Vec<PlanTask>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    pub fn task(&self, id: TaskId) -> &PlanTask {
        &self.tasks[id.index()]
    }

    /// The highest wave (0 for an empty plan).
    pub fn wave_count(&self) -> u32 {
        self.tasks.iter().map(|t| t.wave).max().unwrap_or(0)
    }

    /// A longest chain of dependencies, first task first: it bounds how
    /// fast the plan can run however many jobs run at once. Its length is
    /// the wave count; among equals, the first task of the last wave and
    /// each time the first need one wave lower.
    pub fn critical_path(&self) -> Vec<TaskId> {
        let last = self.wave_count();
        let Some(mut at) = self.tasks.iter().find(|t| t.wave == last) else {
            return Vec::new();
        };
        let mut path = vec![at.id];
        while let Some(&need) = at.needs.iter().find(|&&n| self.task(n).wave + 1 == at.wave) {
            at = self.task(need);
            path.push(need);
        }
        path.reverse();
        path
    }
}
