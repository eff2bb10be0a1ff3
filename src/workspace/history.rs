//! `.orchestra/history.jsonl`: one JSON line appended per finished build, so the past
//! can be read with `tail` or `jq` and a torn last line loses only itself.
//!
//! Version 4 (the versions before it followed the run record's) adds each task that ran (`tasks`): its outcome, duration,
//! attempts and gate checks that failed, for `orchestra report`, the ETA
//! and `--shard`. Older lines still read, without tasks.
//!
//! Bounded: once the file passes [`ROTATE_AT`] bytes it becomes
//! `history.1.jsonl` (replacing the one before) and a new file starts, so
//! history holds between one and two files' worth of the latest runs.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{Workspace, fs};

/// One run, as history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HistoryEntry {
    pub(crate) version: u32,
    pub(crate) run_id: u64,
    pub(crate) selection: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) started_at: u64,
    pub(crate) duration_ms: u64,
    pub(crate) success: bool,
    /// `true` when the run was interrupted (exit 130).
    pub(crate) interrupted: bool,
    pub(crate) succeeded: usize,
    pub(crate) failed: usize,
    pub(crate) skipped: usize,
    pub(crate) up_to_date: usize,
    /// What the up-to-date tasks took at their last success (version 4).
    #[serde(default)]
    pub(crate) saved_ms: u64,
    /// Every task that ran (version 4; empty in older lines).
    #[serde(default)]
    pub(crate) tasks: Vec<TaskRun>,
}

/// One task that ran in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskRun {
    pub(crate) address: String,
    /// `succeeded`, `failed` or `interrupted`.
    pub(crate) status: String,
    pub(crate) duration_ms: u64,
    pub(crate) attempts: u32,
    /// Gate checks that failed an attempt, and whether their fix ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) failed_checks: Vec<CheckRun>,
    /// A gate that passed only after a retry no fix explains.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) flaky: bool,
    /// The start of the fingerprint it ran with (hex): two runs with the
    /// same one had the same commands, env and inputs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) inputs: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckRun {
    pub(crate) check: String,
    pub(crate) attempt: u32,
    pub(crate) fixed: bool,
}

/// The version of the lines written now.
pub(crate) const HISTORY_VERSION: u32 = 4;

/// Past this size the history file is rotated.
pub(crate) const ROTATE_AT: u64 = 4 * 1024 * 1024;

const HISTORY: &str = "history.jsonl";
const ROTATED: &str = "history.1.jsonl";

impl Workspace {
    /// Appends one line with a single write, so concurrent runs never mix
    /// their lines. Secrets are masked.
    pub(crate) fn append_history(&self, entry: &HistoryEntry) -> io::Result<()> {
        let dir = self.ensure(&[])?;
        let mut line = self.masked_json(entry, false);
        line.push(b'\n');
        let current = dir.join(HISTORY);
        if std::fs::symlink_metadata(&current).is_ok_and(|m| m.is_file() && m.len() > ROTATE_AT) {
            // Two builds may both rotate: the second renames a small file
            // over the first's rotation, losing at most one file's worth.
            std::fs::rename(&current, dir.join(ROTATED))?;
        }
        let (mut file, note) = fs::open_append(&dir.join(HISTORY))?;
        if let Some(note) = note {
            self.note(note);
        }
        file.write_all(&line)
    }

    /// Every readable entry, oldest first, the rotated file's first;
    /// unreadable lines (a torn last line, a newer version's) are passed over.
    pub(crate) fn history(&self) -> Vec<HistoryEntry> {
        let mut out = Vec::new();
        for name in [ROTATED, HISTORY] {
            let bytes = self.read(&[name]).unwrap_or_default();
            out.extend(
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|line| serde_json::from_str::<HistoryEntry>(line).ok())
                    .filter(|e| e.version <= HISTORY_VERSION),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: u64, success: bool) -> HistoryEntry {
        HistoryEntry {
            version: 1,
            run_id: run,
            selection: "ci".into(),
            started_at: 1,
            duration_ms: 2,
            success,
            interrupted: false,
            succeeded: 3,
            failed: usize::from(!success),
            skipped: 0,
            up_to_date: 0,
            saved_ms: 0,
            tasks: Vec::new(),
        }
    }

    #[test]
    fn appends_one_line_per_run_and_skips_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), crate::secrets::Masker::default());
        let path = dir.path().join(".orchestra/history.jsonl");
        ws.append_history(&entry(1, false)).unwrap();
        ws.append_history(&entry(2, true)).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        text.push_str("{\"version\":1,\"run_");
        std::fs::write(&path, text).unwrap();
        assert_eq!(ws.history(), vec![entry(1, false), entry(2, true)]);
    }

    #[test]
    fn a_large_file_is_rotated_and_both_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), crate::secrets::Masker::default());
        ws.append_history(&entry(1, true)).unwrap();
        let path = dir.path().join(".orchestra/history.jsonl");
        // Pad the file past the limit with a line no reader takes.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&"x".repeat(usize::try_from(ROTATE_AT).unwrap()));
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        ws.append_history(&entry(2, true)).unwrap();
        assert!(dir.path().join(".orchestra/history.1.jsonl").is_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert_eq!(ws.history(), vec![entry(1, true), entry(2, true)]);
    }
}
