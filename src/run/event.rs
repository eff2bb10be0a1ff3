//! What a run tells the outside world: [`Event`]s as they happen and the
//! [`Summary`] at the end, plus the [`Reporter`] seam they flow through.
//!
//! Events borrow from the scheduler's state so emitting one costs nothing;
//! a reporter that wants to keep something copies it.

use std::path::PathBuf;
use std::time::Duration;

use crate::freshness::Reason;
use crate::plan::{Plan, TaskId};

/// Receives every event of a run, in order, on the scheduler's thread.
pub(crate) trait Reporter {
    fn event(&mut self, plan: &Plan, event: &Event<'_>);
}

/// One unit of work inside a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The task's `run` line at this index.
    Command(usize),
    /// The gate check at this index.
    Check(usize),
    /// The `fix` of the gate check at this index.
    Fix(usize),
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    Success,
    /// A non-zero exit status.
    Code(i32),
    /// Killed by this signal (not by orchestra's timeout).
    Signal(i32),
    /// Ran longer than its timeout; its process group was killed.
    TimedOut(Duration),
    /// The program could not be started (missing, not executable…).
    SpawnFailed(String),
    /// It stopped to read the terminal (a password prompt, say), which a
    /// task in the background cannot; its process group was killed.
    NeedsTerminal,
}

impl Exit {
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Self::Success)
    }
}

/// Why a task failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A command (run line, check or fix) failed: which, as text, how it
    /// ended and the last lines (at most [`Failure::TAIL`]) of its output.
    Command {
        step: Step,
        command: String,
        exit: Exit,
        tail: Vec<String>,
    },
    /// The task was not allowed to start (a confirmation was refused).
    Refused(String),
    /// The run was interrupted (Ctrl-C, SIGTERM) while the task ran; its
    /// process group was stopped.
    Interrupted,
    /// Its commands succeeded but these declared outputs do not exist.
    OutputsMissing(Vec<String>),
}

impl Failure {
    pub(crate) const TAIL: usize = 40;
}

/// One failed check in one attempt of a gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckFailure {
    pub(crate) attempt: u32,
    pub(crate) check: String,
    /// Whether its `fix` ran (and succeeded) after it failed.
    pub(crate) fixed: bool,
}

/// How a gate went: attempts, which checks failed, what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GateRecord {
    pub(crate) attempts: u32,
    pub(crate) failures: Vec<CheckFailure>,
    /// Optional checks skipped because their program is missing: (check, program).
    pub(crate) skipped: Vec<(String, String)>,
    /// Passed only after a retry that no fix explains.
    pub(crate) flaky: bool,
    /// The check (by index) whose fix did not run: fixes were off, or no
    /// attempt was left to verify it.
    pub(crate) fix_available: Option<usize>,
}

/// Why a task did not run although it was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// It depends on this failed task (reported at once under `--keep-going`).
    DependencyFailed(TaskId),
    /// The build stopped (after a failure or an interrupt) before this task
    /// could start.
    Stopped,
    /// `--resume`: it succeeded in the interrupted run this one continues.
    Resumed,
    /// Another build holds the milestone lock of this task, or of the task
    /// named (which this one needs).
    Locked(TaskId),
}

impl SkipReason {
    /// Whether the build is still a success with this task not run: its work
    /// is done already, or another build is doing it.
    pub(crate) fn is_benign(self) -> bool {
        matches!(self, Self::Resumed | Self::Locked(_))
    }
}

/// Where a task ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Succeeded,
    /// Skipped: its fingerprint matches its last success and its outputs exist.
    UpToDate,
    Failed(Failure),
    NotRun(SkipReason),
}

/// Everything known about one task after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskRecord {
    pub(crate) status: Status,
    /// Attempts of its commands (0 when it did not start).
    pub(crate) attempts: u32,
    pub(crate) duration: Duration,
    pub(crate) gate: Option<GateRecord>,
    /// Its log, relative to the project root, when one was written.
    pub(crate) log: Option<PathBuf>,
    /// It succeeded without running: its outputs were restored from this
    /// cache (`the local cache`, or a server's URL).
    pub(crate) restored: Option<String>,
}

/// The outcome of a run: one record per plan task, indexed by [`TaskId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) tasks: Vec<TaskRecord>,
    pub(crate) duration: Duration,
    /// The run was interrupted (Ctrl-C, SIGTERM): exit code 130.
    pub(crate) interrupted: bool,
    /// What the up-to-date tasks took at their last success.
    pub(crate) saved: Duration,
    /// The fingerprint each task that ran was checked with.
    pub(crate) fingerprints: Vec<(crate::plan::TaskId, [u8; 32])>,
}

impl Summary {
    pub(crate) fn success(&self) -> bool {
        !self.interrupted
            && self.tasks.iter().all(|t| match t.status {
                Status::Succeeded | Status::UpToDate => true,
                Status::NotRun(reason) => reason.is_benign(),
                Status::Failed(_) => false,
            })
    }

    /// Tasks restored from a cache instead of run.
    pub(crate) fn restored(&self) -> usize {
        self.tasks.iter().filter(|t| t.restored.is_some()).count()
    }

    pub(crate) fn up_to_date(&self) -> usize {
        self.count(|s| *s == Status::UpToDate)
    }

    pub(crate) fn failed(&self) -> usize {
        self.count(|s| matches!(s, Status::Failed(_)))
    }

    pub(crate) fn succeeded(&self) -> usize {
        self.count(|s| *s == Status::Succeeded)
    }

    /// Tasks that did not run for a reason that fails the build.
    pub(crate) fn not_run(&self) -> usize {
        self.count(|s| matches!(s, Status::NotRun(r) if !r.is_benign()))
    }

    /// Tasks skipped because the interrupted run had done them (`--resume`).
    pub(crate) fn resumed(&self) -> usize {
        self.count(|s| *s == Status::NotRun(SkipReason::Resumed))
    }

    /// Tasks skipped because another build holds their milestone's lock.
    pub(crate) fn locked(&self) -> usize {
        self.count(|s| matches!(s, Status::NotRun(SkipReason::Locked(_))))
    }

    /// Failed tasks whose failure matches `f`.
    pub(crate) fn count_failures(&self, f: impl Fn(&Failure) -> bool) -> usize {
        self.count(|s| matches!(s, Status::Failed(failure) if f(failure)))
    }

    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.tasks.iter().filter(|t| f(&t.status)).count()
    }
}

/// Something that happened during a run.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// Before anything runs.
    RunStarted {
        tasks: usize,
        #[allow(dead_code)] // for event consumers to come (an event stream)
        jobs: usize,
    },
    /// A task was skipped: nothing it depends on changed (it took no slot).
    TaskUpToDate { task: TaskId },
    /// Under `--explain`: why a task is about to run.
    Explained { task: TaskId, reasons: &'a [Reason] },
    /// A task took a slot (or, with no work, is about to finish at once).
    TaskStarted { task: TaskId },
    /// One command of a task started; `attempt` counts from 1.
    StepStarted {
        task: TaskId,
        step: Step,
        #[allow(dead_code)] // for event consumers to come (an event stream)
        attempt: u32,
    },
    /// A line of live output (only when the executor streams, `-v`).
    Output { task: TaskId, line: &'a str },
    /// An optional check was skipped: its program is not on PATH.
    CheckSkipped {
        task: TaskId,
        check: usize,
        program: &'a str,
    },
    /// A gate check failed; `fixing` when its fix runs next, `again` when
    /// another attempt follows (after the fix, or without one).
    CheckFailed {
        task: TaskId,
        check: usize,
        attempt: u32,
        exit: &'a Exit,
        fixing: bool,
        again: bool,
    },
    /// A task failed an attempt and starts again from its first command.
    Retrying { task: TaskId, attempt: u32 },
    /// A task that will not run: under `--keep-going` because something it
    /// needs failed; done in the interrupted run (`--resume`); or locked by
    /// another build.
    TaskSkipped { task: TaskId, reason: SkipReason },
    /// A task ended (succeeded or failed); `output` is all it printed.
    TaskFinished {
        task: TaskId,
        record: &'a TaskRecord,
        output: &'a str,
    },
    /// Ctrl-C (or SIGTERM) arrived: no new task starts and the `running`
    /// ones are stopped, at once (KILL) when `hard` (a second Ctrl-C).
    Interrupted { hard: bool, running: usize },
    /// The run is over; every task has a record.
    RunFinished { summary: &'a Summary },
}
