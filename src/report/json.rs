//! `orchestra build --json`: the run as one JSON object on stdout, for CI and
//! scripts. The schema is documented (and checked by a test) in
//! `docs/build-json.md`; bump [`VERSION`] on any incompatible change.

use serde_json::{Value, json};

use super::lines;
use crate::plan::describe::kind_name;
use crate::plan::{Plan, PlanTask};
use crate::run::{Exit, Failure, GateRecord, SkipReason, Status, Step, Summary, TaskRecord};
use crate::secrets::Masker;

pub(crate) const VERSION: u32 = 2;

/// The summary object for a finished run of `plan`.
pub(crate) fn summary(plan: &Plan, summary: &Summary) -> Value {
    let tasks: Vec<Value> = plan
        .tasks
        .iter()
        .zip(&summary.tasks)
        .map(|(task, record)| task_json(plan, task, record))
        .collect();
    let waves: Vec<Value> = (1..=plan.wave_count())
        .map(|wave| {
            let members: Vec<&str> = plan
                .tasks
                .iter()
                .filter(|t| t.wave == wave)
                .map(|t| t.address.as_str())
                .collect();
            json!({ "wave": wave, "tasks": members })
        })
        .collect();
    let skipped: Vec<Value> = plan
        .skipped
        .iter()
        .map(|s| json!({ "address": s.address, "by": s.by }))
        .collect();
    json!({
        "version": VERSION,
        "project": plan.project,
        "success": summary.success(),
        "interrupted": summary.interrupted,
        "duration_ms": millis(summary.duration),
        "waves": waves,
        "tasks": tasks,
        "left_out": skipped,
        "totals": totals(plan, summary),
    })
}

/// How many tasks ended which way (the summary's and the event stream's).
pub(crate) fn totals(plan: &Plan, summary: &Summary) -> Value {
    json!({
        "tasks": summary.tasks.len(),
        "succeeded": summary.succeeded(),
        "up_to_date": summary.up_to_date(),
        "restored": summary.restored(),
        "failed": summary.failed(),
        "skipped": summary.not_run(),
        "resumed": summary.resumed(),
        "locked": summary.locked(),
        "left_out": plan.skipped.len(),
    })
}

/// Replaces secrets in every string of `value` (done on the values, not the
/// printed text, where JSON escaping could hide a secret from the search).
pub(crate) fn mask(value: &mut Value, masker: &Masker) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = masker.mask(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, masker)),
        Value::Object(fields) => fields.values_mut().for_each(|v| mask(v, masker)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One task's result, as the summary lists it.
pub(crate) fn task_json(plan: &Plan, task: &PlanTask, record: &TaskRecord) -> Value {
    let (status, failure, blocked_by) = match record.status.clone() {
        Status::Succeeded => ("succeeded", Value::Null, Value::Null),
        Status::UpToDate => ("up-to-date", Value::Null, Value::Null),
        Status::Failed(failure) => ("failed", failure_json(task, &failure), Value::Null),
        Status::NotRun(SkipReason::DependencyFailed(on)) => {
            ("skipped", Value::Null, json!(plan.task(on).address))
        }
        Status::NotRun(SkipReason::Stopped) => ("skipped", Value::Null, Value::Null),
        Status::NotRun(SkipReason::Resumed) => ("resumed", Value::Null, Value::Null),
        Status::NotRun(SkipReason::Locked(by)) if by == task.id => {
            ("locked", Value::Null, Value::Null)
        }
        Status::NotRun(SkipReason::Locked(by)) => {
            ("locked", Value::Null, json!(plan.task(by).address))
        }
    };
    json!({
        "address": task.address,
        "kind": kind_name(task.kind),
        "wave": task.wave,
        "status": status,
        "duration_ms": millis(record.duration),
        "attempts": record.attempts,
        "log": record.log.as_ref().map(|l| l.to_string_lossy()),
        "restored_from": record.restored,
        "blocked_by": blocked_by,
        "failure": failure,
        "gate": record.gate.as_ref().map_or(Value::Null, gate_json),
    })
}

fn failure_json(task: &PlanTask, failure: &Failure) -> Value {
    let check = |i: usize| task.check(i).map(|c| c.name.as_str());
    match failure {
        Failure::Command {
            step,
            command,
            exit,
            ..
        } => {
            let (step, check) = match *step {
                Step::Command(_) => ("command", None),
                Step::Check(i) => ("check", check(i)),
                Step::Fix(i) => ("fix", check(i)),
            };
            json!({
                "step": step,
                "check": check,
                "command": command,
                "exit_code": if let Exit::Code(c) = exit { Some(*c) } else { None },
                "signal": if let Exit::Signal(s) = exit { Some(*s) } else { None },
                "timed_out": matches!(exit, Exit::TimedOut(_)),
                "message": lines::exit(exit),
            })
        }
        Failure::Interrupted => json!({
            "step": "interrupted",
            "check": null,
            "command": null,
            "exit_code": null,
            "signal": null,
            "timed_out": false,
            "message": "interrupted",
        }),
        Failure::OutputsMissing(missing) => json!({
            "step": "outputs",
            "check": null,
            "command": null,
            "exit_code": null,
            "signal": null,
            "timed_out": false,
            "message": format!("declared outputs not produced: {}", missing.join(", ")),
        }),
        Failure::Refused(reason) => json!({
            "step": "confirm",
            "check": null,
            "command": null,
            "exit_code": null,
            "signal": null,
            "timed_out": false,
            "message": reason,
        }),
    }
}

fn gate_json(gate: &GateRecord) -> Value {
    let failed: Vec<Value> = gate
        .failures
        .iter()
        .map(|f| json!({ "attempt": f.attempt, "check": f.check, "fixed": f.fixed }))
        .collect();
    let skipped: Vec<Value> = gate
        .skipped
        .iter()
        .map(|(check, program)| json!({ "check": check, "program": program }))
        .collect();
    json!({
        "attempts": gate.attempts,
        "failed_checks": failed,
        "skipped_checks": skipped,
        "flaky": gate.flaky,
    })
}
