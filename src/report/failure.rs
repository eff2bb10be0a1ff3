//! A failed task as a miette report: what failed and how, the command, the
//! log, the tail of the output, and a label at the task's declaration in
//! `orchestra.kdl`, so the reader can go from symptom to source at once.

use std::fmt::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

use super::lines;
use crate::diagnostic::RenderOptions;
use crate::plan::{PlanTask, TaskKind};
use crate::run::{Failure, Step, TaskRecord};
use crate::sources::Sources;

/// Renders the report for `task`, which failed as `record` says.
pub(crate) fn render(
    task: &PlanTask,
    record: &TaskRecord,
    failure: &Failure,
    source: &Sources,
    options: RenderOptions,
) -> String {
    let report = Report {
        task,
        record,
        failure,
        source,
    };
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Output lines are shown as written: wrapping would change them.
    let mut handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_wrap_lines(false)
        .with_links(false);
    if let Failure::Command { tail, .. } = failure
        && !tail.is_empty()
    {
        let mut footer = format!("last {} of its output:", plural_lines(tail.len()));
        for line in tail {
            let _ = write!(footer, "\n│ {line}");
        }
        handler = handler.with_footer(footer);
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, &report);
    out
}

fn plural_lines(n: usize) -> String {
    if n == 1 {
        "line".into()
    } else {
        format!("{n} lines")
    }
}

struct Report<'a> {
    task: &'a PlanTask,
    record: &'a TaskRecord,
    failure: &'a Failure,
    source: &'a Sources,
}

impl Report<'_> {
    /// The failing step, named the way the file names it.
    fn what(&self, step: Step) -> String {
        let check = |i: usize| self.task.check_name(i);
        match step {
            Step::Command(i) if self.task.commands.len() > 1 => format!("`run` line {}", i + 1),
            Step::Command(_) => "its command".into(),
            Step::Check(i) => format!("check `{}`", check(i)),
            Step::Fix(i) => format!("the fix of check `{}`", check(i)),
        }
    }

    fn attempts(&self) -> String {
        let attempts = self.record.attempts;
        match (&self.task.gate, self.task.commands.is_empty()) {
            // A gate's first fix of each check buys a free attempt, so its
            // attempts have no fixed bound to show.
            (Some(_), true) if attempts > 1 => format!(" (attempt {attempts})"),
            (Some(_), true) => String::new(),
            _ if self.task.retries > 0 => {
                format!(" (attempt {attempts} of {})", self.task.retries + 1)
            }
            _ => String::new(),
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.task.kind {
            TaskKind::Gate | TaskKind::WaveGate => "gate",
            _ => "task",
        };
        let address = &self.task.address;
        match self.failure {
            Failure::Command { step, exit, .. } => write!(
                f,
                "{kind} `{address}` failed: {} {}{}",
                self.what(*step),
                lines::exit(exit),
                self.attempts()
            ),
            Failure::Refused(reason) => write!(f, "{kind} `{address}` did not run: {reason}"),
            Failure::Interrupted => write!(f, "{kind} `{address}` was interrupted"),
            Failure::OutputsMissing(missing) => write!(
                f,
                "{kind} `{address}` succeeded but did not produce its declared outputs: {}",
                missing.join(", ")
            ),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new("orchestra::task_failed"))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let Failure::Command { command, .. } = self.failure else {
            return None;
        };
        let mut help = format!("command: {command}");
        let available = self.record.gate.as_ref().and_then(|g| g.fix_available);
        let spec = self.task.gate.as_ref();
        if let Some(check) = available.and_then(|i| spec.and_then(|g| g.checks.get(i)))
            && let Some(fix) = &check.fix
        {
            let fix = crate::run::command_text(fix);
            let _ = write!(
                help,
                "\nfix available for `{}`: `{fix}` (not run)",
                check.name
            );
        }
        if let Some(log) = &self.record.log {
            let _ = write!(help, "\nlog: {}", log.display());
        }
        Some(Box::new(help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.task.declared;
        // A task the compiler made up has no declaration to point at.
        let label = (!span.is_empty() || span.offset() > 0)
            .then(|| LabeledSpan::new_with_span(Some("declared here".into()), span));
        let labels = crate::diagnostic::with_use_sites(label.into_iter().collect(), self.source);
        Some(Box::new(labels.into_iter()))
    }
}
