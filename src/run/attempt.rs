//! One started task's walk through its work: its `run` lines in order, its
//! `retries`, then its gate ([`GateRun`]). A pure state machine; the
//! scheduler feeds it results and runs what it asks for.

use super::event::{Exit, Failure, GateRecord, Step};
use super::gate::{AttemptFailed, GateNext, GateRun};
use crate::plan::{Cmd, PlanTask};

/// A command as a user would type it (one definition, in `plan::describe`).
pub(crate) use crate::plan::describe::command_line as command_text;

/// What the task wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Run(Step),
    /// An optional check was skipped (program missing); ask again.
    Skipped {
        check: usize,
        program: String,
    },
    Done(Result<(), Failure>),
}

/// Worth an event, reported by [`TaskRun::finished`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    CheckFailed(AttemptFailed),
    /// The commands failed and start over; `attempt` is the new attempt.
    Retrying {
        attempt: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Command(usize),
    Gate,
    Done,
}

#[derive(Debug)]
pub(crate) struct TaskRun {
    position: Position,
    /// Attempt of the commands, from 1.
    attempt: u32,
    gate: Option<GateRun>,
    /// Everything the task printed, across attempts.
    pub(crate) output: String,
    failure: Option<Failure>,
}

impl TaskRun {
    /// `fixes`: whether gate checks' fixes may run.
    pub(crate) fn new(task: &PlanTask, fixes: bool) -> Self {
        Self {
            position: Position::Command(0),
            attempt: 1,
            gate: task.gate.as_ref().map(|_| GateRun::new(fixes)),
            output: String::new(),
            failure: None,
        }
    }

    /// Attempts so far: of the commands, or of the gate for a gate-only task.
    pub(crate) fn attempts(&self, task: &PlanTask) -> u32 {
        match &self.gate {
            Some(gate) if task.commands.is_empty() => gate.record().attempts,
            _ => self.attempt,
        }
    }

    /// The attempt a step belongs to, for events.
    pub(crate) fn attempt_of(&self, step: Step) -> u32 {
        match (step, &self.gate) {
            (Step::Check(_) | Step::Fix(_), Some(gate)) => gate.record().attempts,
            _ => self.attempt,
        }
    }

    pub(crate) fn gate_record(&self) -> Option<&GateRecord> {
        self.gate.as_ref().map(GateRun::record)
    }

    pub(crate) fn next(&mut self, task: &PlanTask, available: &dyn Fn(&str) -> bool) -> Action {
        match self.position {
            Position::Command(i) if i < task.commands.len() => Action::Run(Step::Command(i)),
            Position::Command(_) => {
                self.position = Position::Gate;
                self.next(task, available)
            }
            Position::Gate => match (&mut self.gate, &task.gate) {
                (Some(run), Some(spec)) => match run.next(spec, available) {
                    GateNext::Run(step) => Action::Run(step),
                    GateNext::Skipped { check, program } => Action::Skipped { check, program },
                    GateNext::Passed => {
                        self.failure = None;
                        self.done()
                    }
                    GateNext::Failed(_) => self.done(),
                },
                _ => self.done(),
            },
            Position::Done => Action::Done(self.failure.clone().map_or(Ok(()), Err)),
        }
    }

    fn done(&mut self) -> Action {
        self.position = Position::Done;
        Action::Done(self.failure.clone().map_or(Ok(()), Err))
    }

    /// Takes the result of the step last returned by [`TaskRun::next`].
    pub(crate) fn finished(
        &mut self,
        task: &PlanTask,
        step: Step,
        exit: Exit,
        output: &str,
    ) -> Option<Notice> {
        // A gate's output is labelled check by check, as its log is.
        let header = check_header(task, step);
        if let Some(header) = &header {
            self.output.push_str(header);
            self.output.push('\n');
        }
        self.output.push_str(output);
        let success = exit.is_success();
        let failure = (!success).then(|| Failure::Command {
            step,
            command: command_text(step_command(task, step)),
            exit,
            tail: header
                .into_iter()
                .chain(tail(output, Failure::TAIL))
                .collect(),
        });
        match step {
            Step::Command(i) if success => {
                self.position = Position::Command(i + 1);
                None
            }
            Step::Command(_) if self.attempt <= task.retries => {
                self.attempt += 1;
                self.position = Position::Command(0);
                Some(Notice::Retrying {
                    attempt: self.attempt,
                })
            }
            Step::Command(_) => {
                self.failure = failure;
                self.position = Position::Done;
                None
            }
            Step::Check(_) | Step::Fix(_) => {
                let (Some(run), Some(spec)) = (&mut self.gate, &task.gate) else {
                    unreachable!("a check ran for a task without a gate")
                };
                // Keep the latest failure: if the gate ends failed, it is the
                // one that ended it (the last check, or the fix that broke);
                // if it passes, `next` forgets it.
                if failure.is_some() {
                    self.failure = failure;
                }
                run.finished(spec, step, success).map(Notice::CheckFailed)
            }
        }
    }
}

/// The command a step runs.
pub(crate) fn step_command(task: &PlanTask, step: Step) -> &Cmd {
    let check = |i: usize| &task.gate.as_ref().expect("checks belong to a gate").checks[i];
    match step {
        Step::Command(i) => &task.commands[i],
        Step::Check(i) => &check(i).command,
        Step::Fix(i) => check(i).fix.as_ref().expect("a fix step has a fix"),
    }
}

/// `── verify › lint: ruff check .` (`… › lint (fix): ruff check --fix .`):
/// the header of a gate check's or fix's output; `None` for a command.
pub(crate) fn check_header(task: &PlanTask, step: Step) -> Option<String> {
    let gate = task.gate.as_ref()?;
    let (i, fix) = match step {
        Step::Command(_) => return None,
        Step::Check(i) => (i, ""),
        Step::Fix(i) => (i, " (fix)"),
    };
    let check = &gate.checks[i].name;
    let command = command_text(step_command(task, step));
    Some(format!("── {} › {check}{fix}: {command}", gate.name))
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}
