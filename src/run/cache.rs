//! The output-cache seam: before a task that is out of date runs, the
//! scheduler asks whether its outputs can be restored instead (by the
//! fingerprint it was just checked with); after it runs and succeeds, it
//! hands over its output to be stored. Implemented by `crate::cache`;
//! `()` is no cache at all (dry runs, engine tests).

use crate::plan::PlanTask;

/// A task restored instead of run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Restored {
    /// `the local cache`, or the server's URL.
    pub(crate) from: String,
    /// What it printed when it ran, replayed.
    pub(crate) log: String,
}

pub(crate) trait OutputCache {
    /// Restores `task`'s outputs filed under `fingerprint`, if stored.
    fn restore(&mut self, task: &PlanTask, fingerprint: &[u8; 32]) -> Option<Restored>;
    /// `task` ran under `fingerprint`, succeeded and printed `log`.
    fn store(&mut self, task: &PlanTask, fingerprint: &[u8; 32], log: &str);
}

impl OutputCache for () {
    fn restore(&mut self, _: &PlanTask, _: &[u8; 32]) -> Option<Restored> {
        None
    }
    fn store(&mut self, _: &PlanTask, _: &[u8; 32], _: &str) {}
}
