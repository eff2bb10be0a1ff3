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
}

impl<W: Write> DryRun<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            out,
            masker: Masker::default(),
        }
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
            Event::TaskStarted { task } => {
                let task = plan.task(task);
                let mut line = task.address.clone();
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
                let name = plan
                    .task(task)
                    .gate
                    .as_ref()
                    .map_or("", |g| &g.checks[check].name);
                format!("    skip check `{name}`: `{program}` is not on PATH")
            }
            Event::RunFinished { summary } => format!(
                "{} in order; nothing was run (dry run)",
                crate::words::plural(summary.tasks.len(), "task")
            ),
            _ => return,
        };
        if !text.is_empty() {
            // A closed stdout (`| head`) just ends the listing early.
            let _ = writeln!(self.out, "{}", self.masker.mask(&text));
        }
    }
}
