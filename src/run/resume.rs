//! `--resume` and locks, as a [`Decide`] in front of another one (the
//! confirmations).
//!
//! - A task of a milestone that another build holds is skipped as locked
//!   (asked first: a task whose milestone another build holds must not be
//!   touched, even if this one had finished it earlier).
//! - A task done in the run being resumed is skipped as resumed.
//! - When a task is about to start, its [`Claims`] are asked: a milestone
//!   whose lock this build lost refuses the task (it fails, with who took
//!   the lock), and a task outside any milestone that another build is
//!   running right now is skipped as locked.
//! - Everything else is up to the inner decision.
//!
//! What the locks are on disk is the claims' business (the coordinator
//! implements them over the workspace); here is only the policy.

use std::collections::HashSet;

use super::decide::{Decide, Decision};
use super::event::SkipReason;
use crate::plan::{Group, PlanTask};

/// What the locks say about one task about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    Granted,
    /// Another build is running this very task.
    Busy,
    /// This build lost its milestone's lock; the message says to whom.
    Lost(String),
}

/// The locks a build holds or takes, as the decisions see them.
pub(crate) trait Claims {
    /// Whether another build held this milestone's lock when the build began.
    fn milestone_locked(&self, milestone: &str) -> bool;
    /// Asked when `task` is about to start.
    fn claim(&mut self, task: &PlanTask) -> Claim;
    /// `task`, which was granted, has finished.
    fn release(&mut self, task: &PlanTask);
}

/// No locks at all: everything is granted.
impl Claims for () {
    fn milestone_locked(&self, _: &str) -> bool {
        false
    }
    fn claim(&mut self, _: &PlanTask) -> Claim {
        Claim::Granted
    }
    fn release(&mut self, _: &PlanTask) {}
}

impl<T: Claims> Claims for &mut T {
    fn milestone_locked(&self, milestone: &str) -> bool {
        (**self).milestone_locked(milestone)
    }
    fn claim(&mut self, task: &PlanTask) -> Claim {
        (**self).claim(task)
    }
    fn release(&mut self, task: &PlanTask) {
        (**self).release(task);
    }
}

pub(crate) struct Resume<C, D> {
    /// Addresses done (succeeded or up to date) in the run being resumed.
    pub(crate) done: HashSet<String>,
    pub(crate) claims: C,
    pub(crate) inner: D,
}

impl<C: Claims, D: Decide> Decide for Resume<C, D> {
    fn decide(&mut self, task: &PlanTask) -> Decision {
        match self.claims.claim(task) {
            Claim::Granted => {}
            Claim::Busy => return Decision::Skip(SkipReason::Locked(task.id)),
            Claim::Lost(why) => return Decision::Refuse(why),
        }
        let decision = self.inner.decide(task);
        if decision != Decision::Run {
            self.claims.release(task);
        }
        decision
    }

    /// Before the up-to-date check too: a locked milestone's files may be
    /// changing under the other build, and a resumed task is done.
    fn skip(&mut self, task: &PlanTask) -> Option<SkipReason> {
        if let Some(Group::Milestone(name)) = task.group.as_deref()
            && self.claims.milestone_locked(name)
        {
            return Some(SkipReason::Locked(task.id));
        }
        if self.done.contains(task.address.as_str()) {
            return Some(SkipReason::Resumed);
        }
        self.inner.skip(task)
    }

    fn finished(&mut self, task: &PlanTask) {
        self.claims.release(task);
        self.inner.finished(task);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::run::tests::task;

    /// Claims for tests: locked milestones, busy tasks, lost milestones.
    #[derive(Debug, Default)]
    pub(crate) struct FakeClaims {
        pub(crate) locked: HashSet<String>,
        pub(crate) busy: HashSet<String>,
        pub(crate) lost: HashSet<String>,
        pub(crate) released: Vec<String>,
    }

    impl Claims for FakeClaims {
        fn milestone_locked(&self, milestone: &str) -> bool {
            self.locked.contains(milestone)
        }
        fn claim(&mut self, task: &PlanTask) -> Claim {
            if let Some(Group::Milestone(m)) = task.group.as_deref()
                && self.lost.contains(m)
            {
                return Claim::Lost(format!("lost the lock of milestone `{m}`"));
            }
            if self.busy.contains(task.address.as_str()) {
                Claim::Busy
            } else {
                Claim::Granted
            }
        }
        fn release(&mut self, task: &PlanTask) {
            self.released.push(task.address.to_string());
        }
    }

    #[test]
    fn locked_wins_over_done_lost_refuses_and_the_rest_is_asked_inside() {
        let mut milestone = task(0, "M1/build", &[]);
        milestone.group = Some(Box::new(Group::Milestone("M1".into())));
        let plain = task(1, "lint", &[]);
        let mut refused = task(2, "publish", &[]);
        refused.confirm = Some("Publish?".into());
        let mut lost = task(3, "M2/ship", &[]);
        lost.group = Some(Box::new(Group::Milestone("M2".into())));
        let busy = task(4, "gen", &[]);
        let mut resume = Resume {
            done: ["M1/build".to_owned(), "lint".to_owned()].into(),
            claims: FakeClaims {
                locked: ["M1".to_owned()].into(),
                busy: ["gen".to_owned()].into(),
                lost: ["M2".to_owned()].into(),
                released: Vec::new(),
            },
            inner: super::super::decide::Confirm {
                policy: super::super::decide::ConfirmPolicy::Refuse,
            },
        };
        assert_eq!(
            resume.skip(&milestone),
            Some(SkipReason::Locked(milestone.id))
        );
        assert_eq!(resume.skip(&plain), Some(SkipReason::Resumed));
        assert!(matches!(resume.decide(&refused), Decision::Refuse(_)));
        assert_eq!(
            resume.claims.released,
            ["publish"],
            "a refused task lets go"
        );
        assert!(matches!(resume.decide(&lost), Decision::Refuse(m) if m.contains("M2")));
        assert_eq!(
            resume.decide(&busy),
            Decision::Skip(SkipReason::Locked(busy.id))
        );
    }
}
