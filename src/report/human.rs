//! The human reporter of `orchestra build`: turns run events into the lines
//! of [`super::lines`] and failure reports, and hands them to a [`Screen`] —
//! plain lines ([`super::plain`]) or the progress display
//! ([`super::progress`]). Both say the same things; only the drawing differs.
//! Every line passes through the secrets [`Masker`] on its way out.

use crate::sources::Sources;

use super::github::{self, At};
use super::{failure, lines};
use crate::cli::OutputLogs;
use crate::diagnostic::RenderOptions;
use crate::plan::{Plan, PlanTask, TaskId};
use crate::run::{
    Event, Failure, Reporter, Status, TaskRecord, check_header, command_text, step_command,
};
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
    /// A task that never started counts as done (up to date, or skipped).
    fn task_skipped(&mut self, task: TaskId);
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

/// How many left-out tasks a build names before it counts the rest.
const NAMED: usize = 10;

pub(crate) struct Human<'a, S> {
    screen: S,
    source: &'a Sources,
    render: RenderOptions,
    /// `-v`: output streams live, so it is not repeated when a task ends.
    verbose: bool,
    done: usize,
    total: usize,
    /// Secrets masked in every line, failure reports included.
    masker: Masker,
    /// `--output-logs`: which tasks' output is printed.
    logs: OutputLogs,
}

impl<'a, S: Screen> Human<'a, S> {
    pub(crate) fn new(
        screen: S,
        source: &'a Sources,
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
            logs: OutputLogs::Full,
        }
    }

    /// Prints only these tasks' output (`--output-logs`).
    #[must_use]
    pub(crate) fn output_logs(mut self, logs: OutputLogs) -> Self {
        self.logs = logs;
        self
    }

    /// Output streams live only under `-v` with every task's output shown,
    /// and never under GitHub Actions, whose log groups need a task's
    /// output in one piece.
    fn streams(&self) -> bool {
        self.verbose && self.logs == OutputLogs::Full && !self.render.github
    }

    /// An optional check skipped for want of its program: a line, and under
    /// GitHub Actions a warning at the check's declaration.
    fn check_skipped(&mut self, spec: &PlanTask, check: usize, program: &str) {
        let name = spec.check_name(check);
        let text = lines::check_skipped(&spec.address, name, program);
        self.say(&text);
        if self.render.github {
            let declared = spec.check(check).map_or(spec.declared, |c| c.declared);
            let at = At::of(self.source, declared.offset());
            let note = github::annotation(false, Some(&at), "optional check skipped", &text);
            self.say(&note);
        }
    }

    /// A finished task's output and failure report, in a log group under
    /// GitHub Actions (always closed: it is written whole), then a failure's
    /// annotation at its declaration.
    fn task_output(&mut self, spec: &PlanTask, record: &TaskRecord, output: &str) {
        let mut block = String::new();
        let failure = match &record.status {
            Status::Failed(why) => Some(why),
            _ => None,
        };
        let show_output = match failure {
            None => self.logs == OutputLogs::Full && !self.streams(),
            // An interrupted task's output so far: only in a group, where
            // it does not clutter the interrupt's one line.
            Some(Failure::Interrupted) => self.render.github && self.logs != OutputLogs::None,
            // The report shows the tail itself.
            Some(_) => false,
        };
        if show_output {
            block.push_str(output.trim_end());
        }
        if let Some(why) = failure.filter(|w| !matches!(w, Failure::Interrupted)) {
            let why = if self.logs == OutputLogs::None {
                &without_tail(why)
            } else {
                why
            };
            let report = failure::render(spec, record, why, self.source, self.render);
            if !block.is_empty() {
                block.push('\n');
            }
            block.push_str(report.trim_end());
        }
        if block.trim().is_empty() {
            return;
        }
        if !self.render.github {
            self.say(&block);
            return;
        }
        let word = lines::finished_word(&record.status);
        self.say(&github::group(&format!("{} ({word})", spec.address)));
        self.say(&block);
        self.say(github::END_GROUP);
        if let Some(why) = failure {
            let (title, message) = github::failure_text(spec, why);
            let at = At::of(self.source, github::failure_offset(spec, why));
            self.say(&github::annotation(true, Some(&at), &title, &message));
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
                // `--shard 1/4` of 10,000 tasks leaves 7,500 out: a few
                // are named, the rest counted.
                for left in plan.skipped.iter().take(NAMED) {
                    self.say(&lines::left_out(&left.address, &left.by));
                }
                if plan.skipped.len() > NAMED {
                    let more = plan.skipped.len() - NAMED;
                    self.say(&format!(
                        "… and {more} more left out (`orchestra plan` with the same flags lists them)"
                    ));
                }
                self.screen.run_started(tasks);
            }
            Event::TaskUpToDate { task } => {
                self.done += 1;
                self.screen.task_skipped(task);
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
            Event::Output { task, line } if self.streams() => {
                self.say(&lines::output(address(task), line));
            }
            Event::StepStarted { .. } | Event::Output { .. } => {}
            Event::CheckSkipped {
                task,
                check,
                program,
            } => self.check_skipped(plan.task(task), check, program),
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
                self.screen.task_skipped(task);
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
                self.task_output(spec, record, output);
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

/// A failure as reported without its output (`--output-logs none`).
fn without_tail(failure: &Failure) -> Failure {
    match failure {
        Failure::Command {
            step,
            command,
            exit,
            ..
        } => Failure::Command {
            step: *step,
            command: command.clone(),
            exit: exit.clone(),
            tail: Vec::new(),
        },
        other => other.clone(),
    }
}

fn check_name(plan: &Plan, task: TaskId, check: usize) -> &str {
    plan.task(task).check_name(check)
}
