//! `orchestra clean`: remove what orchestra wrote under `.orchestra/`, and
//! nothing else.
//!
//! A `.orchestra` that is a symlink (a cloned repository could ship
//! `.orchestra -> ..`) or not a directory is refused: nothing is followed
//! and nothing removed. Inside, entries are removed without following
//! links (a link is unlinked, never descended into). What a running build
//! still uses stays: locks it holds (checked under the lock guard, so no
//! build takes a lock between the check and the removal), its run record,
//! its fingerprint journal, and the logs directory it writes into.

use std::io;

use super::fs::{self, Kind};
use super::{DIR, Workspace};

/// What `clean` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Cleaned {
    pub(crate) removed: Vec<String>,
    /// Kept, with why.
    pub(crate) kept: Vec<(String, &'static str)>,
    /// There was no `.orchestra/` at all.
    pub(crate) absent: bool,
}

/// Why `clean` refused to touch `.orchestra`.
#[derive(Debug)]
pub(crate) enum CleanError {
    NotADirectory { shown: String, kind: &'static str },
    Io(io::Error),
}

impl From<io::Error> for CleanError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

const RUNNING: &str = "a running build uses it";

impl Workspace {
    pub(crate) fn clean(&self) -> Result<Cleaned, CleanError> {
        match self.kind()? {
            Kind::Missing => {
                return Ok(Cleaned {
                    absent: true,
                    ..Cleaned::default()
                });
            }
            Kind::Dir => {}
            kind => {
                return Err(CleanError::NotADirectory {
                    shown: DIR.to_owned(),
                    kind: kind.described(),
                });
            }
        }
        let mut cleaned = Cleaned::default();
        let live_runs = !self.live_runs().is_empty();
        let mut names: Vec<String> = std::fs::read_dir(self.path(&[]))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let path = self.path(&[&name]);
            let shown = self.shown(&path);
            let kind = Kind::of(&path)?;
            match (name.as_str(), kind) {
                // Last, below: cleaning runs takes the guard, which lives there.
                ("locks", Kind::Dir) => {}
                ("runs", Kind::Dir) => self.clean_runs(&mut cleaned)?,
                ("fingerprints.d", Kind::Dir) => self.clean_journals(&mut cleaned)?,
                ("logs", Kind::Dir) if live_runs => cleaned.kept.push((shown, RUNNING)),
                _ => {
                    fs::remove(&path)?;
                    cleaned.removed.push(shown);
                }
            }
        }
        if Kind::of(&self.path(&["locks"]))? == Kind::Dir {
            let (removed, kept) = self.clean_locks()?;
            cleaned.removed.extend(removed);
            cleaned.kept.extend(kept.into_iter().map(|k| (k, RUNNING)));
        }
        if cleaned.kept.is_empty() {
            // Leave no empty directory behind when nothing is running.
            let _ = std::fs::remove_dir(self.path(&[]));
        }
        Ok(cleaned)
    }

    fn clean_runs(&self, cleaned: &mut Cleaned) -> io::Result<()> {
        // Under the guard, as builds start their runs under it.
        let _guard = self.guard()?;
        let live = self.live_runs();
        let dir = self.path(&["runs"]);
        for entry in std::fs::read_dir(&dir)?.filter_map(Result::ok) {
            let path = entry.path();
            let id: Option<u64> = entry.file_name().to_str().and_then(|n| n.parse().ok());
            if id.is_some_and(|id| live.contains(&id)) {
                cleaned.kept.push((self.shown(&path), RUNNING));
            } else {
                fs::remove(&path)?;
            }
        }
        if live.is_empty() {
            std::fs::remove_dir(&dir)?;
            cleaned.removed.push(self.shown(&dir));
        }
        Ok(())
    }

    fn clean_journals(&self, cleaned: &mut Cleaned) -> io::Result<()> {
        let dir = self.path(&["fingerprints.d"]);
        let mut any_kept = false;
        for entry in std::fs::read_dir(&dir)?.filter_map(Result::ok) {
            let path = entry.path();
            if super::journal::is_live(&path) {
                cleaned.kept.push((self.shown(&path), RUNNING));
                any_kept = true;
            } else {
                fs::remove(&path)?;
            }
        }
        if !any_kept {
            std::fs::remove_dir(&dir)?;
            cleaned.removed.push(self.shown(&dir));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Masker;
    use std::os::unix::fs::symlink;

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out = vec![dir.to_path_buf()];
        for e in entries.flatten() {
            out.push(e.path());
            out.extend(walk(&e.path()));
        }
        out
    }

    #[test]
    fn a_linked_dot_orchestra_is_refused_and_nothing_outside_is_touched() {
        let parent = tempfile::tempdir().unwrap();
        let project = parent.path().join("p");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(parent.path().join("sibling"), "keep").unwrap();
        symlink("..", project.join(".orchestra")).unwrap();
        let ws = Workspace::new(&project, Masker::default());
        assert!(matches!(
            ws.clean(),
            Err(CleanError::NotADirectory {
                kind: "a symlink",
                ..
            })
        ));
        assert!(parent.path().join("sibling").exists());
        assert!(project.join(".orchestra").exists());
    }

    #[test]
    fn links_inside_are_unlinked_not_followed_and_live_runs_stay() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("precious"), "keep").unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let live = ws.begin_run().unwrap();
        let done = ws.begin_run().unwrap();
        drop(done);
        let logs = ws.logs_dir().unwrap();
        symlink(outside.path(), logs.join("out")).unwrap();
        symlink(outside.path(), ws.path(&["plan-cache"])).unwrap();
        let cleaned = ws.clean().unwrap();
        assert!(outside.path().join("precious").exists());
        assert!(
            cleaned
                .removed
                .contains(&".orchestra/plan-cache".to_owned())
        );
        assert_eq!(
            cleaned.kept,
            [
                (".orchestra/logs".to_owned(), RUNNING),
                (".orchestra/runs/1".to_owned(), RUNNING)
            ]
        );
        drop(live);
        let cleaned = ws.clean().unwrap();
        assert!(cleaned.kept.is_empty());
        let left: Vec<_> = walk(&dir.path().join(".orchestra"));
        assert!(left.is_empty(), "{left:?}");
        assert!(outside.path().join("precious").exists());
    }
}
