//! Interned strings that mostly lie in the bytes of a loaded file, and a
//! map built on them.
//!
//! A no-op build loads tens of thousands of task addresses and file paths
//! from the fingerprint store and looks up each once: building an owned
//! `String` for every key (and freeing it at exit) cost more than the
//! lookups. An [`Interner`] gives each distinct string a dense id; a loaded
//! string is a range of the file's bytes, read in place, and only strings
//! added during the build are owned. What is known per id then lives in
//! plain vectors indexed by it (the stat cache), or in a [`LoadedMap`].

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;

/// Where a string's bytes are, in 8 bytes (a table of tens of thousands of
/// entries is memory the build touches, and fresh memory is slow to
/// touch): `len` bytes at `start` of [`Interner::bytes`] (checked to be
/// UTF-8 when loaded), or, with [`OWNED`] set in `len`, the string at index
/// `start` of [`Interner::owned`].
#[derive(Debug, Clone, Copy)]
struct Key {
    start: u32,
    len: u32,
}

const OWNED: u32 = 1 << 31;

/// Distinct strings, each with a dense id (0, 1, 2… in the order added).
#[derive(Debug, Clone)]
pub(crate) struct Interner {
    /// The loaded file, shared by the tables read from it.
    bytes: Arc<Vec<u8>>,
    /// Strings added since load.
    owned: Vec<Box<str>>,
    /// Each id's string.
    keys: Vec<Key>,
    /// Ids, by the hash of their string.
    table: HashTable<u32>,
    state: foldhash::fast::FixedState,
}

impl Default for Interner {
    fn default() -> Self {
        Self::new(Arc::default(), 0)
    }
}

impl Interner {
    /// An empty interner whose loaded strings will lie in `bytes`.
    pub(crate) fn new(bytes: Arc<Vec<u8>>, capacity: usize) -> Self {
        Self {
            bytes,
            owned: Vec::new(),
            keys: Vec::with_capacity(capacity),
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

    /// How many strings there are (the next id).
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The string of `id`.
    pub(crate) fn get_str(&self, id: u32) -> &str {
        self.keys.get(id as usize).map_or("", |key| {
            std::str::from_utf8(Self::key_bytes(&self.bytes, &self.owned, *key)).unwrap_or_default()
        })
    }

    /// The id of `s`, if it has one.
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        let (bytes, owned, keys) = (&self.bytes, &self.owned, &self.keys);
        self.table
            .find(self.state.hash_one(s.as_bytes()), |id| {
                Self::key_bytes(bytes, owned, keys[*id as usize]) == s.as_bytes()
            })
            .copied()
    }

    /// The id of `s`, given one (a copy of `s` kept) when it has none.
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        self.find_or_add(s.as_bytes(), |owned| {
            let start = u32::try_from(owned.len()).unwrap_or(u32::MAX);
            owned.push(s.into());
            Key { start, len: OWNED }
        })
    }

    /// The id of the string at `range` of the loaded bytes, which the
    /// caller read as a string (so it is UTF-8). Ranges beyond 2 GiB are
    /// copied (the store is far smaller).
    pub(crate) fn intern_loaded(&mut self, range: Range<usize>) -> u32 {
        let (Ok(start), Ok(len @ 0..OWNED)) =
            (u32::try_from(range.start), u32::try_from(range.len()))
        else {
            let copied = self
                .bytes
                .get(range)
                .and_then(|k| std::str::from_utf8(k).ok())
                .unwrap_or_default()
                .to_owned();
            return self.intern(&copied);
        };
        let key = Key { start, len };
        let bytes = Arc::clone(&self.bytes);
        let wanted = Self::key_bytes(&bytes, &[], key);
        self.find_or_add(wanted, |_| key)
    }

    fn find_or_add(&mut self, wanted: &[u8], key: impl FnOnce(&mut Vec<Box<str>>) -> Key) -> u32 {
        let (bytes, keys, state) = (&self.bytes, &mut self.keys, &self.state);
        let owned = &mut self.owned;
        let slot = self.table.entry(
            state.hash_one(wanted),
            |id| Self::key_bytes(bytes, owned, keys[*id as usize]) == wanted,
            |id| state.hash_one(Self::key_bytes(bytes, owned, keys[*id as usize])),
        );
        match slot {
            Slot::Occupied(slot) => *slot.get(),
            Slot::Vacant(slot) => {
                let id = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                keys.push(key(owned));
                slot.insert(id);
                id
            }
        }
    }
}

/// A map from strings (interned, mostly read in place) to values.
#[derive(Debug, Clone)]
pub(crate) struct LoadedMap<V> {
    keys: Interner,
    /// By key id; `None` for a key without a value (none is ever removed,
    /// so this is only for ids interned elsewhere first).
    values: Vec<Option<V>>,
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
            keys: Interner::new(bytes, capacity),
            values: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.values.get(self.keys.get(key)? as usize)?.as_ref()
    }

    fn put(&mut self, id: u32, value: V) -> Option<V> {
        let id = id as usize;
        if self.values.len() <= id {
            self.values.resize_with(id + 1, || None);
        }
        self.values[id].replace(value)
    }

    /// Inserts `value` under `key` (owned), returning what it replaced.
    pub(crate) fn insert(&mut self, key: &str, value: V) -> Option<V> {
        let id = self.keys.intern(key);
        self.put(id, value)
    }

    /// Inserts `value` under the key at `range` of the loaded bytes, which
    /// the caller read as a string; an existing key takes this value.
    pub(crate) fn insert_loaded(&mut self, range: Range<usize>, value: V) {
        let id = self.keys.intern_loaded(range);
        self.put(id, value);
    }

    /// Every key with its value, in the order keys were added.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.values.iter().enumerate().filter_map(|(id, value)| {
            let id = u32::try_from(id).ok()?;
            Some((self.keys.get_str(id), value.as_ref()?))
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
    fn loaded_and_owned_strings_are_one_id_space() {
        let bytes = Arc::new(b"alpha beta".to_vec());
        let mut strings = Interner::new(bytes, 2);
        assert_eq!(strings.intern_loaded(0..5), 0);
        assert_eq!(strings.intern_loaded(6..10), 1);
        assert_eq!(
            strings.intern("alpha"),
            0,
            "an owned copy finds the loaded one"
        );
        assert_eq!(strings.intern("gamma"), 2);
        assert_eq!(strings.intern_loaded(6..10), 1);
        assert_eq!(strings.get("beta"), Some(1));
        assert_eq!(strings.get("alph"), None);
        assert_eq!(
            (0..3).map(|id| strings.get_str(id)).collect::<Vec<_>>(),
            ["alpha", "beta", "gamma"]
        );
        assert_eq!(strings.len(), 3);
    }

    #[test]
    fn a_map_replaces_and_lists_its_values() {
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
        let all: Vec<(&str, &i32)> = map.iter().collect();
        assert_eq!(all, [("alpha", &3), ("beta", &5), ("gamma", &4)]);
    }
}
