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
pub(crate) struct Job {
    pub(crate) task: TaskId,
    pub(crate) command: Cmd,
    /// Absolute working directory.
    pub(crate) dir: PathBuf,
    /// The complete set of variables added to orchestra's own environment.
    pub(crate) env: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    /// Absolute path of the task's log, when logs are written.
    pub(crate) log: Option<PathBuf>,
    /// Why the log cannot be written (its directory is not safe): the job
    /// then fails to start with this message rather than write elsewhere.
    pub(crate) log_error: Option<String>,
    /// Directories to create before the command starts: the parents of
    /// the task's declared outputs (its first job only).
    pub(crate) output_dirs: Vec<PathBuf>,
    /// Start the log afresh (the task's first job) instead of appending.
    pub(crate) fresh_log: bool,
    /// A line written to the log before the command's output (`$ cargo test`).
    pub(crate) header: String,
    /// `interactive=#true`: give it orchestra's stdin, and the terminal's
    /// foreground when orchestra has it.
    pub(crate) interactive: bool,
    /// `jobserver=…`: give the command the jobserver, if one is served.
    pub(crate) jobserver: Option<crate::model::Jobserver>,
}

/// A finished job.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    pub(crate) task: TaskId,
    pub(crate) exit: Exit,
    /// stdout and stderr, merged in the order they were written (the end
    /// of it, when it is long).
    pub(crate) output: String,
    /// Whether anything was written to the task's log (it is created only
    /// when a command prints).
    pub(crate) logged: bool,
}

/// What [`Executor::wait`] reports.
#[derive(Debug, Clone)]
pub(crate) enum Update {
    /// A complete line of output, when the executor streams it.
    Output {
        task: TaskId,
        line: String,
    },
    Finished(Completion),
    /// A wake-up: an interrupt was raised (see `super::Interrupts`) or a
    /// question was answered; it comes through the executor's channel
    /// because that is where the scheduler waits, and the scheduler looks
    /// for what happened itself.
    Wake,
}

/// Runs jobs. `start` must not block on the job; `wait` blocks until some
/// started job has news and is only called while at least one job is
/// unfinished. Every started job produces exactly one `Finished`.
pub(crate) trait Executor {
    fn start(&mut self, job: Job);
    fn wait(&mut self) -> Update;
    /// Whether `program` can be found, for optional checks.
    fn available(&self, program: &str) -> bool;
    /// Stops every running job: TERM now and KILL after a grace period, or
    /// KILL at once when `hard`. Each still reports `Finished` as usual.
    fn interrupt(&mut self, hard: bool);
    /// Takes a jobserver token for one more task, without waiting; when
    /// none is free, the next `wait` also returns a wake-up once one comes
    /// back. Always true when no jobserver is served.
    fn try_take_token(&mut self) -> bool {
        true
    }
    /// Returns a token [`Executor::try_take_token`] took.
    fn give_token(&mut self) {}
}
