//! `--dry-run` as an executor: every job "succeeds" at once without running
//! or writing anything, so the scheduler walks the plan exactly as it would
//! for real and the reporter shows each step as it is reached.

use std::collections::VecDeque;

use super::event::Exit;
use super::executor::{Completion, Executor, Job, Update};

/// Completes jobs in the order they were started, doing nothing.
#[derive(Debug, Default)]
pub(crate) struct DryRunExecutor {
    started: VecDeque<Job>,
}

impl DryRunExecutor {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl Executor for DryRunExecutor {
    fn start(&mut self, job: Job) {
        self.started.push_back(job);
    }

    fn wait(&mut self) -> Update {
        let job = self
            .started
            .pop_front()
            .expect("wait is only called while a job is unfinished");
        Update::Finished(Completion {
            task: job.task,
            exit: Exit::Success,
            output: String::new(),
            logged: false,
        })
    }

    /// Looking a program up has no side effect, and it lets the dry run say
    /// which optional checks a real run would skip.
    fn available(&self, program: &str) -> bool {
        which::which(program).is_ok()
    }

    /// Nothing runs, so there is nothing to stop.
    fn interrupt(&mut self, _hard: bool) {}
}
