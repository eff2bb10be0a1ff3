//! Run records: `.orchestra/runs/<id>/state.json`, one per build, so a
//! build skipped by a lock, a concurrent build or a crash never overwrites
//! another build's record.
//!
//! Ids are small increasing numbers, allocated by creating the run's
//! directory (`mkdir` is atomic: two builds never get the same id). While a
//! build runs it holds an OS lock on `runs/<id>/owner`, so `status` can tell
//! a live run from a dead one and pruning never removes a live run. Records
//! are written atomically (a temporary file renamed over the old one), so a
//! crash at any moment leaves a whole old or new file. The newest
//! [`KEEP_RUNS`] records are kept; older ones are pruned when a build ends.
//!
//! While a build runs, what happens to its tasks is appended to
//! `runs/<id>/tasks.jsonl`, one compact line per task that started or was
//! skipped, in batches; the whole record (`state.json`) is written when the
//! build starts and once more when it ends or is interrupted, and the
//! journal is then removed. A reader takes `state.json` and replays the
//! journal over it, so a build killed mid-way (whose journal may end in a
//! torn line, passed over) is read as far as it got. Tasks found up to
//! date are counted, not listed: a no-op build of 20,000 tasks writes two
//! small files.
//!
//! A record carries a version; a missing, unreadable or older one is
//! passed over (with a note when it exists but cannot be read).

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Workspace;
use super::fs;

/// Bump when the shape changes; older records are then ignored.
pub(crate) const STATE_VERSION: u32 = 3;

/// How many run records are kept (the newest; live runs always).
pub(crate) const KEEP_RUNS: usize = 20;

const RUNS: &str = "runs";
const STATE: &str = "state.json";
const JOURNAL: &str = "tasks.jsonl";
const OWNER: &str = "owner";

/// How a task ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    /// Skipped because its fingerprint matched the last success.
    UpToDate,
    Failed,
    TimedOut,
    /// Not run: something it needs failed, or the run stopped first.
    Skipped,
    /// Not run: another build held its lock (its milestone's, or its own).
    Locked,
    Interrupted,
}

impl TaskStatus {
    /// Whether the task's work is done and need not run again on resume.
    pub(crate) fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::UpToDate)
    }

    /// Whether the run that recorded it settled the task one way or the
    /// other: it ran (to any end, or was killed while `running`) or was
    /// found up to date. Skipped, locked and pending tasks say nothing
    /// about the task's work, so an older run's record of it stands.
    pub(crate) fn is_decisive(self) -> bool {
        matches!(
            self,
            Self::Succeeded
                | Self::UpToDate
                | Self::Failed
                | Self::TimedOut
                | Self::Interrupted
                | Self::Running
        )
    }
}

/// One task's record in a run record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    pub(crate) status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<i32>,
    #[serde(default)]
    pub(crate) attempts: u32,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_ms: Option<u64>,
    /// The milestone the task belongs to, for `orchestra status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) milestone: Option<String>,
}

impl TaskRecord {
    pub(crate) fn pending() -> Self {
        Self {
            status: TaskStatus::Pending,
            exit_code: None,
            attempts: 0,
            started_at: None,
            duration_ms: None,
            milestone: None,
        }
    }
}

/// One build's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunState {
    pub(crate) version: u32,
    /// The run's number in this project.
    pub(crate) id: u64,
    /// The process that ran it.
    pub(crate) pid: u32,
    /// What was selected, as [`crate::compile::Selection::key`] writes it,
    /// so `--resume` only continues the same build.
    pub(crate) selection: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) started_at: u64,
    /// `false` while running and after an interrupted or killed run.
    pub(crate) finished: bool,
    #[serde(default)]
    pub(crate) success: bool,
    /// The run this one resumed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resumed: Option<u64>,
    /// How many tasks the build selected.
    #[serde(default)]
    pub(crate) selected: u64,
    /// How many were found up to date (they are not in `tasks`), and of
    /// those, how many in each milestone.
    #[serde(default)]
    pub(crate) up_to_date: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) up_to_date_in: BTreeMap<String, u64>,
    /// The tasks that started or were skipped; the rest of the selection
    /// was up to date or never reached.
    pub(crate) tasks: BTreeMap<String, TaskRecord>,
}

/// One line of a run's journal: a task's record, by address.
#[derive(Serialize)]
struct EntryOut<'a> {
    task: &'a str,
    #[serde(flatten)]
    record: &'a TaskRecord,
}

#[derive(Deserialize)]
struct EntryIn {
    task: String,
    #[serde(flatten)]
    record: TaskRecord,
}

impl RunState {
    pub(crate) fn new(id: u64, selection: String, started_at: u64) -> Self {
        Self {
            version: STATE_VERSION,
            id,
            pid: std::process::id(),
            selection,
            started_at,
            finished: false,
            success: false,
            resumed: None,
            selected: 0,
            up_to_date: 0,
            up_to_date_in: BTreeMap::new(),
            tasks: BTreeMap::new(),
        }
    }

    /// Whether this run did the whole selection: it finished and every
    /// task is done (none failed, was interrupted or was locked away).
    pub(crate) fn complete(&self) -> bool {
        self.finished && self.success && self.tasks.values().all(|t| t.status.is_done())
    }
}

/// What `--resume` continues: the work of the runs of one selection since
/// its last complete run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resumable {
    /// Each task's record from the newest of those runs that settled it,
    /// and the ids of the runs that settled any, newest first.
    Continue {
        tasks: BTreeMap<String, TaskRecord>,
        runs: Vec<u64>,
    },
    /// The newest run of the selection did all of it.
    Complete(u64),
    /// No run of the selection was recorded (or none is readable).
    NoRun,
}

/// A run record on disk and whether its build still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) state: RunState,
    pub(crate) live: bool,
}

/// The record of the build in progress: its directory and the OS lock on
/// its `owner` file, held until this is dropped.
#[derive(Debug)]
pub(crate) struct RunRecord {
    workspace: Workspace,
    pub(crate) id: u64,
    dir: PathBuf,
    _owner: File,
}

impl RunRecord {
    /// Saves `state` atomically; `sync` also flushes it to disk. A final
    /// state (`journal_done`) holds every journal entry, so the journal
    /// goes.
    pub(crate) fn save(&self, state: &RunState, sync: bool, journal_done: bool) -> io::Result<()> {
        let bytes = self.workspace.masked_json(state, true);
        fs::write_atomic(&self.dir, STATE, &bytes, sync)?;
        if journal_done {
            match std::fs::remove_file(self.dir.join(JOURNAL)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds the journal line for `record` of task `address` to `into`.
    pub(crate) fn entry(&self, address: &str, record: &TaskRecord, into: &mut Vec<u8>) {
        let entry = EntryOut {
            task: address,
            record,
        };
        into.extend(self.workspace.masked_json(&entry, false));
        into.push(b'\n');
    }

    /// Appends journal lines (made by [`RunRecord::entry`]); `sync` also
    /// flushes them to disk.
    pub(crate) fn append(&self, lines: &[u8], sync: bool) -> io::Result<()> {
        let (mut file, _) = fs::open_append(&self.dir.join(JOURNAL))?;
        std::io::Write::write_all(&mut file, lines)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }
}

impl Workspace {
    /// Starts a new run record with the next free id.
    pub(crate) fn begin_run(&self) -> io::Result<RunRecord> {
        // Under the guard: `clean` removes runs under it too, so it never
        // sees this run's directory before its owner lock is taken.
        let _guard = self.guard()?;
        let runs = self.ensure(&[RUNS])?;
        let mut id = self.run_ids().last().map_or(1, |last| last + 1);
        loop {
            let dir = runs.join(id.to_string());
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    let (owner, _) = fs::open_rw(&dir.join(OWNER))?;
                    owner.lock()?;
                    return Ok(RunRecord {
                        workspace: self.clone(),
                        id,
                        dir,
                        _owner: owner,
                    });
                }
                // Another build took this id a moment ago.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => id += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// The ids of recorded runs, ascending.
    fn run_ids(&self) -> Vec<u64> {
        let Some(dir) = self.existing_dir(&[RUNS]) else {
            return Vec::new();
        };
        let mut ids: Vec<u64> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Whether the build that owns run `id` is still running.
    fn is_live(&self, id: u64) -> bool {
        let path = self.path(&[RUNS, &id.to_string(), OWNER]);
        if fs::Kind::of(&path).ok() != Some(fs::Kind::File) {
            return false;
        }
        // Opened read-only: a lock test must not create or change anything.
        let Ok(file) = fs::open_read(&path) else {
            return false;
        };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// The ids of runs whose build still runs (record written or not).
    pub(crate) fn live_runs(&self) -> Vec<u64> {
        self.run_ids()
            .into_iter()
            .filter(|id| self.is_live(*id))
            .collect()
    }

    /// The record of run `id`; a garbled or old one is noted and `None`.
    fn run(&self, id: u64) -> Option<RunState> {
        let name = id.to_string();
        let bytes = self.read(&[RUNS, &name, STATE])?;
        match serde_json::from_slice::<RunState>(&bytes) {
            Ok(mut state) if state.version == STATE_VERSION && state.id == id => {
                // What the build recorded after it; a torn last line (a
                // build killed mid-write) is passed over.
                let journal = self.read(&[RUNS, &name, JOURNAL]).unwrap_or_default();
                for line in journal.split(|b| *b == b'\n') {
                    if let Ok(entry) = serde_json::from_slice::<EntryIn>(line) {
                        state.tasks.insert(entry.task, entry.record);
                    }
                }
                Some(state)
            }
            Ok(_) => None,
            Err(e) => {
                self.note(format!(
                    "ignoring `{}`: not a readable run record ({e})",
                    self.shown(&self.path(&[RUNS, &name, STATE]))
                ));
                None
            }
        }
    }

    /// Readable run records, newest first, at most `limit`.
    pub(crate) fn runs(&self, limit: usize) -> Vec<Listed> {
        self.run_ids()
            .into_iter()
            .rev()
            .filter_map(|id| {
                let state = self.run(id)?;
                Some(Listed {
                    live: self.is_live(id),
                    state,
                })
            })
            .take(limit)
            .collect()
    }

    /// What `--resume` continues for `selection`: walking its runs from the
    /// newest (runs still going are left to their builds) back to its last
    /// complete one, each task's newest decisive record. A build that only
    /// skipped locked milestones settles nothing, so the build it yielded
    /// to is still the one resumed, whatever ran since.
    pub(crate) fn resumable(&self, selection: &str) -> Resumable {
        let mut tasks = BTreeMap::new();
        let mut runs = Vec::new();
        let mut any = false;
        for id in self.run_ids().into_iter().rev() {
            if self.is_live(id) {
                continue;
            }
            let Some(run) = self.run(id).filter(|r| r.selection == selection) else {
                continue;
            };
            if run.complete() {
                if any {
                    break;
                }
                return Resumable::Complete(run.id);
            }
            any = true;
            let mut settled = false;
            for (address, record) in run.tasks {
                if record.status.is_decisive() && !tasks.contains_key(&address) {
                    tasks.insert(address, record);
                    settled = true;
                }
            }
            if settled {
                runs.push(run.id);
            }
        }
        if any {
            Resumable::Continue { tasks, runs }
        } else {
            Resumable::NoRun
        }
    }

    /// Removes all but the newest [`KEEP_RUNS`] records; live runs stay.
    pub(crate) fn prune_runs(&self) -> io::Result<()> {
        let ids = self.run_ids();
        let Some(dir) = self.existing_dir(&[RUNS]) else {
            return Ok(());
        };
        let old = ids.len().saturating_sub(KEEP_RUNS);
        for id in &ids[..old] {
            if !self.is_live(*id) {
                fs::remove(&dir.join(id.to_string()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Masker;

    fn sample(id: u64, n: u32) -> RunState {
        let mut state = RunState::new(id, "ci".into(), 1_700_000_000_000);
        let mut record = TaskRecord::pending();
        record.status = TaskStatus::Succeeded;
        record.attempts = n;
        state.tasks.insert("entities/tag/generate".into(), record);
        state
    }

    #[test]
    fn each_build_gets_its_own_record_and_live_runs_are_known() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let first = ws.begin_run().unwrap();
        let second = ws.begin_run().unwrap();
        assert_eq!((first.id, second.id), (1, 2));
        first.save(&sample(1, 1), false, false).unwrap();
        second.save(&sample(2, 2), true, false).unwrap();
        let listed = ws.runs(10);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].state, sample(2, 2));
        assert!(listed[0].live && listed[1].live);
        assert_eq!(ws.resumable("ci"), Resumable::NoRun, "both still run");
        drop(first);
        // Run 1 finished nothing (`finished` is false): it is continued.
        let Resumable::Continue { tasks, runs } = ws.resumable("ci") else {
            panic!("run 1 is resumable")
        };
        assert_eq!(runs, [1]);
        assert_eq!(tasks.len(), 1);
        assert_eq!(ws.resumable("other"), Resumable::NoRun);
    }

    #[test]
    fn resume_takes_each_tasks_newest_decisive_record_back_to_the_last_complete_run() {
        use TaskStatus::{Failed, Locked, Succeeded};
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let save = |tasks: &[(&str, TaskStatus)], finished: bool, success: bool| {
            let record = ws.begin_run().unwrap();
            let mut state = RunState::new(record.id, "ci".into(), 0);
            state.finished = finished;
            state.success = success;
            for (address, status) in tasks {
                let mut task = TaskRecord::pending();
                task.status = *status;
                state.tasks.insert((*address).to_owned(), task);
            }
            record.save(&state, false, false).unwrap();
        };
        save(
            &[("a", Succeeded), ("b", Succeeded), ("c", Succeeded)],
            true,
            true,
        );
        save(
            &[("a", Succeeded), ("b", Failed), ("c", Succeeded)],
            false,
            false,
        );
        save(
            &[("a", Locked), ("b", Locked), ("c", TaskStatus::Running)],
            true,
            true,
        );
        let Resumable::Continue { tasks, runs } = ws.resumable("ci") else {
            panic!("resumable")
        };
        assert_eq!(runs, [3, 2], "run 3 settled only c");
        assert_eq!(tasks["a"].status, Succeeded);
        assert_eq!(tasks["b"].status, Failed);
        assert_eq!(
            tasks["c"].status,
            TaskStatus::Running,
            "killed while running: not done, whatever run 2 said"
        );
        save(
            &[("a", Succeeded), ("b", Succeeded), ("c", Succeeded)],
            true,
            true,
        );
        assert_eq!(ws.resumable("ci"), Resumable::Complete(4));
    }

    #[test]
    fn the_journal_is_read_over_the_record_and_a_torn_line_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::new(["s3cret\"".to_owned()]));
        let run = ws.begin_run().unwrap();
        let empty = RunState::new(1, "ci".into(), 1);
        run.save(&empty, false, false).unwrap();
        let mut lines = Vec::new();
        let mut record = TaskRecord::pending();
        record.status = TaskStatus::Running;
        run.entry("a", &record, &mut lines);
        record.status = TaskStatus::Succeeded;
        run.entry("a", &record, &mut lines);
        run.entry("b s3cret\"", &record, &mut lines);
        run.append(&lines, true).unwrap();
        // Killed in the middle of a write.
        run.append(b"{\"task\":\"c\",\"sta", false).unwrap();
        let journal = std::fs::read(ws.path(&[RUNS, "1", JOURNAL])).unwrap();
        assert!(!String::from_utf8_lossy(&journal).contains("s3cret"));
        let read = ws.run(1).unwrap();
        assert_eq!(
            read.tasks["a"].status,
            TaskStatus::Succeeded,
            "the later line wins"
        );
        assert!(read.tasks.contains_key("b ****"));
        assert_eq!(read.tasks.len(), 2);
        assert!(ws.take_notes().is_empty(), "a torn line is no surprise");
        // The final record holds everything; the journal goes.
        run.save(&read, false, true).unwrap();
        assert!(!ws.path(&[RUNS, "1", JOURNAL]).exists());
        assert_eq!(ws.run(1).unwrap(), read);
    }

    #[test]
    fn garbled_and_old_records_are_passed_over_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let run = ws.begin_run().unwrap();
        run.save(&sample(1, 1), false, false).unwrap();
        drop(run);
        let path = ws.path(&[RUNS, "1", STATE]);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert!(ws.runs(10).is_empty());
        assert_eq!(ws.take_notes().len(), 1);
        let mut old = sample(1, 1);
        old.version = 1;
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        assert!(ws.runs(10).is_empty());
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_live() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let live = ws.begin_run().unwrap();
        live.save(&sample(1, 1), false, false).unwrap();
        for id in 2..=(KEEP_RUNS as u64 + 5) {
            let run = ws.begin_run().unwrap();
            run.save(&sample(id, 1), false, false).unwrap();
        }
        ws.prune_runs().unwrap();
        let ids = ws.run_ids();
        assert_eq!(ids.len(), KEEP_RUNS + 1);
        assert_eq!(ids[0], 1, "the live run stays");
        assert_eq!(ids[1], 6);
    }
}
