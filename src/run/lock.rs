//! Milestone locks: `.orchestra/locks/<milestone>`, so two builds started at
//! once never build the same milestone.
//!
//! A lock is an OS file lock (`flock`) on that file, plus the holder's pid,
//! host and start time written inside for people and for `lock-timeout`.
//! The OS drops the lock when its process dies, `kill -9` included, so a
//! dead holder's file is simply taken over. A live holder older than
//! `lock-timeout` is stale too: its file is unlinked and a new one locked.
//! Every acquire, takeover and release happens under a short-lived guard
//! lock on `locks/.guard`, so two processes can never both take over.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub milestone: String,
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
}

impl LockInfo {
    /// This process, now.
    pub fn current(milestone: &str, now: u64) -> Self {
        Self {
            milestone: milestone.into(),
            pid: std::process::id(),
            host: hostname(),
            started_at: now,
        }
    }
}

/// The machine's name, for lock files read by people.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A held milestone lock; released (file removed, lock dropped) on drop.
#[derive(Debug)]
pub struct MilestoneLock {
    dir: PathBuf,
    path: PathBuf,
    file: Option<File>,
    /// The previous holder when this lock was taken over from a stale one.
    pub took_over: Option<LockInfo>,
}

/// The outcome of trying to take a lock.
#[derive(Debug)]
pub enum Acquire {
    Acquired(MilestoneLock),
    /// Another live process holds it (its info, if readable).
    Held(Option<LockInfo>),
}

fn lock_path(dir: &Path, milestone: &str) -> PathBuf {
    dir.join(milestone)
}

/// Takes the directory guard (blocking; held for microseconds by others).
fn guard(dir: &Path) -> io::Result<File> {
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".guard"))?;
    file.lock()?;
    Ok(file)
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_info(file: &mut File, info: &LockInfo) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(&serde_json::to_vec(info).map_err(io::Error::other)?)?;
    file.sync_all()
}

/// Tries once to take the lock of `milestone` in `dir`. A holder whose
/// `started_at` is older than `stale_after` (measured against `now`,
/// seconds since the epoch) is taken over.
pub fn try_acquire(
    dir: &Path,
    milestone: &str,
    stale_after: Option<Duration>,
    now: u64,
) -> io::Result<Acquire> {
    let _guard = guard(dir)?;
    let path = lock_path(dir, milestone);
    let mut file = open(&path)?;
    let took_over = match file.try_lock() {
        // Whoever wrote this file is gone (the OS dropped its lock).
        Ok(()) => read_info(&mut file),
        Err(TryLockError::WouldBlock) => {
            let holder = read_info(&mut file);
            let stale = match (&holder, stale_after) {
                (Some(info), Some(limit)) => now.saturating_sub(info.started_at) > limit.as_secs(),
                _ => false,
            };
            if !stale {
                return Ok(Acquire::Held(holder));
            }
            // The holder still runs but is past `lock-timeout`: unlink its
            // file (it keeps its lock on the old inode) and lock a new one.
            std::fs::remove_file(&path)?;
            file = open(&path)?;
            file.try_lock().map_err(io::Error::from)?;
            holder
        }
        Err(TryLockError::Error(e)) => return Err(e),
    };
    write_info(&mut file, &LockInfo::current(milestone, now))?;
    Ok(Acquire::Acquired(MilestoneLock {
        dir: dir.to_path_buf(),
        path,
        file: Some(file),
        took_over,
    }))
}

impl MilestoneLock {
    /// Releases the lock: removes the file, then drops the OS lock.
    pub fn release(mut self) -> io::Result<()> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> io::Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let _guard = guard(&self.dir)?;
        // Remove only our own file: after a takeover by another process the
        // path may hold theirs.
        let ours = match (file.metadata(), std::fs::metadata(&self.path)) {
            (Ok(a), Ok(b)) => same_file(&a, &b),
            _ => false,
        };
        if ours {
            std::fs::remove_file(&self.path)?;
        }
        drop(file);
        Ok(())
    }
}

impl Drop for MilestoneLock {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// A lock file found on disk, and whether a live process holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    pub milestone: String,
    pub info: Option<LockInfo>,
    pub held: bool,
}

/// Every lock file in `dir`, sorted by milestone.
pub fn list(dir: &Path) -> io::Result<Vec<LockStatus>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let _guard = guard(dir)?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let mut file = open(&entry.path())?;
        let held = matches!(file.try_lock(), Err(TryLockError::WouldBlock));
        out.push(LockStatus {
            milestone: name,
            info: read_info(&mut file),
            held,
        });
    }
    out.sort_by(|a, b| a.milestone.cmp(&b.milestone));
    Ok(out)
}

/// Removes the lock files of `milestones` (all when empty), held or not:
/// `orchestra unlock` is the person overriding. Returns what was removed.
pub fn remove(dir: &Path, milestones: &[String]) -> io::Result<Vec<LockStatus>> {
    let found = list(dir)?;
    let _guard = guard(dir)?;
    let mut removed = Vec::new();
    for status in found {
        if milestones.is_empty() || milestones.contains(&status.milestone) {
            std::fs::remove_file(lock_path(dir, &status.milestone))?;
            removed.push(status);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acquired(a: Acquire) -> MilestoneLock {
        match a {
            Acquire::Acquired(lock) => lock,
            Acquire::Held(info) => panic!("expected to acquire, held by {info:?}"),
        }
    }

    #[test]
    fn a_held_lock_blocks_others_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquired(try_acquire(dir.path(), "M1", None, 100).unwrap());
        match try_acquire(dir.path(), "M1", None, 101).unwrap() {
            Acquire::Held(Some(info)) => {
                assert_eq!(info.pid, std::process::id());
                assert_eq!(info.started_at, 100);
                assert_eq!(info.milestone, "M1");
            }
            other => panic!("expected held, got {other:?}"),
        }
        // Other milestones are independent.
        let other = acquired(try_acquire(dir.path(), "M2", None, 101).unwrap());
        other.release().unwrap();
        first.release().unwrap();
        assert!(!dir.path().join("M1").exists(), "release removes the file");
        acquired(try_acquire(dir.path(), "M1", None, 102).unwrap());
    }

    #[test]
    fn a_dead_holders_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // A file left by a process that died: nobody holds the OS lock.
        let dead = LockInfo {
            milestone: "M1".into(),
            pid: 999_999,
            host: "gone".into(),
            started_at: 5,
        };
        std::fs::write(dir.path().join("M1"), serde_json::to_vec(&dead).unwrap()).unwrap();
        let lock = acquired(try_acquire(dir.path(), "M1", None, 10).unwrap());
        assert_eq!(lock.took_over, Some(dead));
    }

    #[test]
    fn a_live_holder_older_than_the_timeout_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let old = acquired(try_acquire(dir.path(), "M1", None, 100).unwrap());
        let limit = Some(Duration::from_mins(1));
        assert!(matches!(
            try_acquire(dir.path(), "M1", limit, 150).unwrap(),
            Acquire::Held(_)
        ));
        let new = acquired(try_acquire(dir.path(), "M1", limit, 200).unwrap());
        assert_eq!(new.took_over.as_ref().map(|i| i.started_at), Some(100));
        // The old holder's release must not remove the new holder's file.
        old.release().unwrap();
        assert!(dir.path().join("M1").exists());
        assert!(matches!(
            try_acquire(dir.path(), "M1", limit, 201).unwrap(),
            Acquire::Held(_)
        ));
        drop(new);
        assert!(!dir.path().join("M1").exists(), "drop releases too");
    }

    #[test]
    fn list_and_remove_report_holders() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquired(try_acquire(dir.path(), "A", None, 1).unwrap());
        std::fs::write(dir.path().join("B"), b"garbage").unwrap();
        let found = list(dir.path()).unwrap();
        assert_eq!(found.len(), 2);
        assert!(found[0].held && found[0].info.is_some());
        assert!(!found[1].held && found[1].info.is_none());
        let removed = remove(dir.path(), &["B".to_owned()]).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(list(dir.path()).unwrap().len(), 1);
        drop(held);
        assert!(list(dir.path()).unwrap().is_empty());
    }
}
