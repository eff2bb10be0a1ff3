//! Turning one step of a plan task into a [`Job`]: which command, where, with
//! which environment, timeout and log.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Options;
use super::attempt::{command_text, step_command};
use super::event::Step;
use super::executor::Job;
use crate::plan::{Plan, TaskId};

/// Builds jobs for one plan; holds what every job shares.
#[derive(Debug)]
pub(crate) struct JobBuilder<'a> {
    plan: &'a Plan,
    options: &'a Options,
    root: String,
    /// Log directories known to be real directories inside `.orchestra/`,
    /// so each is checked (and created) once per run, not per command.
    checked: RefCell<HashSet<PathBuf>>,
}

impl<'a> JobBuilder<'a> {
    pub(crate) fn new(plan: &'a Plan, options: &'a Options) -> Self {
        Self {
            plan,
            options,
            root: options.root.to_string_lossy().into_owned(),
            checked: RefCell::default(),
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
        // Its dotenv files' variables, then its env over them.
        let mut env: Vec<(String, String)> = self
            .plan
            .dotenv_of(task)
            .iter()
            .filter_map(|file| self.options.dotenv.get(file))
            .flatten()
            .cloned()
            .collect();
        env.extend(task.env.iter().cloned());
        if let Some(check) = check {
            env.extend(check.env.iter().cloned());
        }
        env.extend([
            ("ORCHESTRA_TASK".to_owned(), task.address.to_string()),
            ("ORCHESTRA_PROJECT".to_owned(), self.plan.project.clone()),
            ("ORCHESTRA_ROOT".to_owned(), self.root.clone()),
        ]);
        let command = step_command(task, step);
        let header = match (step, check) {
            (Step::Check(_), Some(c)) => format!("check `{}`: {}", c.name, command_text(command)),
            (Step::Fix(_), Some(c)) => format!("fix `{}`: {}", c.name, command_text(command)),
            _ => command_text(command),
        };
        let (log, log_error) = match self.log(&task.address) {
            Ok(log) => (log, None),
            Err(e) => (None, Some(e)),
        };
        let output_dirs = if fresh_log {
            self.output_dirs(&task.outputs)
        } else {
            Vec::new()
        };
        Job {
            task: id,
            command: command.clone(),
            dir,
            env,
            timeout: check.and_then(|c| c.timeout).or(task.timeout),
            log,
            log_error,
            output_dirs,
            fresh_log,
            header: format!("$ {header}"),
            interactive: task.interactive,
            jobserver: task.jobserver,
        }
    }

    /// The task's log file, its directory checked; an error when the
    /// directory cannot be made safely (a link in the way).
    fn log(&self, address: &str) -> Result<Option<PathBuf>, String> {
        let Some(workspace) = &self.options.logs else {
            return Ok(None);
        };
        let path = workspace.log_path(address);
        let dir = path.parent().unwrap_or(Path::new("."));
        if !self.checked.borrow().contains(dir) {
            let logs = workspace
                .logs_dir()
                .map_err(|e| format!("cannot keep the log: {e}"))?;
            let below: Vec<String> = dir
                .strip_prefix(&logs)
                .unwrap_or(Path::new(""))
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let below: Vec<&str> = below.iter().map(String::as_str).collect();
            crate::workspace::fs::ensure_dir(&logs, &below)
                .map_err(|e| format!("cannot keep the log: {e}"))?;
            self.checked.borrow_mut().insert(dir.to_path_buf());
        }
        Ok(Some(path))
    }

    /// The parent directories of declared outputs, under the project root:
    /// a glob's literal prefix, a file's directory. An output that would
    /// lead outside the project (`..`, an absolute path) gets none.
    fn output_dirs(&self, outputs: &[crate::plan::Str]) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for output in outputs {
            let path = Path::new(output.trim_start_matches("./"));
            let inside = path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside {
                continue;
            }
            let literal: PathBuf = path
                .components()
                .take_while(|c| {
                    !c.as_os_str()
                        .to_string_lossy()
                        .contains(['*', '?', '[', '{'])
                })
                .collect();
            // A glob's literal prefix is a directory; a file's parent is.
            let dir = if literal == path {
                path.parent().map(Path::to_path_buf)
            } else {
                Some(literal)
            };
            if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
                dirs.push(self.options.root.join(dir));
            }
        }
        dirs
    }

    /// The task's log as reports show it (relative to the project root).
    pub(crate) fn log_shown(&self, address: &str) -> Option<PathBuf> {
        let workspace = self.options.logs.as_ref()?;
        let path = workspace.log_path(address);
        Some(
            path.strip_prefix(&self.options.root)
                .map_or_else(|_| path.clone(), Path::to_path_buf),
        )
    }
}
