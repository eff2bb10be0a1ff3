//! Whether a task is up to date: the [`Freshness`] seam the scheduler asks
//! in dependency order, and its implementations — [`Incremental`] (content
//! fingerprints of inputs, commands, env and upstream, checked against each
//! task's last success; for builds, and recording nothing for dry runs and
//! `why`) and, in tests, `AlwaysRun`.
//!
//! The pieces: [`inputs`] expands globs, [`stat_cache`] hashes files only
//! when their stat changed, [`fingerprint`] builds and compares records,
//! [`store`] holds every task's last success, loaded from and journalled to
//! the workspace (`crate::workspace::journal`).

pub(crate) mod depfile;
pub(crate) mod fingerprint;
pub(crate) mod incremental;
pub(crate) mod inputs;
mod loaded_map;
pub(crate) mod stat_cache;
pub(crate) mod store;

pub(crate) use fingerprint::Reason;
pub(crate) use incremental::Incremental;

use crate::plan::{Plan, PlanTask};

/// Whether a task runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    UpToDate,
    /// Up to date although some of its needs ran: what they produced is
    /// byte-identical to before (early cutoff). The reason says so.
    CutOff(Reason),
    Run(Vec<Reason>),
}

impl From<Vec<Reason>> for Verdict {
    /// Up to date when there is no reason to run.
    fn from(reasons: Vec<Reason>) -> Self {
        if reasons.is_empty() {
            Self::UpToDate
        } else {
            Self::Run(reasons)
        }
    }
}

/// The scheduler's questions about up-to-dateness, and what it tells back.
pub(crate) trait Freshness {
    /// Fingerprints `task` (its needs are done) and says whether it runs.
    /// `ran`: the needs that ran this run rather than being up to date.
    fn check(&mut self, plan: &Plan, task: &PlanTask, ran: &[String]) -> Verdict;
    /// The task succeeded after running `took` (or was up to date, with
    /// `took` zero): keep its record.
    fn succeeded(&mut self, task: &PlanTask, took: std::time::Duration);
    /// The task failed: forget its last success, so it runs next time (and,
    /// for a gate, the successes of what it guards).
    fn failed(&mut self, plan: &Plan, task: &PlanTask);
    /// The task was skipped as done by `--resume`: its recorded success
    /// stands for what depends on it.
    fn resumed(&mut self, task: &PlanTask);
    /// `--explain`: report why each task runs.
    fn explains(&self) -> bool {
        false
    }
    /// What the tasks found up to date took at their last success: the
    /// time this build did not spend.
    fn saved(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    /// The fingerprint each task that ran was checked with: the same one
    /// in two builds means the same commands, env and inputs.
    fn ran_with(&self) -> Vec<(crate::plan::TaskId, [u8; 32])> {
        Vec::new()
    }
    /// The fingerprint `task` was just found out of date with: what its
    /// outputs are cached under. `None` when it is not to run.
    fn key(&self, _task: &PlanTask) -> Option<[u8; 32]> {
        None
    }
    /// Declared outputs of a task that succeeded which do not exist; empty
    /// when outputs are not checked (a dry run produces nothing).
    fn outputs_missing(&mut self, _task: &PlanTask) -> Vec<String> {
        Vec::new()
    }
}

/// Nothing is up to date: for engine tests that run every task.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct AlwaysRun;

#[cfg(test)]
impl Freshness for AlwaysRun {
    fn check(&mut self, _: &Plan, _: &PlanTask, _: &[String]) -> Verdict {
        Verdict::Run(Vec::new())
    }
    fn succeeded(&mut self, _: &PlanTask, _: std::time::Duration) {}
    fn failed(&mut self, _: &Plan, _: &PlanTask) {}
    fn resumed(&mut self, _: &PlanTask) {}
}
