//! `.orchestra/history.jsonl`: one JSON line appended per finished build, so the past
//! can be read with `tail` or `jq` and a torn last line loses only itself.

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
}

const HISTORY: &str = "history.jsonl";

impl Workspace {
    /// Appends one line with a single write, so concurrent runs never mix
    /// their lines. Secrets are masked.
    pub(crate) fn append_history(&self, entry: &HistoryEntry) -> io::Result<()> {
        let dir = self.ensure(&[])?;
        let mut line = self.masked_json(entry, false);
        line.push(b'\n');
        let (mut file, note) = fs::open_append(&dir.join(HISTORY))?;
        if let Some(note) = note {
            self.note(note);
        }
        file.write_all(&line)
    }

    /// Every readable entry, oldest first; unreadable lines are passed over.
    #[cfg(test)]
    pub(crate) fn history(&self) -> Vec<HistoryEntry> {
        let bytes = self.read(&[HISTORY]).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
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
}
