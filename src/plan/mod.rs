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

pub(crate) mod describe;
pub(crate) mod dot;
pub(crate) mod json;
pub(crate) mod text;

pub(crate) use crate::strings::Str;

use std::time::Duration;

pub(crate) mod cache;
pub(crate) mod shard;
#[cfg(test)]
pub(crate) mod testing;

use crate::model::{CommandKind, Jobserver, Span};

/// Index of a task in [`Plan::tasks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TaskId(pub u32);

impl TaskId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a task was lowered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
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
pub(crate) enum Group {
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
pub(crate) type Cmd = CommandKind;

/// One check of a gate task, after templating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckSpec {
    pub(crate) name: String,
    pub(crate) command: Cmd,
    pub(crate) fix: Option<Cmd>,
    pub(crate) optional: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) dir: Option<String>,
    pub(crate) env: Vec<(String, String)>,
    /// Where the check is declared in orchestra.kdl (CI annotations).
    pub(crate) declared: Span,
}

/// A gate as the runner needs it: checks in order, and how many more
/// attempts after the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GateSpec {
    pub(crate) name: String,
    pub(crate) retries: u32,
    pub(crate) checks: Vec<CheckSpec>,
}

/// One node of the DAG.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanTask {
    pub(crate) id: TaskId,
    /// `scaffold`, `entities/product/generate`, `M1-catalog/schema`,
    /// `M1-catalog/verify`, `ci`…
    pub(crate) address: Str,
    pub(crate) kind: TaskKind,
    pub(crate) group: Option<Box<Group>>,
    /// Commands in order; the first failure fails the task. Empty for gates
    /// (see [`PlanTask::gate`]) and targets.
    pub(crate) commands: Vec<Cmd>,
    /// For gate tasks: the checks to run.
    pub(crate) gate: Option<Box<GateSpec>>,
    /// Direct dependencies, sorted and deduplicated.
    pub(crate) needs: Vec<TaskId>,
    /// 1 + the highest wave among `needs` (1 when it needs nothing).
    pub(crate) wave: u32,
    pub(crate) inputs: Vec<Str>,
    pub(crate) outputs: Vec<Str>,
    /// Project env, then the task's own (later entries win), templated.
    pub(crate) env: Vec<(String, String)>,
    /// Working directory relative to the project root.
    pub(crate) dir: Option<String>,
    pub(crate) timeout: Option<Duration>,
    /// More attempts after the first.
    pub(crate) retries: u32,
    pub(crate) pool: Option<String>,
    pub(crate) confirm: Option<String>,
    /// Runs alone (nothing else runs beside it), with orchestra's stdin and,
    /// on a terminal, in its foreground: `interactive=#true`.
    pub(crate) interactive: bool,
    /// A Makefile-syntax file its command writes naming the files it read
    /// (`cc -MMD -MF`), relative to the project root: after a success those
    /// files join its inputs for the next build.
    pub(crate) depfile: Option<String>,
    /// Its commands share the `-j` slots through the jobserver.
    pub(crate) jobserver: Option<Jobserver>,
    /// Its `dotenv` files (the project's, then its own), as an index into
    /// [`Plan::dotenv`]: most tasks share one list, and a task stays small.
    pub(crate) dotenv: u16,
    /// False for `cache=#false`: the output cache never restores or
    /// stores it (see `crate::cache::cacheable` for the rest of the rule).
    pub(crate) cache: bool,
    pub(crate) description: Option<String>,
    /// Where it was declared in orchestra.kdl.
    pub(crate) declared: Span,
}

/// How a left-out task says why: `--skip NAME`, or the flag itself
/// (`--affected BASE`) when `by` names one.
pub(crate) fn left_out_by(by: &str) -> String {
    if by.starts_with("--") {
        by.to_owned()
    } else {
        format!("--skip {by}")
    }
}

/// A part of the selection that `--skip` left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) address: String,
    /// The `--skip NAME` that removed it.
    pub(crate) by: String,
}

/// The compiled plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) project: String,
    /// Program and leading arguments for shell-form commands (`sh -c`).
    pub(crate) shell: Vec<String>,
    /// Pools by name and depth.
    pub(crate) pools: Vec<(String, u32)>,
    /// The project's `jobs` setting, kept so a cached plan can run without
    /// the model.
    pub(crate) jobs: Option<u32>,
    /// The project's `secret` variable names, masked in all output.
    pub(crate) secrets: Vec<String>,
    /// The project's `lock-timeout`: older milestone locks are stale.
    pub(crate) lock_timeout: Option<Duration>,
    /// `cache-size`: the local output cache's limit in bytes.
    pub(crate) cache_size: Option<u64>,
    /// `cache-url`: the shared output cache (`http(s)://…` or `grpc://…`).
    pub(crate) cache_url: Option<String>,
    /// The lists of `dotenv` files tasks read, relative to the project
    /// root (their variables come under `env`); the first is empty.
    pub(crate) dotenv: Vec<Vec<String>>,
    /// Every selected task, in a topological order (needs before
    /// dependents; ties in declaration order). `tasks[i].id == TaskId(i)`.
    pub(crate) tasks: Vec<PlanTask>,
    pub(crate) skipped: Vec<Skipped>,
    /// Every rule's `foreach` patterns with [`matched_digest`] of the files
    /// each matched when compiling: a cached plan whose patterns now match
    /// other files is stale (a new `.c` is a new task).
    pub(crate) foreach: Vec<(String, [u8; 32])>,
}

/// A digest of what one `foreach` pattern matched (or why it did not).
pub(crate) fn matched_digest(matched: &Result<Vec<String>, String>) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    match matched {
        Ok(files) => {
            for file in files {
                hasher.update(file.as_bytes());
                hasher.update(b"\0");
            }
        }
        Err(message) => {
            hasher.update(b"error\0");
            hasher.update(message.as_bytes());
        }
    }
    *hasher.finalize().as_bytes()
}

impl PlanTask {
    /// Check `i` of its gate (none for a task without a gate).
    pub(crate) fn check(&self, i: usize) -> Option<&CheckSpec> {
        self.gate.as_ref()?.checks.get(i)
    }

    /// The name of check `i` of its gate; empty when there is none.
    pub(crate) fn check_name(&self, i: usize) -> &str {
        self.check(i).map_or("", |c| c.name.as_str())
    }
}

impl Plan {
    /// The dotenv files `task` reads, in order.
    pub(crate) fn dotenv_of(&self, task: &PlanTask) -> &[String] {
        self.dotenv
            .get(task.dotenv as usize)
            .map_or(&[], Vec::as_slice)
    }

    pub(crate) fn task(&self, id: TaskId) -> &PlanTask {
        &self.tasks[id.index()]
    }

    /// The plan of the tasks `keep` marks, which must hold every task
    /// that depends on a kept one (so no kept task needs a removed one that
    /// is downstream of work): ids renumbered, needs on removed tasks
    /// dropped (they are taken as done), waves recomputed, and every removed
    /// task recorded as left out `by` the flag that removed it.
    pub(crate) fn restrict(mut self, keep: &[bool], by: &str) -> Plan {
        let mut new_id = vec![None; self.tasks.len()];
        let mut next = 0u32;
        for (i, &kept) in keep.iter().enumerate() {
            if kept {
                new_id[i] = Some(TaskId(next));
                next += 1;
            }
        }
        let mut waves: Vec<u32> = Vec::with_capacity(next as usize);
        let mut tasks = Vec::with_capacity(next as usize);
        for (i, mut task) in std::mem::take(&mut self.tasks).into_iter().enumerate() {
            let Some(id) = new_id[i] else {
                self.skipped.push(Skipped {
                    address: task.address.to_string(),
                    by: by.to_owned(),
                });
                continue;
            };
            task.id = id;
            task.needs = task
                .needs
                .iter()
                .filter_map(|n| new_id[n.index()])
                .collect();
            task.wave = 1 + task
                .needs
                .iter()
                .map(|n| waves[n.index()])
                .max()
                .unwrap_or(0);
            waves.push(task.wave);
            tasks.push(task);
        }
        self.tasks = tasks;
        self
    }

    /// Whether `from` needs `to`, directly or through other needs (a
    /// walk backwards from `from`; needs come before their dependents).
    pub(crate) fn reaches(&self, from: TaskId, to: TaskId) -> bool {
        let mut stack = vec![from];
        let mut seen = vec![false; self.tasks.len()];
        while let Some(id) = stack.pop() {
            if id == to {
                return true;
            }
            for &need in &self.task(id).needs {
                if need >= to && !std::mem::replace(&mut seen[need.index()], true) {
                    stack.push(need);
                }
            }
        }
        false
    }

    /// The highest wave (0 for an empty plan).
    pub(crate) fn wave_count(&self) -> u32 {
        self.tasks.iter().map(|t| t.wave).max().unwrap_or(0)
    }

    /// A longest chain of dependencies, first task first: it bounds how
    /// fast the plan can run however many jobs run at once. Its length is
    /// the wave count; among equals, the first task of the last wave and
    /// each time the first need one wave lower.
    pub(crate) fn longest_wave_chain(&self) -> Vec<TaskId> {
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

/// What depends on each task, in one flat array (a start offset per task
/// into it): two allocations for the whole plan rather than one per task.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dependents {
    starts: Vec<u32>,
    ids: Vec<TaskId>,
}

impl Dependents {
    pub(crate) fn of(plan: &Plan) -> Self {
        let n = plan.tasks.len();
        let mut counts = vec![0u32; n + 1];
        for need in plan.tasks.iter().flat_map(|t| &t.needs) {
            counts[need.index() + 1] += 1;
        }
        for i in 1..=n {
            counts[i] += counts[i - 1];
        }
        let mut next = counts.clone();
        let mut ids = vec![TaskId(0); counts[n] as usize];
        for task in &plan.tasks {
            for need in &task.needs {
                let slot = &mut next[need.index()];
                ids[*slot as usize] = task.id;
                *slot += 1;
            }
        }
        Self {
            starts: counts,
            ids,
        }
    }

    /// The tasks that need `id`, in plan order.
    pub(crate) fn get(&self, id: TaskId) -> &[TaskId] {
        let (Some(&start), Some(&end)) =
            (self.starts.get(id.index()), self.starts.get(id.index() + 1))
        else {
            return &[];
        };
        self.ids
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod size {
    #[test]
    fn dependents_are_listed_in_plan_order() {
        let plan = crate::plan::testing::plan(vec![
            crate::plan::testing::task(0, "a", &[]),
            crate::plan::testing::task(1, "b", &[0]),
            crate::plan::testing::task(2, "c", &[0, 1]),
        ]);
        let dependents = super::Dependents::of(&plan);
        let ids = |id: u32| -> Vec<u32> {
            dependents
                .get(super::TaskId(id))
                .iter()
                .map(|t| t.0)
                .collect()
        };
        assert_eq!(ids(0), [1, 2]);
        assert_eq!(ids(1), [2]);
        assert!(ids(2).is_empty());
        assert!(ids(9).is_empty());
    }

    /// A plan holds one task per node, 20,000 in a large build, and the
    /// cache decodes them all on every hit: fields most tasks leave empty
    /// (a gate, a group) are boxed to keep each task small, and shared ones
    /// (its dotenv files) are an index into the plan. (328 bytes before the
    /// dotenv index took the last bytes of padding: 160 kB at 20,000 tasks.)
    #[test]
    fn a_plan_task_stays_small() {
        assert!(
            size_of::<super::PlanTask>() <= 336,
            "{}",
            size_of::<super::PlanTask>()
        );
    }
}
