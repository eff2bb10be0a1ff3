//! `.orchestra/fingerprints`: the stat cache and every task's record at its
//! last success, in one compact binary file with a magic and version, so a
//! no-op build loads it in a few milliseconds. A missing, old or corrupt
//! file loads as empty ("rebuild"), never as an error.
//!
//! Records are decoded lazily: loading reads each task's address and
//! fingerprint and keeps the rest of its record as bytes, decoded only when
//! the fingerprint differs and the record is needed to explain why. A
//! no-op build of thousands of tasks never builds their strings, and saving
//! copies untouched records back byte for byte.

use foldhash::{HashMap, HashMapExt};
use std::io;
use std::ops::Range;
use std::path::Path;

use super::fingerprint::Record;
use super::stat_cache::{Hash, StatCache};
use crate::codec::{Reader, Writer};

/// `ORCHFP` and a version byte; bump the version when the layout changes.
const MAGIC: &[u8; 8] = b"ORCHFP\x00\x02";

/// One task's last success: decoded, or still bytes of the loaded file.
#[derive(Debug, Clone)]
enum Entry {
    Decoded(Record),
    /// The fingerprint, and where the encoded record lies in `Store::raw`.
    Raw(Hash, Range<usize>),
}

#[derive(Debug, Default)]
pub struct Store {
    pub stat: StatCache,
    tasks: HashMap<String, Entry>,
    /// The loaded file, which `Entry::Raw` ranges point into.
    raw: Vec<u8>,
}

impl Store {
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(Self::decode)
            .unwrap_or_default()
    }

    fn decode(bytes: Vec<u8>) -> Option<Self> {
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        let mut r = Reader::new(body);
        let stat = StatCache::decode(&mut r)?;
        let count = r.count()?;
        let mut tasks = HashMap::with_capacity(count);
        let base = bytes.as_ptr() as usize;
        for _ in 0..count {
            let address = r.str()?.to_owned();
            let record = r.bytes()?;
            let fingerprint: Hash = record.get(..32)?.try_into().ok()?;
            let offset = record.as_ptr() as usize - base;
            tasks.insert(
                address,
                Entry::Raw(fingerprint, offset..offset + record.len()),
            );
        }
        r.is_empty().then_some(Self {
            stat,
            tasks,
            raw: bytes,
        })
    }

    /// The fingerprint of `address`'s last success.
    pub fn fingerprint(&self, address: &str) -> Option<Hash> {
        match self.tasks.get(address)? {
            Entry::Decoded(record) => Some(record.fingerprint),
            Entry::Raw(fingerprint, _) => Some(*fingerprint),
        }
    }

    /// The whole record of `address`'s last success; `None` also when its
    /// bytes do not decode (a corrupt record means "run it").
    pub fn record(&self, address: &str) -> Option<Record> {
        match self.tasks.get(address)? {
            Entry::Decoded(record) => Some(record.clone()),
            Entry::Raw(_, range) => {
                let mut r = Reader::new(self.raw.get(range.clone())?);
                Record::decode(&mut r).filter(|_| r.is_empty())
            }
        }
    }

    pub fn insert(&mut self, address: String, record: Record) {
        self.tasks.insert(address, Entry::Decoded(record));
    }

    /// Forgets `address`; whether it had a record.
    pub fn remove(&mut self, address: &str) -> bool {
        self.tasks.remove(address).is_some()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        self.stat.encode(&mut w);
        w.u64(self.tasks.len() as u64);
        let mut addresses: Vec<&String> = self.tasks.keys().collect();
        addresses.sort();
        let mut scratch = Writer::default();
        for address in addresses {
            w.str(address);
            match &self.tasks[address] {
                Entry::Decoded(record) => {
                    scratch.bytes.clear();
                    record.encode(&mut scratch);
                    w.bytes(&scratch.bytes);
                }
                Entry::Raw(_, range) => w.bytes(&self.raw[range.clone()]),
            }
        }
        w.bytes
    }

    /// Writes atomically (see `state::write_atomic`).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        super::state::write_atomic(path, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommandKind;

    fn store() -> Store {
        let mut s = Store::default();
        let record = Record::new(
            vec![CommandKind::Shell("cp a b".into())],
            vec!["sh".into(), "-c".into()],
            ".".into(),
            &[],
            vec![("a".into(), Some([1; 32]))],
            vec![],
        );
        s.insert("copy".into(), record);
        s
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fingerprints");
        store().save(&path).unwrap();
        let loaded = Store::load(&path);
        assert_eq!(loaded.record("copy"), store().record("copy"));
        assert_eq!(loaded.fingerprint("copy"), store().fingerprint("copy"));
        assert_eq!(loaded.record("other"), None);
        // Saving an untouched record copies its bytes unchanged.
        assert_eq!(loaded.encode(), store().encode());
    }

    #[test]
    fn corrupt_truncated_or_foreign_files_load_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fingerprints");
        assert!(Store::load(&path).tasks.is_empty());
        let bytes = store().encode();
        for cut in [0, 3, 8, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(Store::load(&path).tasks.is_empty(), "cut at {cut}");
        }
        let mut other_version = bytes.clone();
        other_version[7] = 0;
        std::fs::write(&path, other_version).unwrap();
        assert!(Store::load(&path).tasks.is_empty());
        let mut flipped = bytes;
        let last = flipped.len() - 40;
        flipped[last] ^= 0xff;
        std::fs::write(&path, flipped).unwrap();
        let _ = Store::load(&path); // must not panic, whatever it decodes
    }
}
