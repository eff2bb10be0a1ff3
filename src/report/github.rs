//! GitHub Actions workflow commands: log groups, `::error`/`::warning`
//! annotations at a file and line, secret masks, and the Markdown step
//! summary. Pure text; the coordinator decides where it goes (stderr, and
//! the file `$GITHUB_STEP_SUMMARY` names).
//!
//! Escaping follows the runner's rules: in a command's message, `%`, `\r`
//! and `\n` become `%25`, `%0D`, `%0A`; in a property value, `:` and `,`
//! too (`%3A`, `%2C`).

use std::fmt::Write;
use std::time::Duration;

use crate::diagnostic::{Diagnostic, places};
use crate::plan::{Plan, PlanTask};
use crate::run::{Failure, Status, Step, Summary, TaskRecord};
use crate::sources::{Place, Sources};

/// How many of the slowest tasks the step summary lists.
const SLOWEST: usize = 10;

pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A place in a file: the file as GitHub names it (see [`repository_path`]),
/// line and column from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// The file as GitHub resolves annotations: relative to the checkout
/// (`GITHUB_WORKSPACE`), where orchestra names it relative to the current
/// directory (`../orchestra.kdl`, `ci/orchestra.kdl`).
pub(crate) fn repository_path(shown: &str) -> String {
    let relative = std::env::var_os("GITHUB_WORKSPACE").and_then(|top| {
        let top = std::fs::canonicalize(top).ok()?;
        let file = std::fs::canonicalize(shown).ok()?;
        Some(file.strip_prefix(top).ok()?.to_string_lossy().into_owned())
    });
    relative.unwrap_or_else(|| shown.to_owned())
}

impl At {
    /// Where byte `offset` of `source` is.
    pub(crate) fn of(source: &Sources, offset: usize) -> Self {
        Self::from(source.place(offset))
    }
}

impl From<Place> for At {
    fn from(place: Place) -> Self {
        Self {
            file: repository_path(&place.file),
            line: place.line,
            column: place.column,
        }
    }
}

/// `::error file=…,line=…,col=…,title=…::message` (or `warning`).
pub(crate) fn annotation(error: bool, at: Option<&At>, title: &str, message: &str) -> String {
    let mut out = format!("::{}", if error { "error" } else { "warning" });
    let mut properties = Vec::new();
    if let Some(at) = at {
        properties.push(format!("file={}", escape_property(&at.file)));
        properties.push(format!("line={}", at.line));
        properties.push(format!("col={}", at.column));
    }
    properties.push(format!("title={}", escape_property(title)));
    let _ = write!(out, " {}::{}", properties.join(","), escape_data(message));
    out
}

pub(crate) fn group(name: &str) -> String {
    format!("::group::{}", escape_data(name))
}

pub(crate) const END_GROUP: &str = "::endgroup::";

/// `::add-mask::` for every line of every secret value, so the runner
/// hides them in everything printed after (orchestra masks them itself
/// too; this covers what its commands print to a log the runner shows).
pub(crate) fn masks<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for value in values {
        for line in value.lines().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(out, "::add-mask::{}", escape_data(line));
        }
    }
    out
}

/// An annotation per configuration diagnostic, at its place in the file.
pub(crate) fn diagnostics(found: &[Diagnostic], source: &Sources) -> String {
    let mut out = String::new();
    for (d, place) in found.iter().zip(places(found, source)) {
        let at = At::from(place);
        let mut message = d.message();
        // The template's line is the place; each use of it says which.
        for (template, used) in crate::diagnostic::used_at(d, source) {
            let _ = write!(
                message,
                " (in the use of template `{template}` at {}:{})",
                repository_path(&used.file),
                used.line
            );
        }
        if let Some(help) = d.help() {
            let _ = write!(message, "\n{help}");
        }
        let _ = writeln!(
            out,
            "{}",
            annotation(d.is_error(), Some(&at), d.code(), &message)
        );
    }
    out
}

/// Where a failure points: the failing check's declaration, else the
/// task's.
pub(crate) fn failure_offset(task: &PlanTask, failure: &Failure) -> usize {
    if let Failure::Command {
        step: Step::Check(i) | Step::Fix(i),
        ..
    } = failure
        && let Some(check) = task.check(*i)
    {
        return check.declared.offset();
    }
    task.declared.offset()
}

/// The title and message of a failed task's annotation.
pub(crate) fn failure_text(task: &PlanTask, failure: &Failure) -> (String, String) {
    let check = |i: usize| task.check(i).map_or("?", |c| c.name.as_str());
    match failure {
        Failure::Command {
            step, exit, tail, ..
        } => {
            let what = match *step {
                Step::Command(_) => format!("`{}` failed", task.address),
                Step::Check(i) => format!("check `{}` of `{}` failed", check(i), task.address),
                Step::Fix(i) => format!("the fix of `{}` in `{}` failed", check(i), task.address),
            };
            let last: Vec<&str> = tail
                .iter()
                .rev()
                .take(10)
                .rev()
                .map(String::as_str)
                .collect();
            (
                what,
                format!("{}\n{}", super::lines::exit(exit), last.join("\n")),
            )
        }
        Failure::Refused(why) => (format!("`{}` did not run", task.address), why.clone()),
        Failure::Interrupted => (
            format!("`{}` was interrupted", task.address),
            "the build was interrupted while it ran".into(),
        ),
        Failure::OutputsMissing(missing) => (
            format!("`{}` did not write its outputs", task.address),
            format!("missing: {}", missing.join(", ")),
        ),
    }
}

fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: the outcome and counts, the
/// failed tasks, the slowest, and every gate's attempts and fixes.
pub(crate) fn step_summary(plan: &Plan, summary: &Summary) -> String {
    let mut out = String::new();
    let outcome = if summary.interrupted {
        "⏹ interrupted"
    } else if summary.success() {
        "✅ succeeded"
    } else {
        "❌ failed"
    };
    let count = |f: fn(&Status) -> bool| summary.tasks.iter().filter(|t| f(&t.status)).count();
    let ran = count(|s| matches!(s, Status::Succeeded));
    let failed = count(|s| matches!(s, Status::Failed(_)));
    let up_to_date = count(|s| matches!(s, Status::UpToDate));
    let not_run = count(|s| matches!(s, Status::NotRun(_)));
    let _ = writeln!(out, "### orchestra: `{}` {outcome}\n", plan.project);
    let _ = writeln!(
        out,
        "{} tasks: {ran} ran, {failed} failed, {up_to_date} up to date, {not_run} not run, in {}\n",
        plan.tasks.len(),
        duration(summary.duration)
    );
    let rows = |records: Vec<(&PlanTask, &TaskRecord)>| -> String {
        let mut table =
            String::from("| task | result | attempts | duration |\n|---|---|---|---|\n");
        for (task, record) in records {
            let result = match &record.status {
                Status::Failed(failure) => failure_text(task, failure).0,
                Status::Succeeded => "ok".into(),
                _ => "—".into(),
            };
            let _ = writeln!(
                table,
                "| `{}` | {} | {} | {} |",
                task.address,
                result.replace('|', "\\|"),
                record.attempts,
                duration(record.duration)
            );
        }
        table
    };
    let pairs: Vec<(&PlanTask, &TaskRecord)> = plan.tasks.iter().zip(&summary.tasks).collect();
    let failures: Vec<_> = pairs
        .iter()
        .copied()
        .filter(|(_, r)| matches!(r.status, Status::Failed(_)))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "#### Failed\n\n{}", rows(failures));
    }
    let mut slowest: Vec<_> = pairs
        .iter()
        .copied()
        .filter(|(_, r)| matches!(r.status, Status::Succeeded | Status::Failed(_)))
        .collect();
    slowest.sort_by_key(|(_, r)| std::cmp::Reverse(r.duration));
    slowest.truncate(SLOWEST);
    if !slowest.is_empty() {
        let _ = writeln!(out, "#### Slowest\n\n{}", rows(slowest));
    }
    let gates: Vec<_> = pairs.iter().filter(|(_, r)| r.gate.is_some()).collect();
    if !gates.is_empty() {
        out.push_str("#### Gates\n\n| gate | attempts | failed checks | fixed | flaky |\n|---|---|---|---|---|\n");
        for (task, record) in gates {
            let Some(gate) = &record.gate else { continue };
            let failed: Vec<String> = gate
                .failures
                .iter()
                .map(|f| format!("`{}` (attempt {})", f.check, f.attempt))
                .collect();
            let fixed = gate.failures.iter().filter(|f| f.fixed).count();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {fixed} | {} |",
                task.address,
                gate.attempts,
                if failed.is_empty() {
                    "—".into()
                } else {
                    failed.join(", ")
                },
                if gate.flaky { "yes" } else { "no" }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_the_runner_reads_them() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        let at = At {
            file: "ci/orchestra.kdl".into(),
            line: 3,
            column: 5,
        };
        assert_eq!(
            annotation(true, Some(&at), "check `t`: failed", "line 1\nline 2"),
            "::error file=ci/orchestra.kdl,line=3,col=5,title=check `t`%3A failed::line 1%0Aline 2"
        );
        assert_eq!(annotation(false, None, "x", "y"), "::warning title=x::y");
        assert_eq!(group("a/b"), "::group::a/b");
    }

    #[test]
    fn masks_cover_every_line_of_every_value() {
        assert_eq!(
            masks(["s3cr3t", "two\nlines\n"]),
            "::add-mask::s3cr3t\n::add-mask::two\n::add-mask::lines\n"
        );
    }

    #[test]
    fn a_place_is_a_line_and_a_column_from_one() {
        let source = Sources::single("orchestra.kdl", "a\nbc\nd".to_owned());
        assert_eq!(
            At::of(&source, 3),
            At {
                file: "orchestra.kdl".into(),
                line: 2,
                column: 2
            }
        );
        assert_eq!(At::of(&source, 0).line, 1);
    }
}
