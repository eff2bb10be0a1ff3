//! `--events PATH|-`: the build as newline-delimited JSON events, one line
//! per event, flushed as it happens, so a `tail -f` or an editor follows
//! the build live. The format is versioned and documented in
//! `docs/events.md`, its schema in `docs/events.schema.json`.

use std::io::Write;
use std::time::Instant;

use serde_json::{Value, json};

use super::json::{millis, task_json, totals};
use super::lines;
use crate::plan::{Plan, TaskId};
use crate::run::{Event, Reporter, Step, TaskRecord};
use crate::secrets::Masker;

/// Bumped on any incompatible change to an event's fields.
pub(crate) const VERSION: u32 = 1;

pub(crate) struct Events<W> {
    out: W,
    started: Instant,
    masker: Masker,
    /// The first write that failed: the stream stops there, the build goes on.
    pub(crate) error: Option<std::io::Error>,
}

impl<W: Write> Events<W> {
    pub(crate) fn new(out: W, masker: Masker) -> Self {
        Self {
            out,
            started: Instant::now(),
            masker,
            error: None,
        }
    }

    fn emit(&mut self, kind: &str, mut fields: Value) {
        if self.error.is_some() {
            return;
        }
        fields["event"] = kind.into();
        fields["at_ms"] = millis(self.started.elapsed()).into();
        super::json::mask(&mut fields, &self.masker);
        let written = writeln!(self.out, "{fields}").and_then(|()| self.out.flush());
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}

impl<W: Write> Events<W> {
    /// A gate check's result: failed (and what happens next) or skipped.
    fn check_event(&mut self, plan: &Plan, event: &Event<'_>) {
        let name =
            |task: TaskId, check: usize| plan.task(task).check(check).map(|c| c.name.as_str());
        match *event {
            Event::CheckFailed {
                task,
                check,
                attempt,
                exit,
                fixing,
                again,
            } => {
                let fields = json!({
                    "task": plan.task(task).address.to_string(),
                    "check": name(task, check),
                    "attempt": attempt,
                    "message": lines::exit(exit),
                    "fixing": fixing,
                    "again": again,
                });
                self.emit("check_failed", fields);
            }
            Event::CheckSkipped {
                task,
                check,
                program,
            } => {
                let fields = json!({
                    "task": plan.task(task).address.to_string(),
                    "check": name(task, check),
                    "program": program,
                });
                self.emit("check_skipped", fields);
            }
            _ => {}
        }
    }
}

/// A step as the events name it.
fn step_json(plan: &Plan, task: TaskId, step: Step) -> Value {
    let check = |i: usize| plan.task(task).check(i).map(|c| c.name.as_str());
    match step {
        Step::Command(i) => json!({ "kind": "command", "index": i, "check": null }),
        Step::Check(i) => json!({ "kind": "check", "index": i, "check": check(i) }),
        Step::Fix(i) => json!({ "kind": "fix", "index": i, "check": check(i) }),
    }
}

impl<W: Write> Reporter for Events<W> {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        let address = |id: TaskId| plan.task(id).address.to_string();
        let result = |id: TaskId, record: &TaskRecord| task_json(plan, plan.task(id), record);
        match *event {
            Event::RunStarted { tasks, jobs } => {
                self.started = Instant::now();
                let fields = json!({
                    "version": VERSION,
                    "project": plan.project,
                    "tasks": tasks,
                    "waves": plan.wave_count(),
                    "jobs": jobs,
                    "left_out": plan.skipped.len(),
                });
                self.emit("run_started", fields);
            }
            Event::TaskStarted { task } => {
                self.emit("task_started", json!({ "task": address(task) }));
            }
            Event::StepStarted {
                task,
                step,
                attempt,
            } => {
                let fields = json!({
                    "task": address(task),
                    "step": step_json(plan, task, step),
                    "attempt": attempt,
                });
                self.emit("step_started", fields);
            }
            Event::TaskUpToDate { task } => {
                self.emit("task_up_to_date", json!({ "task": address(task) }));
            }
            Event::TaskSkipped { task, reason } => {
                let why = lines::skip_reason(plan, plan.task(task), reason);
                self.emit(
                    "task_skipped",
                    json!({ "task": address(task), "reason": why }),
                );
            }
            Event::Explained { task, reasons } => {
                let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                self.emit(
                    "explained",
                    json!({ "task": address(task), "reasons": reasons }),
                );
            }
            Event::CheckFailed { .. } | Event::CheckSkipped { .. } => self.check_event(plan, event),
            Event::Retrying { task, attempt } => {
                let fields = json!({ "task": address(task), "attempt": attempt });
                self.emit("retrying", fields);
            }
            Event::TaskFinished { task, record, .. } => {
                let fields = json!({ "task": address(task), "result": result(task, record) });
                self.emit("task_finished", fields);
            }
            Event::Interrupted { hard, running } => {
                self.emit("interrupted", json!({ "hard": hard, "running": running }));
            }
            Event::RunFinished { summary } => {
                let fields = json!({
                    "success": summary.success(),
                    "interrupted": summary.interrupted,
                    "duration_ms": millis(summary.duration),
                    "totals": totals(plan, summary),
                });
                self.emit("run_finished", fields);
            }
            // Output lines stay in the logs (and `-v`): the stream is for
            // tools that follow the build, not a copy of every line.
            Event::Output { .. } => {}
        }
    }
}
