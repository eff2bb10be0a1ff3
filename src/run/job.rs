//! Turning one step of a plan task into a [`Job`]: which command, where, with
//! which environment, timeout and log.

use std::path::PathBuf;

use super::attempt::{command_text, step_command};
use super::event::Step;
use super::executor::Job;
use super::{Options, log_path};
use crate::plan::{Plan, TaskId};

/// Builds jobs for one plan; holds what every job shares.
#[derive(Debug)]
pub(crate) struct JobBuilder<'a> {
    plan: &'a Plan,
    options: &'a Options,
    root: String,
}

impl<'a> JobBuilder<'a> {
    pub(crate) fn new(plan: &'a Plan, options: &'a Options) -> Self {
        Self {
            plan,
            options,
            root: options.root.to_string_lossy().into_owned(),
        }
    }

    /// The job for `step` of task `id`; `fresh_log` for the task's first job.
    ///
    /// A check's own `dir`, `env` and `timeout` refine its gate task's. The
    /// `ORCHESTRA_*` variables come last so a task cannot hide who runs it.
    /// A timeout bounds each command on its own, so a retry gets a full one.
    pub(crate) fn job(&self, id: TaskId, step: Step, fresh_log: bool) -> Job {
        let task = self.plan.task(id);
        let check = match step {
            Step::Command(_) => None,
            Step::Check(i) | Step::Fix(i) => task.gate.as_ref().map(|g| &g.checks[i]),
        };
        let dir = check
            .and_then(|c| c.dir.as_deref())
            .or(task.dir.as_deref())
            .map_or_else(|| self.options.root.clone(), |d| self.options.root.join(d));
        let mut env = task.env.clone();
        if let Some(check) = check {
            env.extend(check.env.iter().cloned());
        }
        env.extend([
            ("ORCHESTRA_TASK".to_owned(), task.address.clone()),
            ("ORCHESTRA_PROJECT".to_owned(), self.plan.project.clone()),
            ("ORCHESTRA_ROOT".to_owned(), self.root.clone()),
        ]);
        let command = step_command(task, step);
        let header = match (step, check) {
            (Step::Check(_), Some(c)) => format!("check `{}`: {}", c.name, command_text(command)),
            (Step::Fix(_), Some(c)) => format!("fix `{}`: {}", c.name, command_text(command)),
            _ => command_text(command),
        };
        Job {
            task: id,
            command: command.clone(),
            dir,
            env,
            timeout: check.and_then(|c| c.timeout).or(task.timeout),
            log: self.log(&task.address),
            fresh_log,
            header: format!("$ {header}"),
        }
    }

    fn log(&self, address: &str) -> Option<PathBuf> {
        let logs = self.options.logs.as_deref()?;
        Some(self.options.root.join(log_path(logs, address)))
    }
}
