//! `--resume` and milestone locks, as a [`Decide`] in front of another one
//! (the confirmations): a task of a milestone that another build holds is
//! skipped as locked, a task done in the interrupted run is skipped as
//! resumed, and everything else is up to the inner decision.
//!
//! Locked is checked first: a task whose milestone another build holds must
//! not be touched, even if this one had finished it earlier.

use std::collections::HashSet;

use super::decide::{Decide, Decision};
use super::event::SkipReason;
use crate::plan::{Group, PlanTask};

pub struct Resume<D> {
    /// Addresses done (succeeded or up to date) in the run being resumed.
    pub done: HashSet<String>,
    /// Milestones whose lock another build holds.
    pub locked: HashSet<String>,
    pub inner: D,
}

impl<D: Decide> Decide for Resume<D> {
    fn decide(&mut self, task: &PlanTask) -> Decision {
        match self.skip(task) {
            Some(reason) => Decision::Skip(reason),
            None => self.inner.decide(task),
        }
    }

    /// Before the up-to-date check too: a locked milestone's files may be
    /// changing under the other build, and a resumed task is done.
    fn skip(&mut self, task: &PlanTask) -> Option<SkipReason> {
        if let Some(Group::Milestone(name)) = &task.group
            && self.locked.contains(name)
        {
            return Some(SkipReason::Locked(task.id));
        }
        if self.done.contains(&task.address) {
            return Some(SkipReason::Resumed);
        }
        self.inner.skip(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::task;

    #[test]
    fn locked_wins_over_done_and_the_rest_is_asked_inside() {
        let mut milestone = task(0, "M1/build", &[]);
        milestone.group = Some(Group::Milestone("M1".into()));
        let plain = task(1, "lint", &[]);
        let mut refused = task(2, "publish", &[]);
        refused.confirm = Some("Publish?".into());
        let mut resume = Resume {
            done: ["M1/build".to_owned(), "lint".to_owned()].into(),
            locked: ["M1".to_owned()].into(),
            inner: super::super::decide::Confirm {
                policy: super::super::decide::ConfirmPolicy::Refuse,
                ask: |_: &str| false,
            },
        };
        assert_eq!(
            resume.decide(&milestone),
            Decision::Skip(SkipReason::Locked(milestone.id))
        );
        assert_eq!(resume.decide(&plain), Decision::Skip(SkipReason::Resumed));
        assert!(matches!(resume.decide(&refused), Decision::Refuse(_)));
    }
}
