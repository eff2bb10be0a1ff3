//! Locks: `.orchestra/locks/<milestone>` keeps two builds off one
//! milestone; `.orchestra/locks/.tasks/<task>` keeps two builds from running
//! one task outside any milestone at the same time.
//!
//! A lock is an OS file lock (`flock`) on that file, plus the holder's pid,
//! host, start time and heartbeat written inside. The OS drops the lock when
//! its process dies, `kill -9` included, so a dead holder's file is simply
//! taken over. While a build runs, a [`Heartbeat`] rewrites the time in each
//! of its milestone locks; a live holder whose heartbeat is older than
//! `lock-timeout` is stale (hung, or on a machine that lost the shared
//! disk), and its file is unlinked and a new one locked. The old holder
//! notices at its next heartbeat that the file is no longer its own and
//! reports the milestone lost, so it starts nothing more there.
//!
//! Every acquire, takeover, release, `clean` and `unlock` happens under a
//! short-lived guard lock on `locks/.guard`, so none of them can interleave.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Workspace, decode_name, encode_name, fs, now_millis};

const LOCKS: &str = "locks";
const TASKS: &str = ".tasks";
const GUARD: &str = ".guard";

/// What a lock protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scope {
    Milestone,
    /// One task outside any milestone.
    Task,
}

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockInfo {
    /// The milestone, or the task's address (`milestone` in files written
    /// before task locks existed).
    #[serde(alias = "milestone")]
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) host: String,
    /// Seconds since the Unix epoch.
    pub(crate) started_at: u64,
    /// When the holder last said it is alive (milliseconds since the
    /// epoch, so a `lock-timeout` under a second still means something).
    #[serde(default)]
    pub(crate) heartbeat_ms: u64,
}

impl LockInfo {
    /// This process, now (`now_ms`: milliseconds since the epoch).
    fn current(name: &str, now_ms: u64) -> Self {
        Self {
            name: name.into(),
            pid: std::process::id(),
            host: hostname(),
            started_at: now_ms / 1000,
            heartbeat_ms: now_ms,
        }
    }

    /// The last sign of life in milliseconds: the heartbeat, or the start
    /// for files written without one.
    pub(crate) fn last_seen_ms(&self) -> u64 {
        self.heartbeat_ms.max(self.started_at.saturating_mul(1000))
    }
}

/// The machine's name, for lock files read by people (read once).
pub(crate) fn hostname() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into())
    })
    .clone()
}

/// A held lock; released (file removed, lock dropped) on drop.
#[derive(Debug)]
pub(crate) struct HeldLock {
    workspace: Workspace,
    scope: Scope,
    path: PathBuf,
    file: Option<File>,
    info: LockInfo,
    /// The previous holder when this lock was taken over from a stale one.
    pub(crate) took_over: Option<LockInfo>,
}

/// The outcome of trying to take a lock.
#[derive(Debug)]
pub(crate) enum Acquire {
    Acquired(HeldLock),
    /// Another live process holds it (its info, if readable).
    Held(Option<LockInfo>),
}

/// What a heartbeat found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Beat {
    Ours,
    /// The file is no longer ours: taken over (by this holder, if known)
    /// or removed by `orchestra unlock` or `clean`.
    Lost(Option<LockInfo>),
}

/// Holds the guard lock while alive.
pub(super) struct Guard(#[allow(dead_code)] File);

/// Whether `file` is still the file at `path` (not removed or replaced).
pub(super) fn still_at(file: &File, path: &std::path::Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => same_file(&a, &b),
        _ => false,
    }
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_info(file: &mut File, info: &LockInfo) -> io::Result<()> {
    let bytes = serde_json::to_vec(info).map_err(io::Error::other)?;
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(&bytes)
}

/// Writes `info` at the start of the file, padded with spaces to a fixed
/// width (JSON ignores them), so a lock file reused build after build needs
/// one `pwrite` and no truncation.
fn write_info_padded(file: &File, info: &LockInfo) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    const WIDTH: usize = 256;
    let mut bytes = serde_json::to_vec(info).map_err(io::Error::other)?;
    if bytes.len() < WIDTH {
        bytes.resize(WIDTH, b' ');
        file.write_all_at(&bytes, 0)
    } else {
        file.write_all_at(&bytes, 0)?;
        file.set_len(bytes.len() as u64)
    }
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// A lock file found on disk, and whether a live process holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockStatus {
    pub(crate) scope: Scope,
    pub(crate) name: String,
    pub(crate) info: Option<LockInfo>,
    pub(crate) held: bool,
}

impl Workspace {
    fn lock_path(&self, scope: Scope, name: &str) -> PathBuf {
        match scope {
            Scope::Milestone => self.path(&[LOCKS, &encode_name(name)]),
            Scope::Task => self.path(&[LOCKS, TASKS, &encode_name(name)]),
        }
    }

    /// Takes the guard (blocking; others hold it for microseconds). After
    /// locking, the file must still be the one at its path: `clean` may
    /// remove it while holding it, and a lock on a removed file guards
    /// nothing.
    pub(super) fn guard(&self) -> io::Result<Guard> {
        loop {
            let dir = self.ensure(&[LOCKS])?;
            let path = dir.join(GUARD);
            let (file, note) = fs::open_rw(&path)?;
            if let Some(note) = note {
                self.note(note);
            }
            file.lock()?;
            if still_at(&file, &path) {
                return Ok(Guard(file));
            }
        }
    }

    /// Tries once to take the lock of the task at `address`, as cheaply as
    /// a build of thousands of tasks needs: no guard. Its file is kept
    /// after release (one `open` and `flock` per task, no create or
    /// unlink); after locking, the file must still be the one at its path,
    /// or `clean` removed it meanwhile and the lock is taken again.
    pub(crate) fn try_task_lock(&self, address: &str, now_ms: u64) -> io::Result<Acquire> {
        let path = self.lock_path(Scope::Task, address);
        // `status` and `clean` test a task lock by taking it for a moment:
        // a few quick retries tell that from a build running the task.
        let mut tests_left = 3;
        loop {
            let (mut file, meta) = match fs::open_rw_quick(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.ensure(&[LOCKS, TASKS])?;
                    fs::open_rw_quick(&path)?
                }
                Err(_) => {
                    // Something else stands there (a link, a directory).
                    let (file, note) = fs::open_rw(&path)?;
                    if let Some(note) = note {
                        self.note(note);
                    }
                    let meta = file.metadata()?;
                    (file, meta)
                }
                Ok(opened) => opened,
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) if tests_left > 0 => {
                    tests_left -= 1;
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(TryLockError::WouldBlock) => return Ok(Acquire::Held(read_info(&mut file))),
                Err(TryLockError::Error(e)) => return Err(e),
            }
            let still_there =
                std::fs::symlink_metadata(&path).is_ok_and(|now| same_file(&meta, &now));
            if !still_there {
                continue;
            }
            let info = LockInfo::current(address, now_ms);
            write_info_padded(&file, &info)?;
            return Ok(Acquire::Acquired(HeldLock {
                workspace: self.clone(),
                scope: Scope::Task,
                path,
                file: Some(file),
                info,
                took_over: None,
            }));
        }
    }

    /// Tries once to take the lock of milestone `name`. A holder whose last
    /// heartbeat is older than `stale_after` (against `now_ms`,
    /// milliseconds since the epoch) is taken over.
    pub(crate) fn try_lock(
        &self,
        name: &str,
        stale_after: Option<Duration>,
        now_ms: u64,
    ) -> io::Result<Acquire> {
        let scope = Scope::Milestone;
        let _guard = self.guard()?;
        let path = self.lock_path(scope, name);
        let (mut file, note) = fs::open_rw(&path)?;
        if let Some(note) = note {
            self.note(note);
        }
        let took_over = match file.try_lock() {
            // Whoever wrote this file is gone (the OS dropped its lock).
            Ok(()) => read_info(&mut file),
            Err(TryLockError::WouldBlock) => {
                let holder = read_info(&mut file);
                let stale = match (&holder, stale_after) {
                    (Some(info), Some(limit)) => {
                        u128::from(now_ms.saturating_sub(info.last_seen_ms())) > limit.as_millis()
                    }
                    _ => false,
                };
                if !stale {
                    return Ok(Acquire::Held(holder));
                }
                // The holder still runs but has not beaten within
                // `lock-timeout`: unlink its file (it keeps its lock on the
                // old inode and notices at its next heartbeat) and lock a
                // new one.
                std::fs::remove_file(&path)?;
                file = fs::open_rw(&path)?.0;
                file.try_lock().map_err(io::Error::from)?;
                holder
            }
            Err(TryLockError::Error(e)) => return Err(e),
        };
        let info = LockInfo::current(name, now_ms);
        write_info(&mut file, &info)?;
        Ok(Acquire::Acquired(HeldLock {
            workspace: self.clone(),
            scope,
            path,
            file: Some(file),
            info,
            took_over,
        }))
    }

    /// Every lock file, milestones then tasks, each sorted by name.
    pub(crate) fn locks(&self) -> io::Result<Vec<LockStatus>> {
        if self.existing_dir(&[LOCKS]).is_none() {
            return Ok(Vec::new());
        }
        let _guard = self.guard()?;
        Ok(self.locks_unguarded())
    }

    fn locks_unguarded(&self) -> Vec<LockStatus> {
        let mut out = Vec::new();
        for (scope, parts) in [
            (Scope::Milestone, &[LOCKS][..]),
            (Scope::Task, &[LOCKS, TASKS][..]),
        ] {
            let Some(dir) = self.existing_dir(parts) else {
                continue;
            };
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut found = Vec::new();
            for entry in entries.flatten() {
                let file_name = entry.file_name().to_string_lossy().into_owned();
                if file_name.starts_with('.') {
                    continue;
                }
                let path = entry.path();
                if fs::Kind::of(&path).ok() != Some(fs::Kind::File) {
                    continue;
                }
                let Ok(mut file) = fs::open_read(&path) else {
                    continue;
                };
                let held = matches!(file.try_lock(), Err(TryLockError::WouldBlock));
                if scope == Scope::Task && !held {
                    // Task lock files stay between builds; only a held one says anything.
                    continue;
                }
                found.push(LockStatus {
                    scope,
                    name: decode_name(&file_name),
                    info: read_info(&mut file),
                    held,
                });
            }
            found.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(found);
        }
        out
    }

    /// Removes the milestone locks `names` (all locks when empty), held or
    /// not: `orchestra unlock` is the person overriding. Under the guard,
    /// so no build takes or releases one meanwhile.
    pub(crate) fn unlock(&self, names: &[String]) -> io::Result<Vec<LockStatus>> {
        if self.existing_dir(&[LOCKS]).is_none() {
            return Ok(Vec::new());
        }
        let _guard = self.guard()?;
        let mut removed = Vec::new();
        for status in self.locks_unguarded() {
            let asked = names.is_empty()
                || (status.scope == Scope::Milestone && names.contains(&status.name));
            if asked {
                fs::remove(&self.lock_path(status.scope, &status.name))?;
                removed.push(status);
            }
        }
        Ok(removed)
    }

    /// Removes every lock file nobody holds, under the guard; returns the
    /// names removed and kept (held). For `clean`.
    pub(crate) fn clean_locks(&self) -> io::Result<(Vec<String>, Vec<String>)> {
        let _guard = self.guard()?;
        let (mut removed, mut kept) = (Vec::new(), Vec::new());
        for status in self.locks_unguarded() {
            let path = self.lock_path(status.scope, &status.name);
            let shown = self.shown(&path);
            if status.held {
                kept.push(shown);
            } else {
                fs::remove(&path)?;
                removed.push(shown);
            }
        }
        // Task lock files nobody holds: removed while we hold each one, so a
        // build that opened it before sees it gone after locking and retries.
        if let Some(dir) = self.existing_dir(&[LOCKS, TASKS])
            && let Ok(entries) = std::fs::read_dir(&dir)
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if fs::Kind::of(&path).ok() != Some(fs::Kind::File) {
                    continue;
                }
                let Ok(file) = fs::open_read(&path) else {
                    continue;
                };
                if file.try_lock().is_ok() {
                    fs::remove(&path)?;
                    removed.push(self.shown(&path));
                }
            }
        }
        // Stray entries (a directory where a lock file belongs) go too.
        for parts in [&[LOCKS, TASKS][..], &[LOCKS][..]] {
            if let Some(dir) = self.existing_dir(parts)
                && let Ok(entries) = std::fs::read_dir(&dir)
            {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let path = entry.path();
                    let kind = fs::Kind::of(&path).unwrap_or(fs::Kind::Missing);
                    let ours = name == GUARD || (name == TASKS && kind == fs::Kind::Dir);
                    if !ours && kind != fs::Kind::File {
                        fs::remove(&path)?;
                        removed.push(self.shown(&path));
                    }
                }
            }
        }
        if kept.is_empty() {
            if let Some(dir) = self.existing_dir(&[LOCKS, TASKS]) {
                let _ = std::fs::remove_dir(dir);
            }
            let _ = std::fs::remove_file(self.path(&[LOCKS, GUARD]));
            let _ = std::fs::remove_dir(self.path(&[LOCKS]));
        }
        Ok((removed, kept))
    }

    /// `.orchestra/…` as a person reads it.
    pub(crate) fn shown(&self, path: &std::path::Path) -> String {
        path.strip_prefix(self.root())
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

impl HeldLock {
    pub(crate) fn name(&self) -> &str {
        &self.info.name
    }

    /// Says this holder is alive, if the file at the lock's path is still
    /// the one it locked.
    pub(crate) fn beat(&mut self, now_ms: u64) -> Beat {
        let Some(file) = &mut self.file else {
            return Beat::Lost(None);
        };
        let ours = match (file.metadata(), std::fs::symlink_metadata(&self.path)) {
            (Ok(a), Ok(b)) => same_file(&a, &b),
            _ => false,
        };
        if !ours {
            let holder = match fs::read(&self.path) {
                fs::Found::Bytes(bytes) => serde_json::from_slice(&bytes).ok(),
                _ => None,
            };
            return Beat::Lost(holder);
        }
        self.info.heartbeat_ms = now_ms;
        // A failed write only makes the lock look older to others.
        let _ = write_info(file, &self.info);
        Beat::Ours
    }

    /// Releases the lock: removes the file, then drops the OS lock.
    pub(crate) fn release(mut self) -> io::Result<()> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> io::Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        if self.scope == Scope::Task {
            // Kept for the next build of the task; dropping unlocks it.
            drop(file);
            return Ok(());
        }
        let _guard = self.workspace.guard()?;
        // Remove only our own file: after a takeover by another process the
        // path may hold theirs.
        let ours = match (file.metadata(), std::fs::symlink_metadata(&self.path)) {
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

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

/// Milestones whose lock was lost while the build ran, with the holder
/// that took it (if known). Shared with the build's decisions.
pub(crate) type Lost = Arc<Mutex<BTreeMap<String, Option<LockInfo>>>>;

/// Beats every lock in `locks` now, recording in `lost` those that are no
/// longer this build's.
pub(crate) fn beat_all(locks: &mut [HeldLock], lost: &Lost) {
    let now = now_millis();
    for lock in locks {
        if let Beat::Lost(holder) = lock.beat(now) {
            lost.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(lock.name().to_owned())
                .or_insert(holder);
        }
    }
}

/// Keeps a build's milestone locks alive: a thread that rewrites each
/// lock's heartbeat every `every`, and records the ones it finds lost.
/// Dropping it stops the thread and releases the locks.
pub(crate) struct Heartbeat {
    lost: Lost,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<Vec<HeldLock>>>,
}

impl Heartbeat {
    /// Starts beating `locks` every `every`; `lost` may already name
    /// milestones found lost (while the build waited for another lock).
    /// Without a thread there is no heartbeat, so it is an error, not a
    /// build that silently holds nothing.
    pub(crate) fn start(mut locks: Vec<HeldLock>, every: Duration, lost: Lost) -> io::Result<Self> {
        if locks.is_empty() {
            return Ok(Self {
                lost,
                stop: None,
                thread: None,
            });
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let found = Arc::clone(&lost);
        let thread = std::thread::Builder::new()
            .name("orchestra-heartbeat".into())
            .spawn(move || {
                while stopped.recv_timeout(every) == Err(RecvTimeoutError::Timeout) {
                    beat_all(&mut locks, &found);
                }
                locks
            })?;
        Ok(Self {
            lost,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The shared set of lost milestones.
    pub(crate) fn lost(&self) -> Lost {
        Arc::clone(&self.lost)
    }

    /// How often to beat for a `lock-timeout` of `timeout`: often enough
    /// that a live build never looks stale, rarely enough to cost nothing.
    pub(crate) fn interval(timeout: Option<Duration>) -> Duration {
        let cap = Duration::from_secs(2);
        timeout.map_or(cap, |t| (t / 4).clamp(Duration::from_millis(50), cap))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && let Ok(locks) = thread.join()
        {
            for lock in locks {
                let _ = lock.release();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Masker;

    fn acquired(a: Acquire) -> HeldLock {
        match a {
            Acquire::Acquired(lock) => lock,
            Acquire::Held(info) => panic!("expected to acquire, held by {info:?}"),
        }
    }

    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        (dir, ws)
    }

    #[test]
    fn a_held_lock_blocks_others_and_names_its_holder() {
        let (dir, ws) = workspace();
        let first = acquired(ws.try_lock("M1", None, 100_000).unwrap());
        match ws.try_lock("M1", None, 101_000).unwrap() {
            Acquire::Held(Some(info)) => {
                assert_eq!(info.pid, std::process::id());
                assert_eq!(info.started_at, 100);
                assert_eq!(info.name, "M1");
            }
            other => panic!("expected held, got {other:?}"),
        }
        let other = acquired(ws.try_lock("M2", None, 101_000).unwrap());
        let task = acquired(ws.try_task_lock("a/b", 101_000).unwrap());
        assert!(dir.path().join(".orchestra/locks/.tasks/a%2Fb").is_file());
        assert!(matches!(
            ws.try_task_lock("a/b", 101_000).unwrap(),
            Acquire::Held(Some(_))
        ));
        other.release().unwrap();
        first.release().unwrap();
        drop(task);
        assert!(!dir.path().join(".orchestra/locks/M1").exists());
        acquired(ws.try_lock("M1", None, 102_000).unwrap());
    }

    #[test]
    fn a_dead_holders_file_is_taken_over() {
        let (dir, ws) = workspace();
        let dead = LockInfo {
            name: "M1".into(),
            pid: 999_999,
            host: "gone".into(),
            started_at: 5,
            heartbeat_ms: 5_000,
        };
        std::fs::create_dir_all(dir.path().join(".orchestra/locks")).unwrap();
        std::fs::write(
            dir.path().join(".orchestra/locks/M1"),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        let lock = acquired(ws.try_lock("M1", None, 10_000).unwrap());
        assert_eq!(lock.took_over, Some(dead));
    }

    #[test]
    fn only_a_stale_heartbeat_lets_a_live_lock_be_taken_over_and_the_holder_notices() {
        let (dir, ws) = workspace();
        let limit = Some(Duration::from_mins(1));
        let mut old = acquired(ws.try_lock("M1", limit, 100_000).unwrap());
        // Beating keeps an old lock fresh.
        assert_eq!(old.beat(150_000), Beat::Ours);
        assert!(matches!(
            ws.try_lock("M1", limit, 200_000).unwrap(),
            Acquire::Held(_)
        ));
        let new = acquired(ws.try_lock("M1", limit, 211_000).unwrap());
        assert_eq!(
            new.took_over.as_ref().map(|i| i.heartbeat_ms),
            Some(150_000)
        );
        match old.beat(212_000) {
            Beat::Lost(Some(holder)) => assert_eq!(holder.started_at, 211),
            other => panic!("the old holder must notice: {other:?}"),
        }
        // The old holder's release must not remove the new holder's file.
        old.release().unwrap();
        assert!(dir.path().join(".orchestra/locks/M1").exists());
        drop(new);
        assert!(!dir.path().join(".orchestra/locks/M1").exists());
        // Under a second of `lock-timeout` still means something.
        let short = Some(Duration::from_millis(300));
        let _live = acquired(ws.try_lock("M2", short, 500_000).unwrap());
        assert!(matches!(
            ws.try_lock("M2", short, 500_200).unwrap(),
            Acquire::Held(_)
        ));
        assert!(matches!(
            ws.try_lock("M2", short, 500_400).unwrap(),
            Acquire::Acquired(_)
        ));
    }

    #[test]
    fn list_unlock_and_clean_report_holders() {
        let (dir, ws) = workspace();
        let held = acquired(ws.try_lock("A", None, 1_000).unwrap());
        std::fs::write(dir.path().join(".orchestra/locks/B"), b"garbage").unwrap();
        std::fs::create_dir(dir.path().join(".orchestra/locks/C")).unwrap();
        let found = ws.locks().unwrap();
        assert_eq!(found.len(), 2);
        assert!(found[0].held && found[0].info.is_some());
        assert!(!found[1].held && found[1].info.is_none());
        let removed = ws.unlock(&["B".to_owned()]).unwrap();
        assert_eq!(removed.len(), 1);
        let (removed, kept) = ws.clean_locks().unwrap();
        assert_eq!(kept, [".orchestra/locks/A"]);
        assert_eq!(removed, [".orchestra/locks/C"]);
        drop(held);
        assert!(ws.locks().unwrap().is_empty());
    }
}
