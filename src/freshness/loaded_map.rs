//! A map keyed by strings that mostly lie in the bytes of a loaded file.
//!
//! A no-op build loads tens of thousands of task addresses and file paths
//! from the fingerprint store and looks up each once: building an owned
//! `String` for every key (and freeing it at exit) cost more than the
//! lookups. Here a loaded key is a range of the file's bytes, read in
//! place; only keys added during the build are owned.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;

/// Where a key's bytes are, in 8 bytes (a table of tens of thousands of
/// entries is memory the build touches, and fresh memory is slow to
/// touch): `len` bytes at `start` of [`LoadedMap::bytes`] (checked to be
/// UTF-8 when loaded), or, with [`OWNED`] set in `len`, the key at index
/// `start` of [`LoadedMap::owned`].
#[derive(Debug, Clone, Copy)]
struct Key {
    start: u32,
    len: u32,
}

const OWNED: u32 = 1 << 31;

#[derive(Debug, Clone)]
pub(crate) struct LoadedMap<V> {
    /// The loaded file, shared by the maps read from it.
    bytes: Arc<Vec<u8>>,
    /// Keys added since load.
    owned: Vec<Box<str>>,
    table: HashTable<(Key, V)>,
    state: foldhash::fast::FixedState,
}

impl<V> Default for LoadedMap<V> {
    fn default() -> Self {
        Self::new(Arc::default(), 0)
    }
}

impl<V> LoadedMap<V> {
    /// An empty map whose loaded keys will lie in `bytes`.
    pub(crate) fn new(bytes: Arc<Vec<u8>>, capacity: usize) -> Self {
        Self {
            bytes,
            owned: Vec::new(),
            table: HashTable::with_capacity(capacity),
            state: foldhash::fast::FixedState::default(),
        }
    }

    fn key_bytes<'a>(bytes: &'a [u8], owned: &'a [Box<str>], key: Key) -> &'a [u8] {
        let start = key.start as usize;
        if key.len & OWNED == 0 {
            bytes
                .get(start..start + key.len as usize)
                .unwrap_or_default()
        } else {
            owned.get(start).map_or(&[], |k| k.as_bytes())
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.state.hash_one(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let (bytes, owned) = (&self.bytes, &self.owned);
        self.table
            .find(self.hash(key.as_bytes()), |(k, _)| {
                Self::key_bytes(bytes, owned, *k) == key.as_bytes()
            })
            .map(|(_, v)| v)
    }

    /// Inserts `value` under `key` (owned), returning what it replaced.
    pub(crate) fn insert(&mut self, key: &str, value: V) -> Option<V> {
        let hash = self.hash(key.as_bytes());
        let (bytes, owned, state) = (&self.bytes, &mut self.owned, &self.state);
        let slot = self.table.entry(
            hash,
            |(k, _)| Self::key_bytes(bytes, owned, *k) == key.as_bytes(),
            |(k, _)| state.hash_one(Self::key_bytes(bytes, owned, *k)),
        );
        match slot {
            Slot::Occupied(mut slot) => Some(std::mem::replace(&mut slot.get_mut().1, value)),
            Slot::Vacant(slot) => {
                let start = u32::try_from(owned.len()).unwrap_or(u32::MAX);
                owned.push(key.into());
                slot.insert((Key { start, len: OWNED }, value));
                None
            }
        }
    }

    /// Inserts `value` under the key at `range` of the loaded bytes, which
    /// the caller read as a string (so it is UTF-8); an existing key keeps
    /// the newer value, this one. Ranges beyond 4 GiB are not loaded keys
    /// (the store is far smaller): they are copied.
    pub(crate) fn insert_loaded(&mut self, range: Range<usize>, value: V) {
        let (Ok(start), Ok(len @ 0..OWNED)) =
            (u32::try_from(range.start), u32::try_from(range.len()))
        else {
            if let Some(key) = self
                .bytes
                .get(range)
                .and_then(|k| std::str::from_utf8(k).ok())
                .map(str::to_owned)
            {
                self.insert(&key, value);
            }
            return;
        };
        let key = Key { start, len };
        let (bytes, owned, state) = (&self.bytes, &self.owned, &self.state);
        let wanted = Self::key_bytes(bytes, owned, key);
        let slot = self.table.entry(
            state.hash_one(wanted),
            |(k, _)| Self::key_bytes(bytes, owned, *k) == wanted,
            |(k, _)| state.hash_one(Self::key_bytes(bytes, owned, *k)),
        );
        match slot {
            Slot::Occupied(mut slot) => slot.get_mut().1 = value,
            Slot::Vacant(slot) => {
                slot.insert((key, value));
            }
        }
    }

    /// Every key with its value, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.table.iter().map(|(k, v)| {
            let key = std::str::from_utf8(Self::key_bytes(&self.bytes, &self.owned, *k))
                .unwrap_or_default();
            (key, v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_eight_bytes() {
        assert_eq!(size_of::<Key>(), 8);
    }

    #[test]
    fn loaded_and_owned_keys_are_one_key_space() {
        let bytes = Arc::new(b"alpha beta".to_vec());
        let mut map = LoadedMap::new(bytes, 2);
        map.insert_loaded(0..5, 1);
        map.insert_loaded(6..10, 2);
        assert_eq!(map.get("alpha"), Some(&1));
        assert_eq!(map.get("beta"), Some(&2));
        assert_eq!(map.get("alph"), None);
        assert_eq!(map.insert("alpha", 3), Some(1), "an owned key replaces");
        assert_eq!(map.insert("gamma", 4), None);
        map.insert_loaded(6..10, 5);
        assert_eq!(map.len(), 3);
        let mut all: Vec<(&str, &i32)> = map.iter().collect();
        all.sort();
        assert_eq!(all, [("alpha", &3), ("beta", &5), ("gamma", &4)]);
    }
}
