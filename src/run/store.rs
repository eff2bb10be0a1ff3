//! `.orchestra/fingerprints`: the stat cache and every task's record at its
//! last success, in one compact binary file with a magic and version, so a
//! no-op build loads it in a few milliseconds. A missing, old or corrupt
//! file loads as empty ("rebuild"), never as an error.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use super::fingerprint::Record;
use super::stat_cache::StatCache;
use crate::codec::{Reader, Writer};

/// `ORCHFP` and a version byte; bump the version when the layout changes.
const MAGIC: &[u8; 8] = b"ORCHFP\x00\x01";

#[derive(Debug, Default)]
pub struct Store {
    pub stat: StatCache,
    pub tasks: HashMap<String, Record>,
}

impl Store {
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| Self::decode(&bytes))
            .unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        let mut r = Reader::new(body);
        let stat = StatCache::decode(&mut r)?;
        let count = r.count()?;
        let mut tasks = HashMap::with_capacity(count);
        for _ in 0..count {
            let address = r.str()?.to_owned();
            tasks.insert(address, Record::decode(&mut r)?);
        }
        r.is_empty().then_some(Self { stat, tasks })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        self.stat.encode(&mut w);
        w.u64(self.tasks.len() as u64);
        let mut addresses: Vec<&String> = self.tasks.keys().collect();
        addresses.sort();
        for address in addresses {
            w.str(address);
            self.tasks[address].encode(&mut w);
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
        s.tasks.insert("copy".into(), record);
        s
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fingerprints");
        store().save(&path).unwrap();
        assert_eq!(Store::load(&path).tasks, store().tasks);
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
