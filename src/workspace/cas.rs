//! `.orchestra/cache/`: the local output cache's storage — action entries
//! under `ac/<xx>/<sha256>` and content blobs under `cas/<xx>/<sha256>`
//! (`xx`: the digest's first two hex digits, so no directory holds more
//! than a few hundred files), the layout a Bazel disk cache uses.
//!
//! This file only stores and finds bytes by name; what they mean (keys,
//! `ActionResult` entries, digests checked on every read) is `crate::cache`.
//! Reads touch a file's modification time, which makes it the most
//! recently used: [`LocalStore::evict`] removes the least recently used
//! files until the store fits its limit.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use super::Workspace;
use super::fs::{self, Found, Kind};

/// The directory's name under `.orchestra/`.
const DIR: &str = "cache";

/// Which half of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    /// Action entries, by action key.
    Actions,
    /// Blobs, by their own content digest.
    Blobs,
}

impl Space {
    fn dir(self) -> &'static str {
        match self {
            Self::Actions => "ac",
            Self::Blobs => "cas",
        }
    }
}

/// How much the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) actions: u64,
    pub(crate) blobs: u64,
    pub(crate) bytes: u64,
}

/// The local store of one project.
#[derive(Debug, Clone)]
pub(crate) struct LocalStore {
    workspace: Workspace,
    /// Directories checked (real, no link) and created this run: each is
    /// checked once, not on every write (20,000 entries are 256 shards).
    checked: Arc<Mutex<HashSet<PathBuf>>>,
    /// Why the store cannot be used at all (`.orchestra/cache` is a file
    /// or a link), looked at once: said once, and every read misses and
    /// every write is skipped after, instead of a note per file.
    off: Arc<OnceLock<Option<String>>>,
}

impl Workspace {
    pub(crate) fn local_store(&self) -> LocalStore {
        LocalStore {
            workspace: self.clone(),
            checked: Arc::default(),
            off: Arc::default(),
        }
    }
}

/// A name is a lowercase hex digest, so it can never leave its directory.
fn valid(hex: &str) -> bool {
    hex.len() >= 4
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl LocalStore {
    /// Whether the store is unusable this run (said once, as a note).
    pub(crate) fn is_off(&self) -> bool {
        self.off
            .get_or_init(|| {
                let dir = self.workspace.path(&[DIR]);
                let why = match Kind::of(&dir) {
                    Ok(Kind::Missing | Kind::Dir) => return None,
                    Ok(kind) => format!("it is {}, not a directory", kind.described()),
                    Err(e) => e.to_string(),
                };
                let said = format!(
                    "local cache off: `{}`: {why}; `orchestra cache clean` removes it",
                    dir.display()
                );
                self.workspace.note(said.clone());
                Some(said)
            })
            .is_some()
    }

    fn path(&self, space: Space, hex: &str) -> PathBuf {
        self.workspace.path(&[DIR, space.dir(), &hex[..2], hex])
    }

    /// The bytes stored under `hex`, marked as just used; `None` when
    /// absent or unreadable (an unreadable file is noted once).
    pub(crate) fn get(&self, space: Space, hex: &str) -> Option<Vec<u8>> {
        if !valid(hex) || self.is_off() {
            return None;
        }
        let path = self.path(space, hex);
        match fs::read(&path) {
            Found::Bytes(bytes) => {
                // The most recently used survives eviction; failing to
                // mark it only makes it an earlier candidate.
                if let Ok(file) = fs::open_read(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Some(bytes)
            }
            Found::Missing => None,
            Found::Unusable(why) => {
                self.workspace
                    .note(format!("local cache: `{}`: {why}", path.display()));
                None
            }
        }
    }

    /// Whether `hex` is stored (without reading or touching it).
    pub(crate) fn contains(&self, space: Space, hex: &str) -> bool {
        valid(hex) && Kind::of(&self.path(space, hex)).ok() == Some(Kind::File)
    }

    /// Marks `hex` as just used, for eviction.
    pub(crate) fn touch(&self, space: Space, hex: &str) {
        if valid(hex)
            && let Ok(file) = fs::open_read(&self.path(space, hex))
        {
            let _ = file.set_modified(SystemTime::now());
        }
    }

    /// Stores `bytes` under `hex`, whole or not at all (a temporary file
    /// renamed into place).
    pub(crate) fn put(&self, space: Space, hex: &str, bytes: &[u8]) -> io::Result<()> {
        if !valid(hex) {
            return Err(io::Error::other(format!("`{hex}` is not a digest")));
        }
        let dir = self.workspace.path(&[DIR, space.dir(), &hex[..2]]);
        let known = self
            .checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&dir);
        if !known {
            self.workspace.ensure(&[DIR, space.dir(), &hex[..2]])?;
            self.checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(dir.clone());
        }
        fs::write_atomic(&dir, hex, bytes, false)
    }

    /// Removes one stored item (a corrupted blob, say).
    pub(crate) fn remove(&self, space: Space, hex: &str) {
        if valid(hex) {
            let _ = fs::remove(&self.path(space, hex));
        }
    }

    /// Every stored file: (space, path, size, last used).
    fn files(&self) -> Vec<(Space, PathBuf, u64, SystemTime)> {
        let mut files = Vec::new();
        for space in [Space::Actions, Space::Blobs] {
            let Some(top) = self.workspace.existing_dir(&[DIR, space.dir()]) else {
                continue;
            };
            for shard in read_dir(&top) {
                if Kind::of(&shard).ok() != Some(Kind::Dir) {
                    continue;
                }
                for file in read_dir(&shard) {
                    if let Ok(meta) = std::fs::symlink_metadata(&file)
                        && meta.is_file()
                    {
                        let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                        files.push((space, file, meta.len(), used));
                    }
                }
            }
        }
        files
    }

    /// What the store holds.
    pub(crate) fn usage(&self) -> Usage {
        let mut usage = Usage::default();
        for (space, _, size, _) in self.files() {
            match space {
                Space::Actions => usage.actions += 1,
                Space::Blobs => usage.blobs += 1,
            }
            usage.bytes += size;
        }
        usage
    }

    /// Removes the least recently used files until the store holds at
    /// most `limit` bytes; returns how many bytes went (for tests). An entry
    /// whose blob was evicted is a miss later, never a wrong output.
    pub(crate) fn evict(&self, limit: u64) -> u64 {
        let mut files = self.files();
        let mut total: u64 = files.iter().map(|f| f.2).sum();
        if total <= limit {
            return 0;
        }
        files.sort_by_key(|f| f.3);
        let mut freed = 0;
        for (_, path, size, _) in files {
            if total <= limit {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
                freed += size;
            }
        }
        freed
    }

    /// Removes the whole store; what it held.
    pub(crate) fn clean(&self) -> io::Result<Usage> {
        let usage = self.usage();
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        // Whatever stands at its place, a file or a link too (never
        // followed), inside a real `.orchestra`.
        if self.workspace.existing_dir(&[]).is_some() {
            fs::remove(&self.workspace.path(&[DIR]))?;
        }
        Ok(usage)
    }

    /// Where it lives, for messages.
    pub(crate) fn location(&self) -> PathBuf {
        self.workspace.path(&[DIR])
    }
}

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Masker;

    #[test]
    fn stores_finds_and_evicts_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = Workspace::new(dir.path(), Masker::default()).local_store();
        let a = "aa".repeat(32);
        let b = "bb".repeat(32);
        store.put(Space::Blobs, &a, &[1; 100]).unwrap();
        store.put(Space::Blobs, &b, &[2; 100]).unwrap();
        store.put(Space::Actions, &a, b"entry").unwrap();
        assert_eq!(store.get(Space::Blobs, &a), Some(vec![1; 100]));
        assert!(store.contains(Space::Actions, &a));
        assert!(!store.contains(Space::Actions, &b));
        let usage = store.usage();
        assert_eq!((usage.actions, usage.blobs, usage.bytes), (1, 2, 205));
        // `b` is the oldest once `a` and the entry are used after it.
        let old = SystemTime::now() - std::time::Duration::from_mins(1);
        let path = store.path(Space::Blobs, &b);
        fs::open_read(&path).unwrap().set_modified(old).unwrap();
        assert_eq!(store.evict(110), 100);
        assert!(!store.contains(Space::Blobs, &b));
        assert!(store.contains(Space::Blobs, &a));
        assert_eq!(store.clean().unwrap().bytes, 105);
        assert_eq!(store.usage(), Usage::default());
    }

    #[test]
    fn names_that_are_not_digests_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Workspace::new(dir.path(), Masker::default()).local_store();
        assert!(store.put(Space::Blobs, "../../x", b"x").is_err());
        assert_eq!(store.get(Space::Blobs, "../../etc/passwd"), None);
    }

    #[test]
    fn a_link_in_the_store_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let store = Workspace::new(dir.path(), Masker::default()).local_store();
        std::fs::create_dir_all(dir.path().join(".orchestra")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".orchestra/cache")).unwrap();
        let a = "aa".repeat(32);
        assert!(store.put(Space::Blobs, &a, b"x").is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
