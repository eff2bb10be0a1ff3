//! The fingerprint store: the stat cache and every task's record at its
//! last success, in one compact binary layout with a magic and version, so a
//! no-op build loads it in a few milliseconds, plus the journal entries of
//! later builds on top (where the bytes live is `crate::workspace::journal`).
//! A missing, old or corrupt store loads as empty ("rebuild"), never as an
//! error.
//!
//! Records are decoded lazily: loading reads each task's address and
//! fingerprint and keeps the rest of its record as bytes, decoded only when
//! the fingerprint differs and the record is needed to explain why. A
//! no-op build of thousands of tasks never builds their strings, and saving
//! copies untouched records back byte for byte.

use std::ops::Range;
use std::sync::Arc;

use super::fingerprint::Record;
use super::loaded_map::LoadedMap;
use super::stat_cache::{Hash, StatCache};
use crate::codec::{Reader, Writer};
use crate::workspace::journal::{Entry as JournalEntry, Stored};

/// `ORCHFP` and a version byte; bump the version when the layout changes.
const MAGIC: &[u8; 8] = b"ORCHFP\x00\x06";

/// One task's last success (or that it has none since `stamp`): decoded,
/// or still bytes of what was loaded. Each carries the time it was made
/// (ms since the epoch), so the newest of the store and journals wins.
#[derive(Debug, Clone)]
enum Entry {
    /// Boxed: an entry is small (the map holds one per task).
    Decoded(u64, Box<Record>),
    /// The fingerprint, and where the encoded record lies in `Store::raw`.
    Raw(u64, Hash, Range<usize>),
    /// The fingerprint and the encoded record, from a journal.
    Journaled(u64, Hash, Box<[u8]>),
    /// Forgotten at this time: the task failed, or (with the gate's
    /// address) the gate guarding it did.
    Gone(u64, Option<String>),
}

impl Entry {
    fn stamp(&self) -> u64 {
        match self {
            Self::Decoded(stamp, _)
            | Self::Raw(stamp, ..)
            | Self::Journaled(stamp, ..)
            | Self::Gone(stamp, _) => *stamp,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) stat: StatCache,
    /// By address; the addresses of the loaded store are read in place.
    tasks: LoadedMap<Entry>,
    /// The loaded bytes, which `Entry::Raw` ranges (and the keys of both
    /// maps) point into.
    raw: Arc<Vec<u8>>,
}

impl Store {
    /// The store as the workspace read it: the compacted file, then every
    /// journal entry, the newest entry per task winning. The flag says the
    /// compacted file exists but could not be decoded (it counts as empty;
    /// the journals still apply).
    pub(crate) fn from_stored(stored: Stored) -> (Self, bool) {
        let (mut store, corrupt) = match stored.store {
            Some(bytes) => match Self::decode(bytes) {
                Some(store) => (store, false),
                None => (Self::default(), true),
            },
            None => (Self::default(), false),
        };
        for entry in &stored.entries {
            store.apply(entry);
        }
        for (path, stat) in &stored.stats {
            store.stat.apply(path, stat);
        }
        (store, corrupt)
    }

    fn decode(bytes: Vec<u8>) -> Option<Self> {
        let bytes = Arc::new(bytes);
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        let mut r = Reader::new(body);
        let stat = StatCache::decode(&mut r, &bytes)?;
        let count = r.count()?;
        let mut tasks = LoadedMap::new(bytes.clone(), count);
        let base = bytes.as_ptr() as usize;
        let at = |part: &[u8]| {
            let offset = part.as_ptr() as usize - base;
            offset..offset + part.len()
        };
        for _ in 0..count {
            let address = at(r.str()?.as_bytes());
            let stamp = r.u64()?;
            if !r.bool()? {
                let gate = r.str()?.to_owned();
                tasks.insert_loaded(address, Entry::Gone(stamp, Some(gate)));
                continue;
            }
            let record = r.bytes()?;
            let fingerprint: Hash = record.get(..32)?.try_into().ok()?;
            tasks.insert_loaded(address, Entry::Raw(stamp, fingerprint, at(record)));
        }
        r.is_empty().then_some(Self {
            stat,
            tasks,
            raw: bytes,
        })
    }

    /// Applies a journal entry unless something as new is known (an entry
    /// already applied, or this build's own record of the same moment).
    pub(crate) fn apply(&mut self, entry: &JournalEntry) {
        if self
            .tasks
            .get(&entry.address)
            .is_some_and(|known| known.stamp() >= entry.stamp)
        {
            return;
        }
        let value = match &entry.record {
            None => Entry::Gone(entry.stamp, entry.cause.clone()),
            Some(record) => {
                let Some(fingerprint) = record.get(..32).and_then(|f| f.try_into().ok()) else {
                    return;
                };
                Entry::Journaled(entry.stamp, fingerprint, record.as_slice().into())
            }
        };
        self.tasks.insert(&entry.address, value);
    }

    /// The fingerprint of `address`'s last success.
    pub(crate) fn fingerprint(&self, address: &str) -> Option<Hash> {
        match self.tasks.get(address)? {
            Entry::Decoded(_, record) => Some(record.fingerprint),
            Entry::Raw(_, fingerprint, _) | Entry::Journaled(_, fingerprint, _) => {
                Some(*fingerprint)
            }
            Entry::Gone(..) => None,
        }
    }

    /// What `address` produced at its last success (a hash of its
    /// outputs' contents), read without decoding the record.
    pub(crate) fn produced(&self, address: &str) -> Option<Hash> {
        let bytes: &[u8] = match self.tasks.get(address)? {
            Entry::Decoded(_, record) => return record.produced,
            Entry::Raw(_, _, range) => self.raw.get(range.clone())?,
            Entry::Journaled(_, _, bytes) => bytes,
            Entry::Gone(..) => return None,
        };
        Record::produced_of(bytes)
    }

    /// How long `address`'s last success took, read in place.
    pub(crate) fn took(&self, address: &str) -> Option<u64> {
        let bytes: &[u8] = match self.tasks.get(address)? {
            Entry::Decoded(_, record) => return Some(record.took_ms),
            Entry::Raw(_, _, range) => self.raw.get(range.clone())?,
            Entry::Journaled(_, _, bytes) => bytes,
            Entry::Gone(..) => return None,
        };
        Record::took_of(bytes)
    }

    /// The whole record of `address`'s last success; `None` also when its
    /// bytes do not decode (a corrupt record means "run it").
    pub(crate) fn record(&self, address: &str) -> Option<Record> {
        match self.tasks.get(address)? {
            Entry::Decoded(_, record) => Some(Record::clone(record)),
            Entry::Raw(_, _, range) => decode_record(self.raw.get(range.clone())?),
            Entry::Journaled(_, _, bytes) => decode_record(bytes),
            Entry::Gone(..) => None,
        }
    }

    /// Every record decoded (for the fuzz target): how many decoded.
    pub(crate) fn decode_all(&self) -> usize {
        self.tasks
            .iter()
            .filter_map(|(address, _)| self.record(address))
            .count()
    }

    pub(crate) fn insert(&mut self, address: &str, stamp: u64, record: Record) {
        self.tasks
            .insert(address, Entry::Decoded(stamp, Box::new(record)));
    }

    /// Forgets `address` as of `stamp` (because the gate `cause` failed,
    /// when it names one); whether it had a record.
    pub(crate) fn remove(&mut self, address: &str, stamp: u64, cause: Option<&str>) -> bool {
        let had = self.fingerprint(address).is_some();
        self.tasks
            .insert(address, Entry::Gone(stamp, cause.map(str::to_owned)));
        had
    }

    /// The gate whose failure made `address` forget its last success.
    pub(crate) fn failed_gate(&self, address: &str) -> Option<&str> {
        match self.tasks.get(address)? {
            Entry::Gone(_, Some(gate)) => Some(gate),
            _ => None,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        self.stat.encode(&mut w);
        let mut entries: Vec<(&str, &Entry)> = self
            .tasks
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Gone(_, None)))
            .collect();
        entries.sort_unstable_by_key(|(address, _)| *address);
        w.u64(entries.len() as u64);
        let mut scratch = Writer::default();
        for (address, entry) in entries {
            w.str(address);
            w.u64(entry.stamp());
            w.bool(!matches!(entry, Entry::Gone(..)));
            match entry {
                Entry::Decoded(_, record) => {
                    scratch.bytes.clear();
                    record.encode(&mut scratch);
                    w.bytes(&scratch.bytes);
                }
                Entry::Raw(_, _, range) => w.bytes(&self.raw[range.clone()]),
                Entry::Journaled(_, _, bytes) => w.bytes(bytes),
                Entry::Gone(_, gate) => w.str(gate.as_deref().unwrap_or_default()),
            }
        }
        w.bytes
    }
}

/// What an encoded record says its task produced, read in place (for the
/// fuzz target: arbitrary bytes as a record).
pub(crate) fn produced_of(bytes: &[u8]) -> Option<Hash> {
    Record::produced_of(bytes)
}

/// What a record's run took, read in place (fuzzed with the decoders).
pub(crate) fn took_of(bytes: &[u8]) -> Option<u64> {
    Record::took_of(bytes)
}

/// A whole encoded record; `None` when it does not decode.
fn decode_record(bytes: &[u8]) -> Option<Record> {
    let mut r = Reader::new(bytes);
    Record::decode(&mut r).filter(|_| r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommandKind;

    fn record(command: &str) -> Record {
        Record::new(
            vec![CommandKind::Shell(command.into())],
            vec!["sh".into(), "-c".into()],
            ".".into(),
            &[],
            vec![("a".into(), Some([1; 32]))],
            vec![],
        )
    }

    fn store() -> Store {
        let mut s = Store::default();
        s.insert("copy", 5, record("cp a b"));
        s
    }

    fn stored(store: &Store, entries: Vec<JournalEntry>) -> Stored {
        Stored {
            store: Some(store.encode()),
            store_id: None,
            entries,
            stats: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_copies_untouched_records_byte_for_byte() {
        let loaded = Store::from_stored(stored(&store(), vec![])).0;
        assert_eq!(loaded.record("copy"), store().record("copy"));
        assert_eq!(loaded.fingerprint("copy"), store().fingerprint("copy"));
        assert_eq!(loaded.record("other"), None);
        assert_eq!(loaded.encode(), store().encode());
    }

    #[test]
    fn the_newest_entry_wins_whatever_the_order() {
        let mut w = Writer::default();
        record("new").encode(&mut w);
        let newer = JournalEntry {
            stamp: 9,
            address: "copy".into(),
            record: Some(w.bytes.clone()),
            cause: None,
        };
        let older_forget = JournalEntry {
            stamp: 7,
            address: "copy".into(),
            record: None,
            cause: None,
        };
        let loaded = Store::from_stored(stored(&store(), vec![newer.clone(), older_forget])).0;
        assert_eq!(loaded.record("copy"), Some(record("new")));
        let forget = JournalEntry {
            stamp: 10,
            address: "copy".into(),
            record: None,
            cause: Some("copy/verify".into()),
        };
        let loaded = Store::from_stored(stored(&store(), vec![newer, forget])).0;
        assert_eq!(loaded.fingerprint("copy"), None);
        let back = Store::from_stored(stored(&loaded, vec![])).0;
        assert_eq!(
            back.fingerprint("copy"),
            None,
            "a forgotten task is not stored"
        );
    }

    #[test]
    fn corrupt_truncated_or_foreign_stores_do_not_decode() {
        let bytes = store().encode();
        for cut in [0, 3, 8, bytes.len() / 2, bytes.len() - 1] {
            let s = Stored {
                store: Some(bytes[..cut].to_vec()),
                store_id: None,
                entries: vec![],
                stats: vec![],
            };
            assert!(Store::from_stored(s).1, "cut at {cut}");
        }
        let mut other_version = bytes.clone();
        other_version[7] = 0;
        assert!(Store::decode(other_version).is_none());
        let mut flipped = bytes;
        let last = flipped.len() - 40;
        flipped[last] ^= 0xff;
        let _ = Store::decode(flipped); // must not panic, whatever it decodes
    }
}
