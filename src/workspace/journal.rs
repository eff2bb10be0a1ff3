//! Where up-to-date records live: `.orchestra/fingerprints` (the compacted
//! store) and one append-only journal per build,
//! `.orchestra/fingerprints.d/<run>.journal`.
//!
//! A build appends an entry to its own journal the moment a task succeeds
//! (or forgets a failed one) — one `write` each, so a `kill -9` loses
//! nothing already appended — and holds an OS lock on the journal while it
//! runs. Loading reads the store and then every journal; each entry carries
//! the time it was made and the newest entry for a task wins, so two builds
//! never overwrite each other's records. At its end a build compacts: under
//! `fingerprints.lock` it merges the store, its own journal and the
//! journals of builds that are gone (their lock is free) into a new store,
//! written atomically, then deletes those journals. Journals of builds
//! still running are left for them. A build compacts only now and then
//! (when the journals have grown, see `crate::freshness`): otherwise its
//! journal simply stays, for the next loads to read, so one changed input
//! costs an appended entry instead of a rewritten store. Besides task
//! records, a journal holds file stats (a file's size, mtime and content
//! hash, so it is not read again), each entry tagged with its kind.
//!
//! This module frames bytes; what a record means is
//! `crate::freshness`'s business.

use std::fs::{File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Workspace, fs};
use crate::codec::{Reader, Writer};

const STORE: &str = "fingerprints";
const JOURNALS: &str = "fingerprints.d";
const COMPACTION: &str = "fingerprints.lock";
const MAGIC: &[u8; 8] = b"ORCHJR\x00\x05";
const TASK: u64 = 0;
const STAT: u64 = 1;

/// One journal entry: at `stamp` (ms since the epoch), `address` succeeded
/// with `record`, or (`None`) lost its record — because the gate `cause`
/// names failed, or (no cause) because it failed itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) stamp: u64,
    pub(crate) address: String,
    pub(crate) record: Option<Vec<u8>>,
    pub(crate) cause: Option<String>,
}

/// What is on disk: the store's bytes and every journal's entries.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    pub(crate) store: Option<Vec<u8>>,
    /// Which file the store was (device, inode, size, mtime): when it is
    /// the same at compaction as at load, nobody compacted in between.
    pub(crate) store_id: Option<(u64, u64, u64, i64)>,
    pub(crate) entries: Vec<Entry>,
    /// File stats from the journals, in order: a path and the bytes
    /// `crate::freshness` encoded for it.
    pub(crate) stats: Vec<(String, Vec<u8>)>,
}

/// This build's journal, locked while it is open.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    scratch: Writer,
}

impl Journal {
    /// Appends one entry with a single write.
    pub(crate) fn append(&mut self, entry: &Entry) -> io::Result<()> {
        self.scratch.bytes.clear();
        encode_entry(&mut self.scratch, entry);
        self.file.write_all(&self.scratch.bytes)
    }

    /// Appends file stats (path, encoded stat), all with a single write.
    pub(crate) fn append_stats<'a>(
        &mut self,
        stats: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> io::Result<()> {
        self.scratch.bytes.clear();
        for (path, bytes) in stats {
            self.scratch.u64(STAT);
            self.scratch.str(path);
            self.scratch.bytes(bytes);
        }
        self.file.write_all(&self.scratch.bytes)
    }
}

fn encode_entry(w: &mut Writer, entry: &Entry) {
    w.u64(TASK);
    w.u64(entry.stamp);
    w.str(&entry.address);
    w.bool(entry.record.is_some());
    if let Some(record) = &entry.record {
        w.bytes(record);
    } else {
        w.bool(entry.cause.is_some());
        if let Some(cause) = &entry.cause {
            w.str(cause);
        }
    }
}

/// One decoded journal entry.
enum Logged {
    Task(Entry),
    Stat(String, Vec<u8>),
}

/// The task entries and file stats of one journal file; a torn last entry
/// is dropped.
pub(crate) fn decode_journal(bytes: &[u8]) -> (Vec<Entry>, Vec<(String, Vec<u8>)>) {
    let (mut tasks, mut stats) = (Vec::new(), Vec::new());
    let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return (tasks, stats);
    };
    let mut r = Reader::new(body);
    while !r.is_empty() {
        let entry = (|| {
            if r.u64()? == STAT {
                let path = r.str()?.to_owned();
                return Some(Logged::Stat(path, r.bytes()?.to_vec()));
            }
            let stamp = r.u64()?;
            let address = r.str()?.to_owned();
            let has_record = r.bool()?;
            let (record, cause) = if has_record {
                (Some(r.bytes()?.to_vec()), None)
            } else {
                let has_cause = r.bool()?;
                let cause = if has_cause {
                    Some(r.str()?.to_owned())
                } else {
                    None
                };
                (None, cause)
            };
            Some(Logged::Task(Entry {
                stamp,
                address,
                record,
                cause,
            }))
        })();
        match entry {
            Some(Logged::Task(entry)) => tasks.push(entry),
            Some(Logged::Stat(path, stat)) => stats.push((path, stat)),
            None => break,
        }
    }
    (tasks, stats)
}

/// Whether the build that writes the journal at `path` still runs.
pub(crate) fn is_live(path: &Path) -> bool {
    if fs::Kind::of(path).ok() != Some(fs::Kind::File) {
        return false;
    }
    fs::open_read(path).is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
}

impl Workspace {
    /// The store and every journal, read under a shared compaction lock so
    /// a compaction never hides entries between the two reads.
    pub(crate) fn load_fingerprints(&self) -> Stored {
        let _shared = self.compaction_lock(false);
        let (stored, _) = self.read_fingerprints(|_| true);
        stored
    }

    /// Reads the store and the journals `take` accepts; returns their paths.
    fn read_fingerprints(&self, take: impl Fn(&Path) -> bool) -> (Stored, Vec<PathBuf>) {
        let mut stored = Stored {
            store: self.read(&[STORE]),
            store_id: std::fs::symlink_metadata(self.path(&[STORE]))
                .ok()
                .map(|m| {
                    use std::os::unix::fs::MetadataExt;
                    (
                        m.dev(),
                        m.ino(),
                        m.size(),
                        m.mtime_nsec() + m.mtime() * 1_000_000_000,
                    )
                }),
            entries: Vec::new(),
            stats: Vec::new(),
        };
        let mut paths = Vec::new();
        if let Some(dir) = self.existing_dir(&[JOURNALS])
            && let Ok(entries) = std::fs::read_dir(&dir)
        {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".journal"))
                .collect();
            names.sort();
            for name in names {
                let path = dir.join(&name);
                if !take(&path) {
                    continue;
                }
                if let Some(bytes) = self.read(&[JOURNALS, &name]) {
                    let (entries, stats) = decode_journal(&bytes);
                    stored.entries.extend(entries);
                    stored.stats.extend(stats);
                }
                paths.push(path);
            }
        }
        (stored, paths)
    }

    /// The compaction lock: exclusive to compact, shared to load. A load
    /// creates nothing (`why` writes nothing): with no lock file there is
    /// no compaction to keep out. After locking, the file must still be the
    /// one at its path (`clean` may have removed it).
    fn compaction_lock(&self, exclusive: bool) -> Option<File> {
        let dir = self.existing_dir(&[])?;
        let path = dir.join(COMPACTION);
        loop {
            let file = if exclusive {
                fs::open_rw(&path).ok()?.0
            } else {
                fs::open_read(&path).ok()?
            };
            let locked = if exclusive {
                file.lock()
            } else {
                file.lock_shared()
            };
            locked.ok()?;
            if super::locks::still_at(&file, &path) {
                return Some(file);
            }
        }
    }

    /// Opens (creating) the journal of run `run`, locked for this build.
    /// Named by run and process, so no other build ever opens it; locked
    /// before anything is written, and checked to still be at its path
    /// after locking (a compaction or `clean` that saw it unlocked in
    /// between may have removed it as a dead build's).
    pub(crate) fn open_journal(&self, run: u64) -> io::Result<Journal> {
        loop {
            let dir = self.ensure(&[JOURNALS])?;
            let path = dir.join(format!("{run:08}-{}.journal", std::process::id()));
            let (file, _) = fs::open_rw(&path)?;
            file.lock()?;
            if !super::locks::still_at(&file, &path) {
                continue;
            }
            file.set_len(0)?;
            let mut journal = Journal {
                file,
                path,
                scratch: Writer::default(),
            };
            journal.file.write_all(MAGIC)?;
            return Ok(journal);
        }
    }

    /// Merges the store, `own` journal and the journals of builds that are
    /// gone into a new store (`merge` turns what was read into its bytes),
    /// then deletes the merged journals.
    pub(crate) fn compact(
        &self,
        own: Option<Journal>,
        merge: impl FnOnce(Stored) -> Vec<u8>,
    ) -> io::Result<()> {
        let dir = self.ensure(&[])?;
        let _exclusive = self.compaction_lock(true);
        let own_path = own.as_ref().map(|j| j.path.clone());
        let (stored, paths) =
            self.read_fingerprints(|p| Some(p) == own_path.as_deref() || !is_live(p));
        let bytes = merge(stored);
        fs::write_atomic(&dir, STORE, &bytes, true)?;
        drop(own);
        for path in paths {
            fs::remove(&path)?;
        }
        Ok(())
    }

    /// Notes that the store could not be decoded (so it counts as empty).
    pub(crate) fn note_unreadable_store(&self) {
        self.note(format!(
            "ignoring `{}`: it cannot be read (garbled, truncated or from another version); tasks are checked from scratch",
            self.shown(&self.path(&[STORE]))
        ));
    }

    /// How many bytes of journals wait to be merged (of this build or others).
    pub(crate) fn journals_size(&self) -> u64 {
        self.existing_dir(&[JOURNALS])
            .and_then(|d| std::fs::read_dir(d).ok())
            .map_or(0, |entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Masker;

    fn entry(stamp: u64, address: &str, record: Option<&[u8]>) -> Entry {
        Entry {
            stamp,
            address: address.into(),
            record: record.map(<[u8]>::to_vec),
            cause: record.is_none().then(|| "gate".to_owned()),
        }
    }

    #[test]
    fn entries_are_durable_at_once_and_compaction_keeps_live_journals() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let mut mine = ws.open_journal(1).unwrap();
        let mut theirs = ws.open_journal(2).unwrap();
        mine.append(&entry(10, "a", Some(b"A"))).unwrap();
        theirs.append(&entry(11, "b", Some(b"B"))).unwrap();
        mine.append(&entry(12, "c", None)).unwrap();
        // Without closing anything, another process reads every entry.
        let stored = ws.load_fingerprints();
        assert_eq!(stored.entries.len(), 3);
        ws.compact(Some(mine), |s| {
            assert_eq!(s.entries.len(), 2, "ours only: theirs is live");
            b"merged".to_vec()
        })
        .unwrap();
        let stored = ws.load_fingerprints();
        assert_eq!(stored.store.as_deref(), Some(&b"merged"[..]));
        assert_eq!(stored.entries, [entry(11, "b", Some(b"B"))]);
        drop(theirs);
        ws.compact(None, |s| {
            assert_eq!(s.entries.len(), 1, "a finished build's journal is merged");
            b"again".to_vec()
        })
        .unwrap();
        assert_eq!(ws.journals_size(), 0);
    }

    #[test]
    fn a_torn_tail_loses_only_itself() {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        encode_entry(&mut w, &entry(1, "a", Some(b"xyz")));
        let whole = w.bytes.len();
        encode_entry(&mut w, &entry(2, "b", Some(b"xyz")));
        let (entries, _) = decode_journal(&w.bytes[..w.bytes.len() - 2]);
        assert_eq!(entries, [entry(1, "a", Some(b"xyz"))]);
        assert_eq!(decode_journal(&w.bytes[..whole]).0.len(), 1);
        assert!(decode_journal(b"garbage").0.is_empty());
    }

    #[test]
    fn stats_and_task_entries_come_back_in_their_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path(), Masker::default());
        let mut journal = ws.open_journal(1).unwrap();
        journal.append(&entry(1, "a", Some(b"A"))).unwrap();
        journal
            .append_stats([("src/x.c", &b"stat-x"[..]), ("src/y.c", &b"stat-y"[..])])
            .unwrap();
        journal.append(&entry(2, "b", None)).unwrap();
        drop(journal);
        let stored = ws.load_fingerprints();
        assert_eq!(
            stored.entries,
            [entry(1, "a", Some(b"A")), entry(2, "b", None)]
        );
        assert_eq!(
            stored.stats,
            [
                ("src/x.c".to_owned(), b"stat-x".to_vec()),
                ("src/y.c".to_owned(), b"stat-y".to_vec())
            ]
        );
        assert!(ws.journals_size() > 0);
    }
}
