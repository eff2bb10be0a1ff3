//! `.orchestra/history.jsonl`: one JSON line appended per run, so the past
//! can be read with `tail` or `jq` and a torn last line loses only itself.

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One run, as history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub version: u32,
    pub run_id: String,
    pub selection: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: u64,
    pub duration_ms: u64,
    pub success: bool,
    /// `true` when the run was interrupted (exit 130).
    pub interrupted: bool,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    pub up_to_date: usize,
}

/// Appends one line with a single write, so concurrent runs never mix
/// their lines.
pub fn append(path: &Path, entry: &HistoryEntry) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(&line)
}

/// Every readable entry, oldest first; unreadable lines are passed over.
pub fn read(path: &Path) -> Vec<HistoryEntry> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, success: bool) -> HistoryEntry {
        HistoryEntry {
            version: 1,
            run_id: run.into(),
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
        let path = dir.path().join(".orchestra/history.jsonl");
        append(&path, &entry("a", false)).unwrap();
        append(&path, &entry("b", true)).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        text.push_str("{\"version\":1,\"run_");
        std::fs::write(&path, text).unwrap();
        assert_eq!(read(&path), vec![entry("a", false), entry("b", true)]);
    }
}
