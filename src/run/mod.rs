//! Executing a [`Plan`]: the engine behind `orchestra build`, `--dry-run`
//! and `why`.
//!
//! One coordinator, [`run`] (in `scheduler.rs`), owns all run state. It
//! decides which ready task starts next (`priority.rs`: longest remaining
//! path first), walks each started task through its commands, retries and
//! gate checks (`attempt.rs`, `gate.rs`), and hands single commands to an
//! [`Executor`]: [`ProcessExecutor`] spawns real processes (`posix_spawn` with
//! an environment built once, `native_spawn.rs`; own process group, timeout, captured output, a guardian that kills the groups if
//! orchestra itself is killed) and follows them all from one poll loop on
//! the scheduler's thread (`process.rs`, `running.rs`), [`DryRunExecutor`] pretends every command
//! succeeded, and the unit tests use a fake with a simulated clock.
//!
//! Everything else the scheduler needs arrives as a seam in [`Seams`]: a
//! [`crate::freshness::Freshness`] says whether a ready task is up to date
//! (then it is skipped on the spot, without a slot); a [`Decide`] says
//! whether it may start (confirmations, and [`Resume`] for `--resume` and
//! locks through [`Claims`]); [`Interrupts`] carries Ctrl-C, SIGTERM and
//! SIGHUP; and a [`Reporter`] receives every [`Event`].
//!
//! Nothing here prints and nothing here persists: everything observable
//! leaves as an event (implemented in `crate::report`), and the run ends
//! with a [`Summary`].

mod ask;
mod attempt;
mod cache;
mod decide;
mod dry_run;
mod event;
mod executor;
mod gate;
mod groups;
mod guardian;
mod interrupt;
mod job;
mod jobserver;
mod native_spawn;
mod priority;
mod process;
mod resume;
mod running;
mod scheduler;
mod signal;
mod spawn;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_durable;
#[cfg(test)]
mod tests_gate;

use std::path::PathBuf;

pub(crate) use ask::Asker;
pub(crate) use attempt::{check_header, command_text, step_command};
pub(crate) use cache::{OutputCache, Restored};
pub(crate) use decide::{Confirm, ConfirmPolicy, Decide};
pub(crate) use dry_run::DryRunExecutor;
#[cfg(test)]
pub(crate) use event::CheckFailure;
pub(crate) use event::{
    Event, Exit, Failure, GateRecord, Reporter, SkipReason, Status, Step, Summary, TaskRecord,
};
pub(crate) use executor::Executor;
pub(crate) use guardian::serve as serve_guardian;
pub(crate) use interrupt::Interrupts;
pub(crate) use process::ProcessExecutor;
pub(crate) use resume::{Claim, Claims, Resume};
pub(crate) use scheduler::run;

use crate::freshness::Freshness;
use crate::workspace::Workspace;

/// How to run a plan; everything the command line and project decide.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// At most this many tasks at once (at least 1).
    pub(crate) jobs: usize,
    /// `-k`: after a failure, still run everything that does not depend on it.
    pub(crate) keep_going: bool,
    /// The project root (the directory of `orchestra.kdl`); task `dir`s are
    /// relative to it.
    pub(crate) root: PathBuf,
    /// Where task logs go; `None` writes none (dry run, prediction).
    pub(crate) logs: Option<Workspace>,
    /// Whether gate checks' fixes may run (off under `--no-fix`, and in CI
    /// unless `--fix`).
    pub(crate) fixes: bool,
    /// The variables of each `dotenv` file the plan names, read before the
    /// run: a task's commands get its files' under its `env`.
    pub(crate) dotenv: std::collections::HashMap<String, Vec<(String, String)>>,
}

/// Everything the scheduler talks to besides the plan.
pub(crate) struct Seams<'a> {
    pub(crate) executor: &'a mut dyn Executor,
    pub(crate) decide: &'a mut dyn Decide,
    /// Puts `confirm` questions to a person while other work goes on.
    pub(crate) asker: &'a mut dyn Asker,
    pub(crate) reporter: &'a mut dyn Reporter,
    pub(crate) freshness: &'a mut dyn Freshness,
    /// Restores outputs instead of running, and stores them after.
    pub(crate) cache: &'a mut dyn OutputCache,
    pub(crate) interrupts: &'a Interrupts,
}

/// The default `-j`: project `jobs` when set (0 means every CPU), else the
/// number of CPUs.
pub(crate) fn default_jobs(project_jobs: Option<u32>) -> usize {
    let cpus = || std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    match project_jobs {
        Some(0) | None => cpus(),
        Some(n) => n as usize,
    }
}

#[cfg(test)]
mod jobs_tests {
    use super::*;

    #[test]
    fn jobs_default_to_project_then_cpus() {
        assert_eq!(default_jobs(Some(3)), 3);
        assert!(default_jobs(Some(0)) >= 1);
        assert_eq!(default_jobs(None), default_jobs(Some(0)));
    }
}
