//! The "should this task run?" decision taken just before a task starts.
//!
//! It answers confirmations (`confirm="…"`) here, and `--resume` and
//! milestone locks in [`super::resume`]. Up-to-date checks are asked
//! earlier, before a task takes a slot (`incremental.rs`), so a skipped
//! task is never confirmed.
//! Asking a person is I/O and takes a person's time, so the question is
//! handed back to the scheduler, which puts it through an [`super::Asker`]
//! (implemented in `crate::report`) while other work goes on; the policy
//! lives here and is tested without a terminal.

use super::event::SkipReason;
use crate::plan::PlanTask;

/// The answer for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Run,
    /// Fail the task without running it, for this reason.
    Refuse(String),
    /// Ask a person this question first (without holding up other work);
    /// run the task if they agree.
    Ask(String),
    /// Do not run it: done already (its dependents may start) or locked by
    /// another build (its dependents are skipped too).
    Skip(SkipReason),
}

pub(crate) trait Decide {
    fn decide(&mut self, task: &PlanTask) -> Decision;
    /// Asked first, as soon as a task is ready, before its up-to-date check:
    /// a task that is skipped for this reason is not even looked at.
    fn skip(&mut self, _task: &PlanTask) -> Option<SkipReason> {
        None
    }
    /// The task that was decided to run has finished (whatever its outcome).
    fn finished(&mut self, _task: &PlanTask) {}
}

/// Approves everything: a dry run asks nobody.
impl Decide for () {
    fn decide(&mut self, _: &PlanTask) -> Decision {
        Decision::Run
    }
}

/// How confirmations are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfirmPolicy {
    /// `--yes`: approve every confirmation.
    Approve,
    /// A terminal is attached: ask.
    Ask,
    /// No terminal and no `--yes`: fail instead of hanging.
    Refuse,
}

/// Answers `confirm` tasks by `policy`. Under [`ConfirmPolicy::Ask`] the
/// question is handed back ([`Decision::Ask`]) for the scheduler to put to
/// a person while other work goes on.
pub(crate) struct Confirm {
    pub(crate) policy: ConfirmPolicy,
}

impl Decide for Confirm {
    fn decide(&mut self, task: &PlanTask) -> Decision {
        let Some(message) = &task.confirm else {
            return Decision::Run;
        };
        match self.policy {
            ConfirmPolicy::Approve => Decision::Run,
            ConfirmPolicy::Ask => Decision::Ask(message.clone()),
            ConfirmPolicy::Refuse => Decision::Refuse(format!(
                "needs confirmation (\"{message}\") but there is no terminal to ask on; pass `--yes` to approve"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::task;

    #[test]
    fn confirmations_follow_the_policy() {
        let plain = task(0, "build", &[]);
        let mut publish = task(1, "publish", &[]);
        publish.confirm = Some("Publish?".into());
        let mut ask = Confirm {
            policy: ConfirmPolicy::Ask,
        };
        assert_eq!(ask.decide(&plain), Decision::Run);
        assert_eq!(ask.decide(&publish), Decision::Ask("Publish?".into()));
        let mut yes = Confirm {
            policy: ConfirmPolicy::Approve,
        };
        assert_eq!(yes.decide(&publish), Decision::Run);
        let mut no_terminal = Confirm {
            policy: ConfirmPolicy::Refuse,
        };
        let Decision::Refuse(why) = no_terminal.decide(&publish) else {
            panic!("refused")
        };
        assert!(why.contains("--yes"), "{why}");
        assert_eq!(no_terminal.decide(&plain), Decision::Run);
    }
}
