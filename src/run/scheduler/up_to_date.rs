//! The scheduler's side of incrementality: skipping a ready task that is
//! up to date — on the scheduler's own thread, taking no `-j` slot, so a
//! no-op build of thousands of tasks never hands work to another thread —
//! restoring one from the output cache instead of running it (once it is
//! decided to run, so its locks are held), and failing
//! a task whose declared outputs were not produced.

use super::super::Restored;
use super::super::event::{Event, Failure, Status, TaskRecord};
use super::{Scheduler, State};
use crate::freshness::{Reason, Verdict};
use crate::plan::{PlanTask, TaskId};

impl Scheduler<'_> {
    /// Asks the up-to-date check about a ready task; when it may be
    /// skipped, records it as up to date and releases its dependents.
    pub(super) fn up_to_date(&mut self, id: TaskId) -> bool {
        if self.out_of_date[id.index()] {
            return false;
        }
        let task = self.plan.task(id);
        let ran: Vec<String> = task
            .needs
            .iter()
            .filter(|n| match &self.state[n.index()] {
                State::UpToDate => false,
                State::Done(record) => record.status != Status::UpToDate,
                State::Waiting | State::Running(_) => true,
            })
            .map(|n| self.plan.task(*n).address.to_string())
            .collect();
        let verdict = self.freshness.check(self.plan, task, &ran);
        if let Verdict::CutOff(reason) = &verdict
            && self.freshness.explains()
        {
            let event = Event::Explained {
                task: id,
                reasons: std::slice::from_ref(reason),
            };
            self.reporter.event(self.plan, &event);
        }
        match verdict {
            Verdict::UpToDate | Verdict::CutOff(_) => {
                self.freshness.succeeded(task, std::time::Duration::ZERO);
                self.state[id.index()] = State::UpToDate;
                self.reporter
                    .event(self.plan, &Event::TaskUpToDate { task: id });
                self.release_dependents(id);
                true
            }
            Verdict::Run(reasons) => {
                self.out_of_date[id.index()] = true;
                if self.freshness.explains() {
                    let event = Event::Explained {
                        task: id,
                        reasons: &reasons,
                    };
                    self.reporter.event(self.plan, &event);
                }
                // What its gate rejected is not restored: it runs again.
                self.restorable[id.index()] =
                    !reasons.iter().any(|r| matches!(r, Reason::GateFailed(_)));
                false
            }
        }
    }

    /// Restores a task that is about to start (it was decided to run: its
    /// locks are held) from the output cache, if it is there; then it
    /// finishes as a success that took no slot, its log replayed.
    pub(super) fn restore(&mut self, id: TaskId) -> bool {
        let task = self.plan.task(id);
        let restored = self
            .freshness
            .key(task)
            .filter(|_| self.restorable[id.index()])
            .and_then(|fingerprint| self.cache.restore(task, &fingerprint));
        match restored {
            Some(restored) => {
                self.restored(id, restored);
                true
            }
            None => false,
        }
    }

    fn restored(&mut self, id: TaskId, restored: Restored) {
        let task = self.plan.task(id);
        self.freshness.succeeded(task, std::time::Duration::ZERO);
        self.decide.finished(task);
        let record = TaskRecord {
            status: Status::Succeeded,
            attempts: 0,
            duration: std::time::Duration::ZERO,
            gate: None,
            log: None,
            restored: Some(restored.from),
        };
        let event = Event::TaskFinished {
            task: id,
            record: &record,
            output: &restored.log,
        };
        self.reporter.event(self.plan, &event);
        self.state[id.index()] = State::Done(Box::new(record));
        self.release_dependents(id);
    }

    /// After a task's commands succeed: every declared output must exist.
    /// Only real builds check; a dry run's commands never produce anything.
    pub(super) fn outputs_produced(&mut self, task: &PlanTask) -> Result<(), Failure> {
        if task.outputs.is_empty() {
            return Ok(());
        }
        let missing = self.freshness.outputs_missing(task);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Failure::OutputsMissing(missing))
        }
    }
}
