//! The durable record of a build: a [`Reporter`] that keeps the build's own
//! run record (`crate::workspace::runs`) current and appends the run to the
//! history when it ends.
//!
//! Events arrive on the scheduler's thread and must not slow it. A task
//! that starts, ends or is skipped adds one compact line to a buffer (an
//! uncontended lock, no message, no wake-up); a task found up to date only
//! raises a count. A flusher thread appends the buffer to the run's
//! journal every [`SAVE_EVERY`] when it holds something, and flushes it to
//! disk at most once per [`SYNC_EVERY`]. The whole record is written at
//! the start and once at the end (or on interrupt). A `kill -9` loses at
//! most the last [`SAVE_EVERY`] of results, a power cut about the last
//! [`SYNC_EVERY`]: those tasks simply run again on `--resume`.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::plan::{Group, Plan, TaskId};
use crate::run::{Event, Exit, Failure, Reporter, SkipReason, Status, Summary};
use crate::workspace::history::{CheckRun, HISTORY_VERSION, HistoryEntry, TaskRun};
use crate::workspace::runs::{RunRecord, RunState, TaskRecord, TaskStatus};
use crate::workspace::{Workspace, now_millis};

/// The run a resumed build continues, and the records it carries over.
#[derive(Debug, Clone, Default)]
pub(crate) struct Carried {
    pub(crate) run: u64,
    pub(crate) tasks: HashMap<String, TaskRecord>,
}

/// What the recorder and its flusher share: journal lines not yet written,
/// and whether the run is over.
#[derive(Default)]
struct Pending {
    lines: Mutex<(Vec<u8>, bool)>,
    stop: Condvar,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<u8>, bool)> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct StateRecorder {
    workspace: Workspace,
    record: Arc<RunRecord>,
    /// The record as it will be saved at the end.
    state: RunState,
    pending: Arc<Pending>,
    /// `None` when no thread could be started: lines are then appended at once.
    flusher: Option<JoinHandle<io::Result<()>>>,
    /// The records of the run being resumed, carried over for its done tasks.
    previous: HashMap<String, TaskRecord>,
    started: HashMap<TaskId, u64>,
    /// The tasks that ran, for the history line.
    ran: Vec<TaskRun>,
    /// The first error writing state or history, for a warning at the end.
    pub(crate) error: Option<io::Error>,
}

impl StateRecorder {
    /// Starts the record of a run of `plan` in `record`, saved at once so
    /// even a run killed in its first task leaves a readable file.
    /// `resumed`: the run this one continues (if any) and the records of
    /// the tasks it settled, carried over for done tasks.
    pub(crate) fn start(
        plan: &Plan,
        workspace: &Workspace,
        record: RunRecord,
        selection: String,
        resumed: Option<Carried>,
    ) -> Self {
        let mut state = RunState::new(record.id, selection, now_millis());
        state.resumed = resumed.as_ref().map(|c| c.run);
        state.selected = plan.tasks.len() as u64;
        // Not flushed: an empty record is worth no wait on the disk.
        let first = record.save(&state, false, false).err();
        let record = Arc::new(record);
        let pending = Arc::new(Pending::default());
        let flusher = {
            let (record, pending) = (Arc::clone(&record), Arc::clone(&pending));
            thread::Builder::new()
                .name("orchestra-state".into())
                .spawn(move || flush_loop(&record, &pending))
        };
        let (flusher, error) = match flusher {
            Ok(handle) => (Some(handle), first),
            Err(e) => (None, first.or(Some(e))),
        };
        Self {
            workspace: workspace.clone(),
            record,
            state,
            pending,
            flusher,
            previous: resumed.map(|c| c.tasks).unwrap_or_default(),
            started: HashMap::new(),
            ran: Vec::new(),
            error,
        }
    }

    /// Records `record` for task `id`: kept for the final record, and
    /// journaled for the flusher.
    fn keep(&mut self, plan: &Plan, id: TaskId, record: TaskRecord) {
        let address = &plan.task(id).address;
        if self.flusher.is_some() {
            let mut pending = self.pending.lock();
            self.record.entry(address, &record, &mut pending.0);
        } else {
            let mut line = Vec::new();
            self.record.entry(address, &record, &mut line);
            let result = self.record.append(&line, false);
            self.keep_error(result);
        }
        self.state.tasks.insert(address.to_string(), record);
    }

    fn record(&self, plan: &Plan, id: TaskId, status: TaskStatus) -> TaskRecord {
        let mut record = TaskRecord::pending();
        record.status = status;
        record.milestone = milestone(plan, id).map(str::to_owned);
        record.started_at = self.started.get(&id).copied();
        record
    }

    /// Stops the flusher, saves the final record (which replaces the
    /// journal) and appends the history line.
    fn finish(&mut self, summary: &Summary) {
        if let Some(flusher) = self.flusher.take() {
            self.pending.lock().1 = true;
            self.pending.stop.notify_all();
            let result = flusher
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("panicked")));
            self.keep_error(result);
        }
        self.state.finished = !summary.interrupted;
        self.state.success = summary.success();
        // The end is not flushed: the run would wait for it, and an fsync
        // waits for every dirty page of the machine's journal, which took
        // seconds while other builds wrote. The periodic flushes keep a
        // power cut's loss to the last second.
        let result = self.record.save(&self.state, false, true);
        self.keep_error(result);
        let entry = HistoryEntry {
            version: HISTORY_VERSION,
            run_id: self.state.id,
            selection: self.state.selection.clone(),
            started_at: self.state.started_at,
            duration_ms: u64::try_from(summary.duration.as_millis()).unwrap_or(u64::MAX),
            success: summary.success(),
            interrupted: summary.interrupted,
            succeeded: summary.succeeded(),
            failed: summary.failed(),
            skipped: summary.not_run() + summary.resumed() + summary.locked(),
            up_to_date: summary.up_to_date(),
            saved_ms: u64::try_from(summary.saved.as_millis()).unwrap_or(u64::MAX),
            tasks: std::mem::take(&mut self.ran),
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

impl Drop for StateRecorder {
    /// A run that never finished (a panic): the flusher still stops, after
    /// appending what it holds.
    fn drop(&mut self) {
        if let Some(flusher) = self.flusher.take() {
            self.pending.lock().1 = true;
            self.pending.stop.notify_all();
            let _ = flusher.join();
        }
    }
}

fn milestone(plan: &Plan, id: TaskId) -> Option<&str> {
    match plan.task(id).group.as_deref() {
        Some(Group::Milestone(name)) => Some(name),
        _ => None,
    }
}

/// The shortest time between two appends to the journal, so a burst of
/// short tasks costs a few writes, not thousands. A result reaches the
/// file at most this much later.
const SAVE_EVERY: Duration = Duration::from_millis(50);

/// The shortest time between two appends that are also flushed to disk.
/// Flushing is what costs: fsyncing every 50ms doubled the time of a
/// 2,000-task build, as each flush stalls the creation of files. The
/// appends in between survive a crash of orchestra, not a power cut.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The flusher: every [`SAVE_EVERY`], appends what is pending to the
/// journal; at the stop, appends the rest and returns.
fn flush_loop(record: &RunRecord, pending: &Pending) -> io::Result<()> {
    let mut result = Ok(());
    let mut next_sync = Instant::now() + SYNC_EVERY;
    loop {
        let (lines, stopped) = {
            let guard = pending.lock();
            let (mut guard, _) = pending
                .stop
                .wait_timeout_while(guard, SAVE_EVERY, |p| !p.1)
                .unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut guard.0), guard.1)
        };
        if !lines.is_empty() {
            let now = Instant::now();
            let sync = !stopped && now >= next_sync;
            if sync {
                next_sync = now + SYNC_EVERY;
            }
            // Keep going after an error: a later append may work (disk
            // freed). It starts on a line of its own, so a torn line left
            // by the failed one costs only itself.
            let appended = if result.is_err() {
                let mut fresh = Vec::with_capacity(lines.len() + 1);
                fresh.push(b'\n');
                fresh.extend_from_slice(&lines);
                record.append(&fresh, sync)
            } else {
                record.append(&lines, sync)
            };
            if result.is_ok() {
                result = appended;
            }
        }
        if stopped {
            return result;
        }
    }
}

/// What the history keeps of a task that ran.
fn task_run(plan: &Plan, task: TaskId, record: &crate::run::TaskRecord) -> TaskRun {
    TaskRun {
        address: plan.task(task).address.to_string(),
        status: match &record.status {
            Status::Succeeded => "succeeded",
            Status::Failed(Failure::Interrupted) => "interrupted",
            _ => "failed",
        }
        .into(),
        duration_ms: u64::try_from(record.duration.as_millis()).unwrap_or(u64::MAX),
        attempts: record.attempts,
        failed_checks: record.gate.as_ref().map_or_else(Vec::new, |g| {
            g.failures
                .iter()
                .map(|f| CheckRun {
                    check: f.check.clone(),
                    attempt: f.attempt,
                    fixed: f.fixed,
                })
                .collect()
        }),
        flaky: record.gate.as_ref().is_some_and(|g| g.flaky),
        inputs: String::new(),
    }
}

impl Reporter for StateRecorder {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        match *event {
            Event::TaskStarted { task } => {
                self.started.insert(task, now_millis());
                let record = self.record(plan, task, TaskStatus::Running);
                self.keep(plan, task, record);
            }
            Event::TaskUpToDate { task } => {
                // Counted, not listed: see `crate::workspace::runs`.
                self.state.up_to_date += 1;
                if let Some(name) = milestone(plan, task) {
                    // Looked up by reference: a name is copied once per milestone.
                    match self.state.up_to_date_in.get_mut(name) {
                        Some(count) => *count += 1,
                        None => {
                            self.state.up_to_date_in.insert(name.to_owned(), 1);
                        }
                    }
                }
            }
            Event::TaskSkipped { task, reason } => {
                let address = &plan.task(task).address;
                let record = match (reason, self.previous.get(address.as_str())) {
                    // Done before: keep that record, so a later resume skips it too.
                    (SkipReason::Resumed, Some(done)) => done.clone(),
                    (SkipReason::Locked(_), _) => self.record(plan, task, TaskStatus::Locked),
                    _ => self.record(plan, task, TaskStatus::Skipped),
                };
                self.keep(plan, task, record);
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
                // History keeps what ran: a restored task took no time.
                if record.restored.is_none() {
                    self.ran.push(task_run(plan, task, record));
                }
                let mut saved = self.record(plan, task, status);
                saved.exit_code = exit_code;
                saved.attempts = record.attempts;
                saved.duration_ms = u64::try_from(record.duration.as_millis()).ok();
                self.keep(plan, task, saved);
            }
            Event::RunFinished { summary } => {
                let hex: std::collections::HashMap<&str, String> = summary
                    .fingerprints
                    .iter()
                    .map(|(id, hash)| {
                        let short = hash[..8].iter().fold(String::new(), |mut s, b| {
                            let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{b:02x}"));
                            s
                        });
                        (plan.task(*id).address.as_str(), short)
                    })
                    .collect();
                for run in &mut self.ran {
                    if let Some(short) = hex.get(run.address.as_str()) {
                        run.inputs.clone_from(short);
                    }
                }
                // Tasks that never started because the build stopped: in
                // the final record only (it is written next).
                for (task, record) in plan.tasks.iter().zip(&summary.tasks) {
                    if let Status::NotRun(SkipReason::Stopped | SkipReason::DependencyFailed(_)) =
                        record.status
                    {
                        let saved = self.record(plan, task.id, TaskStatus::Skipped);
                        self.state.tasks.insert(task.address.to_string(), saved);
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

/// Every event to each of several reporters (none at all is fine).
pub(crate) struct Fan<'a>(pub Vec<&'a mut dyn Reporter>);

impl Reporter for Fan<'_> {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        for reporter in &mut self.0 {
            reporter.event(plan, event);
        }
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
            restored: None,
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
            saved: Duration::ZERO,
            fingerprints: Vec::new(),
        };
        recorder.event(&plan, &Event::RunFinished { summary: &summary });
        assert!(recorder.error.is_none());
        ws.runs(1).remove(0).state
    }

    #[test]
    fn up_to_date_tasks_are_counted_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let mut fresh = task(0, "M1/fresh", &[]);
        fresh.group = Some(Box::new(Group::Milestone("M1".into())));
        let plan = plan(vec![fresh, task(1, "other", &[]), task(2, "ran", &[])]);
        let record = ws.begin_run().unwrap();
        let mut recorder = StateRecorder::start(&plan, &ws, record, "sel".into(), None);
        for id in [0, 1] {
            recorder.event(&plan, &Event::TaskUpToDate { task: TaskId(id) });
        }
        recorder.event(&plan, &Event::TaskStarted { task: TaskId(2) });
        // Killed now: the journal says `ran` is running.
        let mut killed = ws.runs(1).remove(0).state;
        for _ in 0..100 {
            if killed.tasks.contains_key("ran") {
                break;
            }
            thread::sleep(SAVE_EVERY / 5);
            killed = ws.runs(1).remove(0).state;
        }
        assert_eq!(killed.tasks["ran"].status, TaskStatus::Running);
        let done = finished(Status::Succeeded);
        let ended = Event::TaskFinished {
            task: TaskId(2),
            record: &done,
            output: "",
        };
        recorder.event(&plan, &ended);
        let summary = Summary {
            tasks: vec![finished(Status::UpToDate), finished(Status::UpToDate), done],
            duration: Duration::from_millis(9),
            interrupted: false,
            saved: Duration::ZERO,
            fingerprints: Vec::new(),
        };
        recorder.event(&plan, &Event::RunFinished { summary: &summary });
        let state = ws.runs(1).remove(0).state;
        assert_eq!(state.tasks.keys().collect::<Vec<_>>(), ["ran"]);
        assert_eq!((state.selected, state.up_to_date), (3, 2));
        assert_eq!(state.up_to_date_in["M1"], 1);
        assert!(state.complete());
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
