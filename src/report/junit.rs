//! `--junit PATH`: the build as a `JUnit` XML report, in the de-facto schema
//! GitHub test reporters, GitLab and Jenkins read (Jenkins' `junit-10.xsd`).
//!
//! - A `testsuite` per milestone, per entity group, and one (`tasks`) for
//!   everything else, with a `testcase` per task (`classname` the suite,
//!   `name` the address).
//! - A `testsuite` per gate task (named by its address) with a `testcase`
//!   per check: the check that failed the last attempt fails (with the
//!   output's tail), the ones after it were not reached (`skipped`), an
//!   optional check whose program is missing is `skipped`, and a check that
//!   failed on an earlier attempt and then passed without a fix is a pass
//!   with a `flakyFailure` per failed attempt, as nextest and Maven
//!   Surefire write it.
//! - Up to date and not run are `<skipped/>` with the reason; an
//!   interrupted task is an `error`.

use std::fmt::Write;
use std::time::Duration;

use super::lines;
use crate::plan::{Group, Plan, PlanTask};
use crate::run::{Failure, Status, Step, Summary, TaskRecord};

/// One `testcase` being written.
struct Case {
    name: String,
    classname: String,
    time: Option<Duration>,
    /// The element inside it, already XML.
    body: String,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// The whole report.
pub(crate) fn report(plan: &Plan, summary: &Summary) -> String {
    // Suites in the order their first task comes in the plan.
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    let mut add = |suite: String, case: Case| match suites.iter_mut().find(|(n, _)| *n == suite) {
        Some((_, cases)) => cases.push(case),
        None => suites.push((suite, vec![case])),
    };
    for (task, record) in plan.tasks.iter().zip(&summary.tasks) {
        let suite = suite_of(task);
        add(suite.clone(), task_case(plan, task, record, suite));
        if task.gate.is_some() {
            for case in check_cases(plan, task, record) {
                add(task.address.to_string(), case);
            }
        }
    }
    let count =
        |cases: &[Case], outcome: Outcome| cases.iter().filter(|c| c.outcome == outcome).count();
    let all: Vec<&Case> = suites.iter().flat_map(|(_, c)| c).collect();
    let total = |outcome: Outcome| all.iter().filter(|c| c.outcome == outcome).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        escape(&plan.project),
        all.len(),
        total(Outcome::Failed),
        total(Outcome::Error),
        seconds(summary.duration)
    );
    for (name, cases) in &suites {
        let time: Duration = cases.iter().filter_map(|c| c.time).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(name),
            cases.len(),
            count(cases, Outcome::Failed),
            count(cases, Outcome::Error),
            count(cases, Outcome::Skipped),
            seconds(time)
        );
        for case in cases {
            let time = case
                .time
                .map_or(String::new(), |t| format!(" time=\"{}\"", seconds(t)));
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"{time}",
                escape(&case.name),
                escape(&case.classname)
            );
            if case.body.is_empty() {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(out, ">\n{}    </testcase>", case.body);
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The milestone or entity group a task belongs to, else `tasks`.
fn suite_of(task: &PlanTask) -> String {
    match task.group.as_deref() {
        Some(Group::Milestone(m)) => m.clone(),
        Some(Group::Entity { group, .. }) => group.clone(),
        None => "tasks".into(),
    }
}

fn task_case(plan: &Plan, task: &PlanTask, record: &TaskRecord, suite: String) -> Case {
    let (outcome, body) = match &record.status {
        Status::Succeeded => (Outcome::Passed, String::new()),
        Status::UpToDate => (Outcome::Skipped, skipped("up to date")),
        Status::NotRun(why) => (
            Outcome::Skipped,
            skipped(&format!(
                "not run: {}",
                lines::skip_reason(plan, task, *why)
            )),
        ),
        Status::Failed(Failure::Interrupted) => (
            Outcome::Error,
            "      <error message=\"interrupted\" type=\"interrupted\"/>\n".into(),
        ),
        Status::Failed(failure) => (Outcome::Failed, failed(task, failure)),
    };
    Case {
        name: task.address.to_string(),
        classname: suite,
        time: Some(record.duration),
        body,
        outcome,
    }
}

fn skipped(message: &str) -> String {
    format!("      <skipped message=\"{}\"/>\n", escape(message))
}

/// `<failure>` with what failed as its message, how as its type, and the
/// output's tail as its text.
fn failed(task: &PlanTask, failure: &Failure) -> String {
    let (title, _) = super::github::failure_text(task, failure);
    let (kind, text) = match failure {
        Failure::Command { exit, tail, .. } => (lines::exit(exit), tail.join("\n")),
        Failure::Refused(why) => ("refused".into(), why.clone()),
        Failure::OutputsMissing(missing) => ("outputs missing".into(), missing.join("\n")),
        Failure::Interrupted => ("interrupted".into(), String::new()),
    };
    format!(
        "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
        escape(&title),
        escape(&kind),
        escape(&text)
    )
}

/// A case per check of a gate task, as the module documentation says.
fn check_cases(plan: &Plan, task: &PlanTask, record: &TaskRecord) -> Vec<Case> {
    let Some(gate) = &task.gate else {
        return Vec::new();
    };
    let ran = record.gate.as_ref();
    let last = ran.map_or(0, |g| g.attempts);
    // The check the last attempt stopped at, when the gate failed there.
    let stopped_at = match &record.status {
        Status::Failed(Failure::Command {
            step: Step::Check(i) | Step::Fix(i),
            ..
        }) => Some(*i),
        _ => None,
    };
    gate.checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let failures: Vec<_> = ran
                .map(|g| g.failures.iter().filter(|f| f.check == check.name).collect())
                .unwrap_or_default();
            let skipped_for = ran.and_then(|g| {
                g.skipped
                    .iter()
                    .find(|(name, _)| *name == check.name)
                    .map(|(_, program)| program.clone())
            });
            let (outcome, body) = match &record.status {
                Status::UpToDate => (Outcome::Skipped, skipped("up to date")),
                Status::NotRun(why) => (
                    Outcome::Skipped,
                    skipped(&format!("not run: {}", lines::skip_reason(plan, task, *why))),
                ),
                _ if stopped_at == Some(i) => match &record.status {
                    Status::Failed(failure) => (Outcome::Failed, failed(task, failure)),
                    _ => (Outcome::Passed, String::new()),
                },
                _ if stopped_at.is_some_and(|s| i > s) => {
                    (Outcome::Skipped, skipped("not reached: an earlier check failed"))
                }
                Status::Failed(Failure::Interrupted) => (
                    Outcome::Error,
                    "      <error message=\"interrupted\" type=\"interrupted\"/>\n".into(),
                ),
                _ if skipped_for.is_some() => (
                    Outcome::Skipped,
                    skipped(&format!(
                        "optional: `{}` is not installed",
                        skipped_for.unwrap_or_default()
                    )),
                ),
                _ => {
                    // Passed in the end; earlier failures say how.
                    let mut body = String::new();
                    for f in failures.iter().filter(|f| f.attempt < last || last == 0) {
                        if f.fixed {
                            let _ = writeln!(
                                body,
                                "      <system-out>failed on attempt {}; its fix ran and the check passed after</system-out>",
                                f.attempt
                            );
                        } else {
                            let _ = writeln!(
                                body,
                                "      <flakyFailure message=\"failed on attempt {}, passed on a later one\" type=\"flaky\"/>",
                                f.attempt
                            );
                        }
                    }
                    (Outcome::Passed, body)
                }
            };
            Case {
                name: check.name.clone(),
                classname: task.address.to_string(),
                time: None,
                body,
                outcome,
            }
        })
        .collect()
}

/// Seconds with millisecond precision, as Surefire writes them.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Text for XML attributes and content: the five entities escaped, and
/// characters XML 1.0 cannot hold (terminal escapes) replaced.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1b}[31m\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{fffd}[31m\n"
        );
    }
}
