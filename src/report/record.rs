//! The durable record of a build: a [`Reporter`] that keeps the build's own
//! run record (`crate::workspace::runs`) current after every task and
//! appends the run to the history when it ends.
//!
//! Events arrive on the scheduler's thread and must not slow it: each one
//! becomes a small message to a writer thread that owns the [`RunState`].
//! The writer saves (atomically: a temporary file renamed over the old one)
//! as soon as something changed, but at most once per [`SAVE_EVERY`],
//! gathering whatever arrives meanwhile: a burst of short tasks costs a few
//! saves instead of thousands, and a long task never leaves an earlier
//! result unsaved. At most once per [`SYNC_EVERY`], a save is also flushed
//! to disk in the background. A `kill -9` loses at most
//! the last [`SAVE_EVERY`] of results, a power cut about the last
//! [`SYNC_EVERY`]: those tasks simply run again on `--resume`.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::plan::{Group, Plan, TaskId};
use crate::run::{Event, Exit, Failure, Reporter, SkipReason, Status, Summary};
use crate::workspace::history::HistoryEntry;
use crate::workspace::runs::{RunRecord, RunState, STATE_VERSION, TaskRecord, TaskStatus};
use crate::workspace::{Workspace, now_millis};

enum Message {
    Task(String, TaskRecord),
    /// The run ended; an interrupted run stays unfinished, for `--resume`.
    Finish {
        success: bool,
        interrupted: bool,
    },
}

/// The run a resumed build continues, and the records it carries over.
#[derive(Debug, Clone, Default)]
pub(crate) struct Carried {
    pub(crate) run: u64,
    pub(crate) tasks: HashMap<String, TaskRecord>,
}

pub(crate) struct StateRecorder {
    workspace: Workspace,
    sender: Option<Sender<Message>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    /// The records of the run being resumed, carried over for its done tasks.
    previous: HashMap<String, TaskRecord>,
    started: HashMap<TaskId, u64>,
    run_id: u64,
    selection: String,
    started_at: u64,
    /// The first error writing state or history, for a warning at the end.
    pub(crate) error: Option<io::Error>,
}

impl StateRecorder {
    /// Starts the record of a run of `plan` in `record`: every task
    /// pending, saved at once so even a run killed in its first task leaves
    /// a readable file. `resumed`: the run this one continues (if any) and
    /// the records of the tasks it settled, carried over for done tasks.
    pub(crate) fn start(
        plan: &Plan,
        workspace: &Workspace,
        record: RunRecord,
        selection: String,
        resumed: Option<Carried>,
    ) -> Self {
        let started_at = now_millis();
        let run_id = record.id;
        let mut initial = RunState::new(run_id, selection.clone(), started_at);
        initial.resumed = resumed.as_ref().map(|c| c.run);
        for task in &plan.tasks {
            let mut record = TaskRecord::pending();
            record.milestone = milestone(plan, task.id);
            initial.tasks.insert(task.address.clone(), record);
        }
        // Not flushed: every task pending is worth no wait on the disk.
        let first = record.save(&initial, false).err();
        let (sender, receiver) = mpsc::channel();
        let writer = thread::Builder::new()
            .name("orchestra-state".into())
            .spawn(move || write_loop(&record, initial, &receiver));
        let (writer, error) = match writer {
            Ok(handle) => (Some(handle), first),
            Err(e) => (None, Some(e)),
        };
        Self {
            workspace: workspace.clone(),
            sender: writer.as_ref().map(|_| sender),
            writer,
            previous: resumed.map(|c| c.tasks).unwrap_or_default(),
            started: HashMap::new(),
            run_id,
            selection,
            started_at,
            error,
        }
    }

    fn send(&mut self, message: Message) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(message);
        }
    }

    fn record(&self, plan: &Plan, id: TaskId, status: TaskStatus) -> TaskRecord {
        let mut record = TaskRecord::pending();
        record.status = status;
        record.milestone = milestone(plan, id);
        record.started_at = self.started.get(&id).copied();
        record
    }

    /// Saves the final state and waits for it; appends the history line.
    fn finish(&mut self, summary: &Summary) {
        self.send(Message::Finish {
            success: summary.success(),
            interrupted: summary.interrupted,
        });
        self.sender = None;
        if let Some(writer) = self.writer.take() {
            let result = writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("panicked")));
            self.keep_error(result);
        }
        let entry = HistoryEntry {
            version: STATE_VERSION,
            run_id: self.run_id,
            selection: self.selection.clone(),
            started_at: self.started_at,
            duration_ms: u64::try_from(summary.duration.as_millis()).unwrap_or(u64::MAX),
            success: summary.success(),
            interrupted: summary.interrupted,
            succeeded: summary.succeeded(),
            failed: summary.failed(),
            skipped: summary.not_run() + summary.resumed() + summary.locked(),
            up_to_date: summary.up_to_date(),
        };
        let result = self.workspace.append_history(&entry);
        self.keep_error(result);
        let result = self.workspace.prune_runs();
        self.keep_error(result);
    }

    fn keep_error(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

fn milestone(plan: &Plan, id: TaskId) -> Option<String> {
    match &plan.task(id).group {
        Some(Group::Milestone(name)) => Some(name.clone()),
        _ => None,
    }
}

/// The shortest time between two saves, so a burst of short tasks costs a
/// few saves, not thousands (a 2,000-task build of `true` saved about 3,000
/// times without it). A result reaches the file at most this much later.
const SAVE_EVERY: Duration = Duration::from_millis(50);

/// The shortest time between two saves that are also flushed to disk
/// (fsync of the file and its directory). Flushing is what costs: on this
/// kind of machine, fsyncing every 50ms doubled the time of a 2,000-task
/// build, as each flush stalls the creation of task logs. The saves in
/// between survive a crash of orchestra, not a power cut.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The writer thread: gather what arrives until the next save is due,
/// save, repeat until `Finish`, which is saved at once.
fn write_loop(
    record: &RunRecord,
    mut state: RunState,
    receiver: &Receiver<Message>,
) -> io::Result<()> {
    let mut result = Ok(());
    let mut next_save = Instant::now();
    let mut next_sync = Instant::now() + SYNC_EVERY;
    while let Ok(first) = receiver.recv() {
        let mut finished = apply(&mut state, first);
        while !finished {
            let wait = next_save.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(wait) {
                Ok(message) => finished = apply(&mut state, message),
                // Due, or every sender is gone: save what we have.
                Err(_) => break,
            }
        }
        // Keep going after an error: a later save may work (disk freed).
        let now = Instant::now();
        // The end is not flushed either: the run would wait for it, and an
        // fsync waits for every dirty page of the machine's journal, which
        // took seconds while other builds wrote. The periodic flushes keep a
        // power cut's loss to the last second.
        let saved = if !finished && now >= next_sync {
            next_sync = now + SYNC_EVERY;
            record.save(&state, true)
        } else {
            record.save(&state, false)
        };
        next_save = now + SAVE_EVERY;
        if result.is_ok() {
            result = saved;
        }
        if finished {
            break;
        }
    }
    result
}

/// Applies one message; true for `Finish`.
fn apply(state: &mut RunState, message: Message) -> bool {
    match message {
        Message::Task(address, record) => {
            state.tasks.insert(address, record);
            false
        }
        Message::Finish {
            success,
            interrupted,
        } => {
            state.finished = !interrupted;
            state.success = success;
            true
        }
    }
}

impl Reporter for StateRecorder {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        match *event {
            Event::TaskStarted { task } => {
                self.started.insert(task, now_millis());
                let record = self.record(plan, task, TaskStatus::Running);
                self.send(Message::Task(plan.task(task).address.clone(), record));
            }
            Event::TaskUpToDate { task } => {
                let record = self.record(plan, task, TaskStatus::UpToDate);
                self.send(Message::Task(plan.task(task).address.clone(), record));
            }
            Event::TaskSkipped { task, reason } => {
                let address = &plan.task(task).address;
                let record = match (reason, self.previous.get(address)) {
                    // Done before: keep that record, so a later resume skips it too.
                    (SkipReason::Resumed, Some(done)) => done.clone(),
                    (SkipReason::Locked(_), _) => self.record(plan, task, TaskStatus::Locked),
                    _ => self.record(plan, task, TaskStatus::Skipped),
                };
                self.send(Message::Task(address.clone(), record));
            }
            Event::TaskFinished { task, record, .. } => {
                let (status, exit_code) = match &record.status {
                    Status::Succeeded => (TaskStatus::Succeeded, Some(0)),
                    Status::UpToDate => (TaskStatus::UpToDate, None),
                    Status::Failed(Failure::Interrupted) => (TaskStatus::Interrupted, None),
                    Status::Failed(Failure::Command { exit, .. }) => match exit {
                        Exit::TimedOut(_) => (TaskStatus::TimedOut, None),
                        Exit::Code(code) => (TaskStatus::Failed, Some(*code)),
                        _ => (TaskStatus::Failed, None),
                    },
                    Status::Failed(Failure::Refused(_) | Failure::OutputsMissing(_)) => {
                        (TaskStatus::Failed, None)
                    }
                    Status::NotRun(_) => (TaskStatus::Skipped, None),
                };
                let mut saved = self.record(plan, task, status);
                saved.exit_code = exit_code;
                saved.attempts = record.attempts;
                saved.duration_ms = u64::try_from(record.duration.as_millis()).ok();
                self.send(Message::Task(plan.task(task).address.clone(), saved));
            }
            Event::RunFinished { summary } => {
                // Tasks that never started because the build stopped.
                for (task, record) in plan.tasks.iter().zip(&summary.tasks) {
                    if let Status::NotRun(SkipReason::Stopped | SkipReason::DependencyFailed(_)) =
                        record.status
                    {
                        let saved = self.record(plan, task.id, TaskStatus::Skipped);
                        self.send(Message::Task(task.address.clone(), saved));
                    }
                }
                self.finish(summary);
            }
            _ => {}
        }
    }
}

/// Sends every event to two reporters: the screen and the record.
pub(crate) struct Tee<'a>(pub &'a mut dyn Reporter, pub &'a mut dyn Reporter);

impl Reporter for Tee<'_> {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        self.0.event(plan, event);
        self.1.event(plan, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{plan, task};
    use crate::run::TaskRecord as Record;
    use crate::secrets::Masker;

    fn finished(status: Status) -> Record {
        Record {
            status,
            attempts: 1,
            duration: Duration::from_millis(3),
            gate: None,
            log: None,
        }
    }

    /// Feeds the recorder a run in which `a` ends with `a_status` and `b`
    /// succeeds, and returns the run record as saved.
    fn record_a_run(ws: &Workspace, a: Status, previous: Option<RunState>) -> RunState {
        let plan = plan(vec![task(0, "a", &[]), task(1, "b", &[0])]);
        let record = ws.begin_run().unwrap();
        let resumed = previous.map(|p| Carried {
            run: p.id,
            tasks: p.tasks.into_iter().collect(),
        });
        let mut recorder = StateRecorder::start(&plan, ws, record, "sel".into(), resumed);
        let mut records = Vec::new();
        for (id, status) in [(0, a), (1, Status::Succeeded)] {
            let id = TaskId(id);
            if let Status::NotRun(reason) = status {
                recorder.event(&plan, &Event::TaskSkipped { task: id, reason });
                records.push(finished(status));
                continue;
            }
            recorder.event(&plan, &Event::TaskStarted { task: id });
            let done = finished(status);
            recorder.event(
                &plan,
                &Event::TaskFinished {
                    task: id,
                    record: &done,
                    output: "",
                },
            );
            records.push(done);
        }
        let summary = Summary {
            tasks: records,
            duration: Duration::from_millis(9),
            interrupted: false,
        };
        recorder.event(&plan, &Event::RunFinished { summary: &summary });
        assert!(recorder.error.is_none());
        ws.runs(1).remove(0).state
    }

    #[test]
    fn the_record_follows_the_run_and_carries_resumed_tasks_over() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let failed = Status::Failed(Failure::Refused("no".into()));
        let first = record_a_run(&ws, failed, None);
        assert!(first.finished && !first.success);
        assert_eq!(first.tasks["a"].status, TaskStatus::Failed);
        let first_ok = record_a_run(&ws, Status::Succeeded, None);
        let second = record_a_run(
            &ws,
            Status::NotRun(SkipReason::Resumed),
            Some(first_ok.clone()),
        );
        assert_eq!(second.resumed, Some(first_ok.id));
        assert_eq!(
            second.tasks["a"], first_ok.tasks["a"],
            "carried over for the next resume"
        );
        let history = ws.history();
        assert_eq!(history.len(), 3);
        assert!(!history[0].success && history[2].success);
        assert_eq!(
            history.iter().map(|h| h.run_id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }
}
