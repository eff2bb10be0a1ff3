//! The human reporter of `orchestra build`: turns run events into the lines
//! of [`super::lines`] and failure reports, and hands them to a [`Screen`] —
//! plain lines ([`super::plain`]) or the progress display
//! ([`super::progress`]). Both say the same things; only the drawing differs.
//! Every line passes through the secrets [`Masker`] on its way out.

use miette::NamedSource;

use super::{failure, lines};
use crate::diagnostic::RenderOptions;
use crate::plan::{Plan, TaskId};
use crate::run::{Event, Failure, Reporter, Status, check_header, command_text, step_command};
use crate::secrets::Masker;

/// Where human output goes.
pub(crate) trait Screen {
    /// A line (or block) that stays, above any progress display.
    fn line(&mut self, text: &str);
    /// A run of `total` tasks begins.
    fn run_started(&mut self, total: usize);
    /// `done` tasks have ended before this one starts.
    fn task_started(&mut self, task: TaskId, address: &str, done: usize, total: usize);
    /// A started task ended.
    fn task_ended(&mut self, task: TaskId);
    /// A task that never started counts as done (skipped under `-k`).
    fn task_skipped(&mut self);
    /// An interactive task starts: the terminal is its until
    /// [`Screen::take_back`]; lines are held back meanwhile.
    fn hand_over(&mut self) {}
    /// The interactive task ended: the screen is ours again.
    fn take_back(&mut self) {}
    /// Clear anything transient before the last line.
    fn run_finished(&mut self);
    /// The build was interrupted: what moves on the screen stops and goes
    /// (the terminal's own `^C` would otherwise leave a stale line behind).
    fn interrupted(&mut self) {}
}

pub(crate) struct Human<'a, S> {
    screen: S,
    source: &'a NamedSource<String>,
    render: RenderOptions,
    /// `-v`: output streams live, so it is not repeated when a task ends.
    verbose: bool,
    done: usize,
    total: usize,
    /// Secrets masked in every line, failure reports included.
    masker: Masker,
}

impl<'a, S: Screen> Human<'a, S> {
    pub(crate) fn new(
        screen: S,
        source: &'a NamedSource<String>,
        render: RenderOptions,
        verbose: bool,
    ) -> Self {
        Self {
            screen,
            source,
            render,
            verbose,
            done: 0,
            total: 0,
            masker: Masker::default(),
        }
    }

    /// Masks these secrets in everything it shows.
    #[must_use]
    pub(crate) fn masking(mut self, masker: Masker) -> Self {
        self.masker = masker;
        self
    }

    /// A task's status line, its word coloured when colour is on.
    fn say_status(&mut self, text: &str) {
        if self.render.color {
            self.say(&lines::painted(text));
        } else {
            self.say(text);
        }
    }

    fn say(&mut self, text: &str) {
        let text = self.masker.mask(text);
        self.screen.line(&text);
    }
}

impl<S: Screen> Reporter for Human<'_, S> {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        let address = |id: TaskId| plan.task(id).address.as_str();
        match *event {
            Event::RunStarted { tasks, .. } => {
                self.total = tasks;
                for left in &plan.skipped {
                    self.say(&lines::left_out(&left.address, &left.by));
                }
                self.screen.run_started(tasks);
            }
            Event::TaskUpToDate { task } => {
                self.done += 1;
                self.screen.task_skipped();
                // A no-op build of thousands of tasks should say so in one
                // summary line, not thousands; `-v` lists them.
                if self.verbose {
                    let text = lines::up_to_date(self.done, self.total, address(task));
                    self.screen.line(&text);
                }
            }
            Event::Explained { task, reasons } => {
                self.screen.line(&lines::explained(address(task), reasons));
            }
            Event::TaskStarted { task } => {
                self.screen
                    .task_started(task, address(task), self.done, self.total);
                if plan.task(task).interactive {
                    self.screen.hand_over();
                }
            }
            Event::StepStarted { task, step, .. } if self.verbose => {
                let spec = plan.task(task);
                let header = check_header(spec, step)
                    .unwrap_or_else(|| format!("$ {}", command_text(step_command(spec, step))));
                self.say(&lines::output(address(task), &header));
            }
            Event::StepStarted { .. } => {}
            Event::Output { task, line } => self.say(&lines::output(address(task), line)),
            Event::CheckSkipped {
                task,
                check,
                program,
            } => {
                let name = check_name(plan, task, check);
                self.say(&lines::check_skipped(address(task), name, program));
            }
            Event::CheckFailed {
                task,
                check,
                attempt,
                exit,
                fixing,
                again,
            } => {
                let name = check_name(plan, task, check);
                let text = lines::check_failed(address(task), name, attempt, exit, fixing, again);
                self.say(&text);
            }
            Event::Retrying { task, attempt } => {
                let attempts = plan.task(task).retries + 1;
                self.say(&lines::retrying(address(task), attempt, attempts));
            }
            Event::TaskSkipped { task, reason } => {
                self.done += 1;
                self.screen.task_skipped();
                let text = lines::skipped(self.done, self.total, plan, plan.task(task), reason);
                self.say_status(&text);
            }
            Event::TaskFinished {
                task,
                record,
                output,
            } => {
                self.done += 1;
                let spec = plan.task(task);
                if spec.interactive {
                    self.screen.take_back();
                }
                self.screen.task_ended(task);
                self.say_status(&lines::finished(self.done, self.total, spec, record));
                match &record.status {
                    // The interrupt was announced; a report per task adds nothing.
                    Status::Failed(Failure::Interrupted) => {}
                    Status::Failed(why) => {
                        let report = failure::render(spec, record, why, self.source, self.render);
                        self.say(report.trim_end());
                    }
                    _ if !self.verbose && !output.trim().is_empty() => {
                        self.say(output.trim_end());
                    }
                    _ => {}
                }
            }
            Event::Interrupted { hard, running } => {
                self.screen.interrupted();
                self.say(&lines::interrupted(hard, running));
            }
            Event::RunFinished { summary } => {
                self.screen.run_finished();
                self.say(&lines::summary(plan, summary));
            }
        }
    }
}

fn check_name(plan: &Plan, task: TaskId, check: usize) -> &str {
    plan.task(task)
        .gate
        .as_ref()
        .map_or("", |g| g.checks[check].name.as_str())
}
