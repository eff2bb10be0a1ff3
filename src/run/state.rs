//! `.orchestra/state.json`: the state of the current or last run, rewritten
//! atomically after every task so a crash at any moment leaves a readable
//! file, and `--resume` can continue an unfinished run.
//!
//! The file carries a version; a missing, unreadable or older file loads as
//! `None` ("start over"), never as an error.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Bump when the shape changes; older files are then ignored.
pub const STATE_VERSION: u32 = 1;

/// How a task ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    /// Skipped because its fingerprint matched the last success.
    UpToDate,
    Failed,
    TimedOut,
    /// Not run: something it needs failed, or the run stopped first.
    Skipped,
    Interrupted,
}

impl TaskStatus {
    /// Whether the task's work is done and need not run again on resume.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::UpToDate)
    }
}

/// One task's record in the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub attempts: u32,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The task's fingerprint at its last success (incremental builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The milestone the task belongs to, for `orchestra status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
}

impl TaskRecord {
    pub fn pending() -> Self {
        Self {
            status: TaskStatus::Pending,
            exit_code: None,
            attempts: 0,
            started_at: None,
            duration_ms: None,
            fingerprint: None,
            milestone: None,
        }
    }
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    pub version: u32,
    /// Unique per run: start time and process id.
    pub run_id: String,
    /// What was selected (addresses and flags that shape the plan), so
    /// `--resume` only continues the same build.
    pub selection: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: u64,
    /// `false` while running and after an interrupted or killed run, which
    /// `--resume` may then continue.
    pub finished: bool,
    #[serde(default)]
    pub success: bool,
    pub tasks: BTreeMap<String, TaskRecord>,
}

impl RunState {
    pub fn new(run_id: String, selection: String, started_at: u64) -> Self {
        Self {
            version: STATE_VERSION,
            run_id,
            selection,
            started_at,
            finished: false,
            success: false,
            tasks: BTreeMap::new(),
        }
    }
}

/// Loads the state file; anything but a readable file of this version is
/// `None`.
pub fn load(path: &Path) -> Option<RunState> {
    let bytes = std::fs::read(path).ok()?;
    let state: RunState = serde_json::from_slice(&bytes).ok()?;
    (state.version == STATE_VERSION).then_some(state)
}

/// Writes the state atomically: a temporary file in the same directory is
/// written and fsynced, then renamed over the old file, then the directory
/// is fsynced so the rename itself survives a power cut.
pub fn save(path: &Path, state: &RunState) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    write_atomic(path, &bytes)
}

/// Like [`save`] without the fsyncs: readers (and `--resume` after a
/// crash of orchestra itself) still see a whole old or new file, since the
/// rename is atomic and the data is in the page cache; only a power cut
/// could lose it, and then the forgiving [`load`] means "start over". It
/// costs no disk flush, so it can be done many times a second.
pub fn save_quick(path: &Path, state: &RunState) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    let temp = temp_file(path, &bytes)?;
    temp.persist(path).map(drop).map_err(|e| e.error)
}

/// Replaces `path` with `bytes` so that readers see either the old or the
/// new contents, whole, whatever happens in between.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = write_temp(path, bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_parent(path)
}

/// The first half of [`write_atomic`]: the new contents, durable, beside
/// the target but not yet in its place.
fn write_temp(path: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let temp = temp_file(path, bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// The new contents in a temporary file beside `path`, not yet synced.
fn temp_file(path: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".state-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    Ok(temp)
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u32) -> RunState {
        let mut state = RunState::new(format!("run-{n}"), "ci".into(), 1_700_000_000_000);
        let mut record = TaskRecord::pending();
        record.status = TaskStatus::Succeeded;
        record.attempts = n;
        state.tasks.insert("entities/tag/generate".into(), record);
        state
    }

    #[test]
    fn saves_and_loads_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".orchestra/state.json");
        save(&path, &sample(1)).unwrap();
        assert_eq!(load(&path), Some(sample(1)));
        save(&path, &sample(2)).unwrap();
        assert_eq!(load(&path), Some(sample(2)));
        save_quick(&path, &sample(3)).unwrap();
        assert_eq!(load(&path), Some(sample(3)));
    }

    #[test]
    fn a_crash_between_write_and_rename_leaves_the_old_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        save(&path, &sample(1)).unwrap();
        // The new contents are written and synced, then the process "dies"
        // before the rename: the temporary file is left behind as is.
        let bytes = serde_json::to_vec(&sample(2)).unwrap();
        let temp = write_temp(&path, &bytes).unwrap();
        temp.into_temp_path().keep().unwrap();
        assert_eq!(load(&path), Some(sample(1)));
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(
            leftovers, 2,
            "the old file and the abandoned temporary file"
        );
        // The next save still works and replaces the old file.
        save(&path, &sample(3)).unwrap();
        assert_eq!(load(&path), Some(sample(3)));
    }

    #[test]
    fn missing_corrupt_truncated_or_old_files_mean_start_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(load(&path), None);
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(load(&path), None);
        let full = serde_json::to_vec(&sample(1)).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert_eq!(load(&path), None);
        let mut old = sample(1);
        old.version = 0;
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        assert_eq!(load(&path), None);
    }
}
