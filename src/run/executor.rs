//! The seam between deciding and doing: the [`Executor`] trait and the data
//! that crosses it.
//!
//! The scheduler never touches a process. It hands one command at a time
//! ([`Job`]) to an executor and later collects an [`Update`] from it, the
//! way ninja's `CommandRunner` works. That keeps every scheduling rule
//! testable with a fake executor and makes dry-run just another executor.

use std::path::PathBuf;
use std::time::Duration;

use super::event::Exit;
use crate::plan::{Cmd, TaskId};

/// One command to run for one task. A task runs one job at a time, so the
/// task id names the job.
#[derive(Debug, Clone)]
pub struct Job {
    pub task: TaskId,
    pub command: Cmd,
    /// Absolute working directory.
    pub dir: PathBuf,
    /// The complete set of variables added to orchestra's own environment.
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// Absolute path of the task's log, when logs are written.
    pub log: Option<PathBuf>,
    /// Start the log afresh (the task's first job) instead of appending.
    pub fresh_log: bool,
    /// A line written to the log before the command's output (`$ cargo test`).
    pub header: String,
}

/// A finished job.
#[derive(Debug, Clone)]
pub struct Completion {
    pub task: TaskId,
    pub exit: Exit,
    /// stdout and stderr, merged in the order they were written.
    pub output: String,
}

/// What [`Executor::wait`] reports.
#[derive(Debug, Clone)]
pub enum Update {
    /// A complete line of output, when the executor streams it.
    Output {
        task: TaskId,
        line: String,
    },
    Finished(Completion),
    /// Ctrl-C, SIGTERM or SIGHUP reached orchestra. It comes through the
    /// executor's channel because that is where the scheduler waits.
    Interrupted,
}

/// Runs jobs. `start` must not block on the job; `wait` blocks until some
/// started job has news and is only called while at least one job is
/// unfinished. Every started job produces exactly one `Finished`.
pub trait Executor {
    fn start(&mut self, job: Job);
    fn wait(&mut self) -> Update;
    /// Whether `program` can be found, for optional checks.
    fn available(&self, program: &str) -> bool;
    /// Stops every running job: TERM now and KILL after a grace period, or
    /// KILL at once when `hard`. Each still reports `Finished` as usual.
    fn interrupt(&mut self, hard: bool);
    /// With nothing running: whether an interrupt is waiting to be read
    /// (one that came while a question was open, say). Consumes it.
    fn pending_interrupt(&mut self) -> bool {
        false
    }
}
