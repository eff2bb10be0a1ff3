//! The words of `orchestra build`'s human output, as pure functions from run
//! data to text, so every line is snapshot-tested and the plain and progress
//! displays say exactly the same things.

use std::fmt::Write;
use std::time::Duration;

use crate::freshness::Reason;
use crate::model::format_duration;
use crate::plan::{Group, Plan, PlanTask};
use crate::run::{Exit, Failure, SkipReason, Status, Summary, TaskRecord};
use crate::words::plural;

/// `0.4s`, `12s`, `3m05s`, `1h02m`: short, and precise where it matters.
pub(crate) fn elapsed(d: Duration) -> String {
    // Round to tenths first so 9.96s reads `10s`, not `10.0s`.
    let tenths = (d.as_millis() + 50) / 100;
    let secs = u64::try_from(tenths / 10).unwrap_or(u64::MAX);
    if tenths < 100 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// `[ 3/40]`: done out of total, padded so lines align.
pub(crate) fn counter(done: usize, total: usize) -> String {
    let width = total.to_string().len();
    format!("[{done:>width$}/{total}]")
}

/// A task line with its status word coloured, for a terminal: green `ok`
/// (and `up to date`), red `FAILED` and `interrupted`, yellow `skipped`.
/// Elsewhere lines stay plain; the words are the same either way.
pub(crate) fn painted(line: &str) -> String {
    let Some(after) = line.find("] ").map(|i| i + 2) else {
        return line.to_owned();
    };
    let rest = &line[after..];
    let colours = [
        ("ok ", "32"),
        ("up to date ", "32"),
        ("FAILED ", "31"),
        ("interrupted ", "31"),
        ("skipped ", "33"),
    ];
    for (word, colour) in colours {
        if let Some(tail) = rest.strip_prefix(word) {
            let word = word.trim_end();
            return format!("{}\x1b[{colour}m{word}\x1b[0m {tail}", &line[..after]);
        }
    }
    line.to_owned()
}

pub(crate) fn started(done: usize, total: usize, address: &str) -> String {
    format!("{} start {address}", counter(done, total))
}

/// `[12/40] ok entities/product/generate 1.2s`, plus what is worth knowing
/// about attempts: retries, flaky or fixed gates.
/// The word a finished task's line says: `ok`, `FAILED`, `interrupted`.
pub(crate) fn finished_word(status: &Status) -> &'static str {
    match status {
        Status::Succeeded => "ok",
        Status::Failed(Failure::Interrupted) => "interrupted",
        _ => "FAILED",
    }
}

pub(crate) fn finished(done: usize, total: usize, task: &PlanTask, record: &TaskRecord) -> String {
    if let Some(from) = &record.restored {
        return format!(
            "{} restored {} from {from}",
            counter(done, total),
            task.address
        );
    }
    let word = finished_word(&record.status);
    let mut line = format!(
        "{} {word} {} {}",
        counter(done, total),
        task.address,
        elapsed(record.duration)
    );
    let mut notes = Vec::new();
    if let Some(gate) = &record.gate {
        if gate.flaky && record.status == Status::Succeeded {
            notes.push(format!("flaky: passed on attempt {}", gate.attempts));
        }
        let fixed: Vec<String> = gate
            .failures
            .iter()
            .filter(|f| f.fixed)
            .map(|f| format!("`{}`", f.check))
            .collect();
        if !fixed.is_empty() {
            notes.push(format!("fixed {}", fixed.join(", ")));
        }
    }
    if record.attempts > 1 && !notes.iter().any(|n| n.starts_with("flaky")) {
        notes.push(format!("{} attempts", record.attempts));
    }
    if !notes.is_empty() {
        let _ = write!(line, " ({})", notes.join("; "));
    }
    line
}

/// `[3/40] up to date build/app`
pub(crate) fn up_to_date(done: usize, total: usize, address: &str) -> String {
    format!("{} up to date {address}", counter(done, total))
}

/// `--explain`: `why build/app: input changed: src/a.rs`, one reason a line.
pub(crate) fn explained(address: &str, reasons: &[Reason]) -> String {
    let mut text = format!("why {address}:");
    for reason in reasons {
        let _ = write!(text, "\n    {}", reason.to_string().replace('\n', "\n    "));
    }
    text
}

/// A task that does not run: a need failed (under `--keep-going`), it was
/// done in the interrupted run (`--resume`), or another build holds a lock.
pub(crate) fn skipped(
    done: usize,
    total: usize,
    plan: &Plan,
    task: &PlanTask,
    why: SkipReason,
) -> String {
    let reason = skip_reason(plan, task, why);
    format!(
        "{} skipped {}: {reason}",
        counter(done, total),
        task.address
    )
}

/// Why a task did not run, as the end of a sentence.
pub(crate) fn skip_reason(plan: &Plan, task: &PlanTask, why: SkipReason) -> String {
    match why {
        SkipReason::DependencyFailed(failed) => {
            format!("needs `{}`, which failed", plan.task(failed).address)
        }
        SkipReason::Stopped => "the build stopped".to_owned(),
        SkipReason::Resumed => "done in the interrupted run".to_owned(),
        SkipReason::Locked(by) if by == task.id => match task.group.as_deref() {
            Some(Group::Milestone(name)) => {
                format!("milestone `{name}` is locked by another build")
            }
            _ => "another build is running it".to_owned(),
        },
        SkipReason::Locked(by) => format!(
            "needs `{}`, which another build holds locked",
            plan.task(by).address
        ),
    }
}

/// How a command ended, as the end of a sentence about it.
pub(crate) fn exit(exit: &Exit) -> String {
    match exit {
        Exit::Success => "succeeded".into(),
        Exit::Code(code) => format!("exited with status {code}"),
        Exit::Signal(signal) => match signal_name(*signal) {
            Some(name) => format!("was killed by signal {signal} ({name})"),
            None => format!("was killed by signal {signal}"),
        },
        Exit::TimedOut(limit) => format!("timed out after {}", format_duration(*limit)),
        Exit::SpawnFailed(message) => format!("could not start: {message}"),
        Exit::NeedsTerminal => "was stopped, most likely to read the terminal (a password prompt?), which a task cannot: orchestra runs tasks in the background with stdin from /dev/null, so it was killed; give it what it asks for another way (an environment variable, a key file, `sudo -n`, `ssh -o BatchMode=yes`), or mark the task `interactive=#true` to run it alone in the terminal's foreground".into(),
    }
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return None,
    })
}

pub(crate) fn check_skipped(address: &str, check: &str, program: &str) -> String {
    format!("warning: {address}: optional check `{check}` skipped: `{program}` is not on PATH")
}

pub(crate) fn check_failed(
    address: &str,
    check: &str,
    attempt: u32,
    how: &Exit,
    fixing: bool,
    again: bool,
) -> String {
    let next = if fixing {
        "; running its fix, then checking again"
    } else if again {
        "; retrying"
    } else {
        ""
    };
    format!(
        "{address}: check `{check}` {} (attempt {attempt}){next}",
        exit(how)
    )
}

pub(crate) fn retrying(address: &str, attempt: u32, attempts: u32) -> String {
    format!("{address}: failed; retrying (attempt {attempt} of {attempts})")
}

/// A line of live output under `-v`.
pub(crate) fn output(address: &str, line: &str) -> String {
    format!("{address} | {line}")
}

/// A selected part that `--skip` left out.
pub(crate) fn left_out(address: &str, by: &str) -> String {
    format!("skipped {address} ({})", crate::plan::left_out_by(by))
}

/// Ctrl-C arrived: what happens to the running tasks.
pub(crate) fn interrupted(hard: bool, running: usize) -> String {
    if hard {
        format!(
            "interrupted again: killing {} now",
            plural(running, "running task")
        )
    } else {
        format!(
            "interrupted: stopping {} (Ctrl-C again to kill at once); no new task starts",
            plural(running, "running task")
        )
    }
}

/// The last line of a run.
pub(crate) fn summary(plan: &Plan, summary: &Summary) -> String {
    let took = elapsed(summary.duration);
    let flaky = summary
        .tasks
        .iter()
        .filter(|t| t.gate.as_ref().is_some_and(|g| g.flaky))
        .count();
    let mut notes = Vec::new();
    if flaky > 0 {
        notes.push(plural(flaky, "flaky gate"));
    }
    let up_to_date = summary.up_to_date();
    if up_to_date > 0 {
        notes.push(format!("{up_to_date} up to date"));
    }
    let restored = summary.restored();
    if restored > 0 {
        notes.push(format!("{restored} restored from cache"));
    }
    if !plan.skipped.is_empty() {
        let flag = if plan.skipped.iter().all(|s| !s.by.starts_with("--")) {
            " by --skip"
        } else {
            ""
        };
        notes.push(format!("{} left out{flag}", plan.skipped.len()));
    }
    if summary.resumed() > 0 {
        notes.push(format!("{} done in the interrupted run", summary.resumed()));
    }
    if summary.locked() > 0 {
        notes.push(format!("{} locked by another build", summary.locked()));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    if summary.success() {
        let built = summary.tasks.len() - summary.resumed() - summary.locked();
        format!("built {} in {took}{notes}", plural(built, "task"))
    } else if summary.interrupted {
        let stopped = summary.count_failures(|f| *f == Failure::Interrupted);
        format!(
            "interrupted: {stopped} stopped, {} skipped, {} succeeded in {took}{notes}",
            summary.not_run(),
            summary.succeeded()
        )
    } else {
        let not_run = summary.not_run();
        let mut parts = vec![format!("{} failed", plural(summary.failed(), "task"))];
        if not_run > 0 {
            parts.push(format!("{not_run} skipped"));
        }
        parts.push(format!("{} succeeded", summary.succeeded()));
        format!("build failed: {} in {took}{notes}", parts.join(", "))
    }
}
