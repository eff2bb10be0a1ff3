//! Executing a [`Plan`]: the engine behind `orchestra build`.
//!
//! One coordinator, [`scheduler::run`], owns all run state. It decides which
//! ready task starts next ([`priority`]: longest remaining path first), walks
//! each started task through its commands, retries and gate checks
//! ([`attempt`], [`gate`]), and hands single commands to an [`Executor`]:
//! [`ProcessExecutor`] spawns real processes (own process group, timeout,
//! captured output), [`DryRunExecutor`] pretends every command succeeded, and
//! the unit tests use a fake with a simulated clock. When a task is ready,
//! [`incremental`] says whether it is up to date (then it is skipped on the
//! spot, without a slot); before it starts, a [`Decide`] says whether it
//! may: confirmations, and [`Resume`] for `--resume` and milestone locks.
//! Interrupts (Ctrl-C) reach the scheduler as a message through the
//! executor's channel ([`Interrupter`]).
//!
//! Nothing here prints. Everything observable leaves as an [`Event`] to a
//! [`Reporter`] (implemented in `crate::report`), and the run ends with a
//! [`Summary`].
//!
//! Durability and incrementality live beside the engine: [`state`] (the
//! atomic `.orchestra/state.json`, kept current by the [`record`] reporter),
//! [`history`], milestone [`lock`]s,
//! [`secrets`] masking, and the pieces of up-to-date checks: [`inputs`]
//! (glob expansion), [`stat_cache`], [`fingerprint`] and their [`store`],
//! put together by [`incremental`].

mod attempt;
mod decide;
mod dry_run;
mod event;
mod executor;
pub mod fingerprint;
mod gate;
mod groups;
pub mod history;
pub mod incremental;
pub mod inputs;
mod job;
pub mod lock;
mod priority;
mod process;
pub mod record;
mod resume;
mod scheduler;
pub mod secrets;
mod spawn;
pub mod stat_cache;
pub mod state;
pub mod store;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_durable;
#[cfg(test)]
mod tests_gate;

use std::path::{Path, PathBuf};

pub use attempt::{command_text, step_command};
pub use decide::{Confirm, ConfirmPolicy, Decide, Decision};
pub use dry_run::DryRunExecutor;
pub use event::{
    CheckFailure, Event, Exit, Failure, GateRecord, Reporter, SkipReason, Status, Step, Summary,
    TaskRecord,
};
pub use executor::{Completion, Executor, Job, Update};
pub use incremental::{Incremental, Verdict};
pub use priority::critical_path;
pub use process::{Interrupter, ProcessExecutor};
pub use resume::Resume;
pub use scheduler::{run, run_incremental};

/// How to run a plan; everything the command line and project decide.
#[derive(Debug, Clone)]
pub struct Options {
    /// At most this many tasks at once (at least 1).
    pub jobs: usize,
    /// `-k`: after a failure, still run everything that does not depend on it.
    pub keep_going: bool,
    /// The project root (the directory of `orchestra.kdl`); task `dir`s are
    /// relative to it.
    pub root: PathBuf,
    /// Where task logs go, relative to `root`; `None` writes none (dry run).
    pub logs: Option<PathBuf>,
}

impl Options {
    /// The usual log directory, `.orchestra/logs`.
    pub fn default_logs() -> PathBuf {
        Path::new(".orchestra").join("logs")
    }
}

/// The log file of the task at `address`, relative to the project root:
/// each address segment becomes a directory, so addresses cannot collide
/// (`entities/product/generate` → `.orchestra/logs/entities/product/generate.log`).
pub fn log_path(logs: &Path, address: &str) -> PathBuf {
    let mut path = logs.to_path_buf();
    let mut segments = address.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_some() {
            path.push(segment);
        } else {
            path.push(format!("{segment}.log"));
        }
    }
    path
}

/// The default `-j`: project `jobs` when set (0 means every CPU), else the
/// number of CPUs.
pub fn default_jobs(project_jobs: Option<u32>) -> usize {
    let cpus = || std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    match project_jobs {
        Some(0) | None => cpus(),
        Some(n) => n as usize,
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn log_paths_keep_address_segments_as_directories() {
        let logs = Options::default_logs();
        assert_eq!(
            log_path(&logs, "entities/product/generate"),
            Path::new(".orchestra/logs/entities/product/generate.log")
        );
        assert_eq!(
            log_path(&logs, "scaffold"),
            Path::new(".orchestra/logs/scaffold.log")
        );
    }

    #[test]
    fn jobs_default_to_project_then_cpus() {
        assert_eq!(default_jobs(Some(3)), 3);
        assert!(default_jobs(Some(0)) >= 1);
        assert_eq!(default_jobs(None), default_jobs(Some(0)));
    }
}
