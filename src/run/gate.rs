//! One gate's walk through its checks: attempts, fixes, check retries,
//! optional checks whose program is missing — as a pure state machine.
//!
//! The rules (docs/language.md): checks run in order; the first failure fails
//! the attempt. A failed check with a `fix` runs it, and the gate starts
//! again from its first check so the fix is verified. That new attempt is
//! free the first time each check's fix runs; `retries` counts failures
//! beyond that. A fix never runs when no attempt is left to verify it: the
//! gate fails and the record names the fix that was available. A failure
//! counts as fixed only when its check passes after the fix. A check's own
//! `retries` reruns just that check before it counts as failed. A fix that
//! itself fails ends the gate. With fixes off (`--no-fix`, CI), no fix runs.

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
    /// Another attempt follows.
    pub(crate) again: bool,
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
    /// Failed attempts counted against the gate's `retries`.
    paid: u32,
    /// Whether fixes may run.
    fixes: bool,
    /// Checks whose fix has run.
    fix_ran: Vec<usize>,
    /// Per failure in the record: whether a fix ran after it.
    failure_fixed_by_run: Vec<bool>,
    /// Failures (by index in the record) whose fix ran and whose check has
    /// not passed since, by check.
    awaiting: Vec<(usize, usize)>,
    record: GateRecord,
}

impl GateRun {
    /// `fixes`: whether checks' fixes may run at all.
    pub(crate) fn new(fixes: bool) -> Self {
        Self {
            position: Position::Check(0),
            check_tries: 0,
            paid: 0,
            fixes,
            fix_ran: Vec::new(),
            failure_fixed_by_run: Vec::new(),
            awaiting: Vec::new(),
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
                // Passing after a failure that no fix followed means the
                // same checks gave a different answer: flaky.
                self.record.flaky = self.failure_fixed_by_run.iter().any(|ran| !ran);
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
                // Verified: the failures this check's fix followed are fixed.
                let record = &mut self.record;
                self.awaiting.retain(|&(check, failure)| {
                    if check == i {
                        record.failures[failure].fixed = true;
                    }
                    check != i
                });
                self.position = Position::Check(i + 1);
                self.check_tries = 0;
                None
            }
            Step::Check(i) => self.check_failed(spec, i),
            Step::Fix(i) if success => {
                let failure = self.record.failures.len() - 1;
                if let Some(ran) = self.failure_fixed_by_run.last_mut() {
                    *ran = true;
                }
                self.awaiting.push((i, failure));
                if !self.fix_ran.contains(&i) {
                    self.fix_ran.push(i);
                }
                // The attempt was decided before the fix ran (see
                // `check_failed`): start it, to verify the fix.
                self.check_tries = 0;
                self.record.attempts += 1;
                self.position = Position::Check(0);
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
        self.failure_fixed_by_run.push(false);
        if self.check_tries < check.retries {
            self.check_tries += 1;
            return None;
        }
        let may_fix = self.fixes && check.fix.is_some();
        let free = may_fix && !self.fix_ran.contains(&i);
        let attempt_left = free || self.paid < spec.retries;
        let fixing = may_fix && attempt_left;
        let failed = AttemptFailed {
            check: i,
            attempt: self.record.attempts,
            fixing,
            again: attempt_left,
        };
        if !attempt_left {
            // No attempt could verify a fix: it does not run in vain.
            if check.fix.is_some() {
                self.record.fix_available = Some(i);
            }
            self.position = Position::Failed(Step::Check(i));
            return Some(failed);
        }
        if !free {
            self.paid += 1;
        }
        if fixing {
            self.position = Position::Fix(i);
        } else {
            if check.fix.is_some() && !self.fixes {
                self.record.fix_available = Some(i);
            }
            self.check_tries = 0;
            self.record.attempts += 1;
            self.position = Position::Check(0);
        }
        Some(failed)
    }
}

/// The program of an optional check when it cannot be found.
fn missing_program(check: &CheckSpec, available: &dyn Fn(&str) -> bool) -> Option<String> {
    if !check.optional {
        return None;
    }
    let program = match &check.command {
        CommandKind::Exec(argv) => argv.first().map(crate::strings::Str::as_str),
        CommandKind::Shell(line) => shell_program(line),
    }?;
    (!available(program)).then(|| program.to_owned())
}
