//! One gate's walk through its checks: attempts, fixes, check retries,
//! optional checks whose program is missing — as a pure state machine.
//!
//! The rules (docs/language.md): checks run in order; the first failure fails
//! the attempt; its `fix` runs; the next attempt starts again from the first
//! check; at most `1 + retries` attempts. A check's own `retries` reruns just
//! that check before it counts as failed. A fix that itself fails ends the
//! gate: no later attempt can succeed against a fix that does not work.

use super::event::{CheckFailure, GateRecord, Step};
use crate::model::{CommandKind, shell_program};
use crate::plan::{CheckSpec, GateSpec};

/// What the gate wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GateNext {
    Run(Step),
    /// This optional check's program is missing: it was skipped; ask again.
    Skipped {
        check: usize,
        program: String,
    },
    Passed,
    /// The gate failed; this step's failure is the one to report.
    Failed(Step),
}

/// Reported when a check failure ends an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttemptFailed {
    pub(crate) check: usize,
    pub(crate) attempt: u32,
    pub(crate) fixing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Check(usize),
    Fix(usize),
    Passed,
    Failed(Step),
}

#[derive(Debug, Clone)]
pub(crate) struct GateRun {
    position: Position,
    /// Reruns of the current check under its own `retries`.
    check_tries: u32,
    record: GateRecord,
}

impl GateRun {
    pub(crate) fn new() -> Self {
        Self {
            position: Position::Check(0),
            check_tries: 0,
            record: GateRecord {
                attempts: 1,
                ..GateRecord::default()
            },
        }
    }

    pub(crate) fn record(&self) -> &GateRecord {
        &self.record
    }

    pub(crate) fn next(&mut self, spec: &GateSpec, available: &dyn Fn(&str) -> bool) -> GateNext {
        match self.position {
            Position::Check(i) if i >= spec.checks.len() => {
                self.position = Position::Passed;
                self.next(spec, available)
            }
            Position::Check(i) => match missing_program(&spec.checks[i], available) {
                Some(program) => {
                    self.position = Position::Check(i + 1);
                    let check = &spec.checks[i].name;
                    // Say so once per gate, not once per attempt.
                    if self.record.skipped.iter().any(|(c, _)| c == check) {
                        return self.next(spec, available);
                    }
                    self.record.skipped.push((check.clone(), program.clone()));
                    GateNext::Skipped { check: i, program }
                }
                None => GateNext::Run(Step::Check(i)),
            },
            Position::Fix(i) => GateNext::Run(Step::Fix(i)),
            Position::Passed => {
                // Passing after any failure that no fix repaired means the
                // same checks gave a different answer: flaky.
                self.record.flaky = self.record.failures.iter().any(|f| !f.fixed);
                GateNext::Passed
            }
            Position::Failed(step) => GateNext::Failed(step),
        }
    }

    /// Takes the result of the step last returned by [`GateRun::next`].
    pub(crate) fn finished(
        &mut self,
        spec: &GateSpec,
        step: Step,
        success: bool,
    ) -> Option<AttemptFailed> {
        match step {
            Step::Check(i) if success => {
                self.position = Position::Check(i + 1);
                self.check_tries = 0;
                None
            }
            Step::Check(i) => self.check_failed(spec, i),
            Step::Fix(i) if success => {
                if let Some(last) = self.record.failures.last_mut() {
                    last.fixed = true;
                }
                self.next_attempt(spec, Step::Check(i));
                None
            }
            Step::Fix(i) => {
                self.position = Position::Failed(Step::Fix(i));
                None
            }
            Step::Command(_) => unreachable!("gates run checks and fixes, not commands"),
        }
    }

    fn check_failed(&mut self, spec: &GateSpec, i: usize) -> Option<AttemptFailed> {
        let check = &spec.checks[i];
        self.record.failures.push(CheckFailure {
            attempt: self.record.attempts,
            check: check.name.clone(),
            fixed: false,
        });
        if self.check_tries < check.retries {
            self.check_tries += 1;
            return None;
        }
        let fixing = check.fix.is_some();
        let failed = AttemptFailed {
            check: i,
            attempt: self.record.attempts,
            fixing,
        };
        if fixing {
            self.position = Position::Fix(i);
        } else {
            self.next_attempt(spec, Step::Check(i));
        }
        Some(failed)
    }

    /// Starts over from the first check, or fails on `blame` when no
    /// attempts are left.
    fn next_attempt(&mut self, spec: &GateSpec, blame: Step) {
        self.check_tries = 0;
        if self.record.attempts <= spec.retries {
            self.record.attempts += 1;
            self.position = Position::Check(0);
        } else {
            self.position = Position::Failed(blame);
        }
    }
}

/// The program of an optional check when it cannot be found.
fn missing_program(check: &CheckSpec, available: &dyn Fn(&str) -> bool) -> Option<String> {
    if !check.optional {
        return None;
    }
    let program = match &check.command {
        CommandKind::Exec(argv) => argv.first().map(String::as_str),
        CommandKind::Shell(line) => shell_program(line),
    }?;
    (!available(program)).then(|| program.to_owned())
}
