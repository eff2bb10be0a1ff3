//! `orchestra build --dry-run`: each task as the scheduler reaches it, with
//! the commands and checks it would run, in order. Paired with
//! `crate::run::DryRunExecutor`, which runs nothing.

use std::fmt::Write as _;
use std::io::Write;

use super::lines;
use crate::plan::Plan;
use crate::run::{Event, Reporter, Step, command_text, step_command};
use crate::secrets::Masker;

pub(crate) struct DryRun<W> {
    out: W,
    /// Secrets masked in the commands listed (a var may hold one).
    masker: Masker,
    /// `--explain`: list up-to-date tasks too, and why the others run.
    explain: bool,
    up_to_date: usize,
    would_run: usize,
}

impl<W: Write> DryRun<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            out,
            masker: Masker::default(),
            explain: false,
            up_to_date: 0,
            would_run: 0,
        }
    }

    /// Under `--explain`: up-to-date tasks are listed, and the reasons of
    /// those that would run.
    #[must_use]
    pub(crate) fn explaining(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    #[must_use]
    pub(crate) fn masking(mut self, masker: Masker) -> Self {
        self.masker = masker;
        self
    }
}

impl<W: Write> Reporter for DryRun<W> {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        let text = match *event {
            Event::RunStarted { .. } => plan
                .skipped
                .iter()
                .map(|s| lines::left_out(&s.address, &s.by))
                .collect::<Vec<_>>()
                .join("\n"),
            Event::TaskUpToDate { task } => {
                self.up_to_date += 1;
                if !self.explain {
                    return;
                }
                format!("{}: up to date", plan.task(task).address)
            }
            Event::Explained { task, reasons } if self.explain => {
                lines::explained(&plan.task(task).address, reasons)
            }
            Event::TaskStarted { task } => {
                self.would_run += 1;
                let task = plan.task(task);
                let mut line = task.address.to_string();
                if task.commands.is_empty() && task.gate.is_none() {
                    line.push_str(" (nothing to run)");
                }
                if let Some(question) = &task.confirm {
                    let _ = write!(line, " (asks: \"{question}\")");
                }
                line
            }
            Event::StepStarted { task, step, .. } => {
                let spec = plan.task(task);
                let command = command_text(step_command(spec, step));
                match (step, &spec.gate) {
                    (Step::Check(i), Some(gate)) => {
                        let check = &gate.checks[i];
                        let fix = check
                            .fix
                            .as_ref()
                            .map(|f| format!(" (fix: {})", command_text(f)))
                            .unwrap_or_default();
                        format!("    check `{}`: {command}{fix}", check.name)
                    }
                    _ => format!("    $ {command}"),
                }
            }
            Event::CheckSkipped {
                task,
                check,
                program,
            } => {
                let name = plan.task(task).check_name(check);
                format!("    skip check `{name}`: `{program}` is not on PATH")
            }
            Event::RunFinished { .. } => {
                let up_to_date = if self.up_to_date > 0 {
                    format!(", {} up to date", self.up_to_date)
                } else {
                    String::new()
                };
                format!(
                    "{} would run{up_to_date}; nothing was run (dry run)",
                    crate::words::plural(self.would_run, "task")
                )
            }
            _ => return,
        };
        if !text.is_empty() {
            // A closed stdout (`| head`) just ends the listing early.
            let _ = writeln!(self.out, "{}", self.masker.mask(&text));
        }
    }
}
