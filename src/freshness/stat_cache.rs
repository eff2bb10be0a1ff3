//! File content hashes, recomputed only when a file's size, mtime or inode
//! changed since it was last hashed — the way git's index avoids reading
//! unchanged files — so a no-op build stats files and hashes nothing.
//!
//! A file whose mtime is within [`RACY_WINDOW`] of the moment it was hashed
//! could change again within the same timestamp tick without its stat
//! changing; such an entry is marked racy and hashed again next time.

use foldhash::{HashMap, HashMapExt};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::loaded_map::Interner;
use crate::codec::{Reader, Writer};

pub(crate) type Hash = [u8; 32];

const RACY_WINDOW: Duration = Duration::from_secs(2);

/// What we knew about one file when we last hashed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    pub(crate) ino: u64,
    pub(crate) racy: bool,
    pub(crate) hash: Hash,
}

/// A file's size, mtime (ns) and inode.
type Stat = (u64, i64, u64);

/// Everything known about files, by file id: each path is interned once
/// (a loaded store's paths read in place) and the entries, fresh stats and
/// seeded stats are vectors indexed by its id, so a file costs one hash
/// lookup per question rather than one per map.
#[derive(Debug, Default, Clone)]
pub(crate) struct StatCache {
    /// File ids by path.
    files: Interner,
    /// By file id: the last hash and the stat it was taken at.
    entries: Vec<Option<Entry>>,
    /// Files hashed (read) since load: the measure of a no-op's cost.
    pub(crate) hashed: usize,
    /// Files whose entry changed since load, to be journaled (in order;
    /// a file may repeat).
    changes: Vec<u32>,
    /// By file id: stats taken by [`StatCache::exists`] this run and not
    /// yet used: a task's output is usually the next task's input, and one
    /// stat serves both.
    fresh: Vec<Option<Stat>>,
    /// By file id: stats taken before the build (by the check for inputs
    /// that match nothing, [`Seen`]); see [`StatCache::seed`]. Read, not
    /// taken: every task that may use them shares them.
    seeded: Vec<Option<Stat>>,
    /// Globs expanded before the build, by pattern: the files each named.
    seeded_globs: HashMap<String, Vec<String>>,
    /// Whether the task being checked may use `seeded` stats and globs.
    seeded_usable: bool,
}

/// Stats of files taken before anything runs (whether each literal input
/// exists), handed to the build's [`StatCache`] so it does not take them
/// again.
#[derive(Debug, Default)]
pub(crate) struct Seen<'p> {
    /// Keyed by paths borrowed from the plan: no copy per file.
    stats: HashMap<&'p str, Stat>,
    /// Paths looked up by [`Seen::prefetch`] that are not files: whether
    /// each exists (a directory) or not.
    others: HashMap<&'p str, bool>,
    /// Input globs expanded by the check: the files each pattern named.
    globs: HashMap<&'p str, Vec<String>>,
}

/// What one stat found.
enum Found {
    File((u64, i64, u64)),
    Other,
    Missing,
}

/// `rel` under `root`, without building a path when the root is the
/// current directory (tens of thousands of allocations in a no-op build).
fn under<'a>(root: &Path, rel: &'a str) -> std::borrow::Cow<'a, Path> {
    if root == Path::new(".") && !rel.starts_with('/') {
        Path::new(rel).into()
    } else {
        root.join(rel).into()
    }
}

fn stat(root: &Path, rel: &str) -> Found {
    match std::fs::metadata(under(root, rel)) {
        Ok(meta) if meta.is_file() => Found::File((meta.len(), mtime_ns(&meta), meta.ino())),
        Ok(_) => Found::Other,
        Err(_) => Found::Missing,
    }
}

/// Below this many paths, one thread stats them all.
const PARALLEL_FROM: usize = 2_000;

impl<'p> Seen<'p> {
    /// Stats `rels` (under `root`) on every core at once — ninja stats one
    /// file at a time — and keeps what it found for [`Seen::exists`] and
    /// the build's [`StatCache`].
    pub(crate) fn prefetch(&mut self, root: &Path, rels: &[&'p str]) {
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(4);
        let found: Vec<Vec<(&'p str, Found)>> = if threads < 2 || rels.len() < PARALLEL_FROM {
            vec![rels.iter().map(|r| (*r, stat(root, r))).collect()]
        } else {
            let chunk = rels.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let workers: Vec<_> = rels
                    .chunks(chunk)
                    .map(|part| {
                        scope.spawn(move || {
                            part.iter().map(|r| (*r, stat(root, r))).collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap_or_default())
                    .collect()
            })
        };
        self.stats.reserve(rels.len());
        for (rel, found) in found.into_iter().flatten() {
            match found {
                Found::File(stat) => {
                    self.stats.insert(rel, stat);
                }
                Found::Other => {
                    self.others.insert(rel, true);
                }
                Found::Missing => {
                    self.others.insert(rel, false);
                }
            }
        }
    }

    /// Whether `rel` (under `root`) exists, a file or a directory; a
    /// file's stat is kept.
    pub(crate) fn exists(&mut self, root: &Path, rel: &'p str) -> bool {
        if self.stats.contains_key(rel) {
            return true;
        }
        if let Some(exists) = self.others.get(rel) {
            return *exists;
        }
        match stat(root, rel) {
            Found::File(stat) => {
                self.stats.insert(rel, stat);
                true
            }
            Found::Other => true,
            Found::Missing => false,
        }
    }

    /// The files `pattern` named when [`Seen::keep_glob`] kept it.
    pub(crate) fn glob(&self, pattern: &str) -> Option<&[String]> {
        self.globs.get(pattern).map(Vec::as_slice)
    }

    /// Keeps what `pattern` expanded to, for the build's checks.
    pub(crate) fn keep_glob(&mut self, pattern: &'p str, files: Vec<String>) {
        self.globs.insert(pattern, files);
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Hashes a file's contents with BLAKE3.
pub(crate) fn hash_file(path: &Path) -> io::Result<Hash> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(*hasher.finalize().as_bytes())
}

impl StatCache {
    /// The id of `rel`, given one when it has none.
    fn id(&mut self, rel: &str) -> usize {
        let id = self.files.intern(rel) as usize;
        if self.entries.len() <= id {
            self.entries.resize(id + 1, None);
        }
        id
    }

    /// The stat kept for `id` in `stats`, if any.
    fn kept(stats: &[Option<Stat>], id: usize) -> Option<Stat> {
        stats.get(id).copied().flatten()
    }

    /// Keeps `stat` for `id` in `stats`.
    fn keep(stats: &mut Vec<Option<Stat>>, id: usize, stat: Option<Stat>) {
        if stats.len() <= id {
            if stat.is_none() {
                return;
            }
            stats.resize(id + 1, None);
        }
        stats[id] = stat;
    }

    /// The hash of `rel` (relative to `root`), from the cache when its stat
    /// is unchanged and the entry is not racy.
    pub(crate) fn hash(&mut self, root: &Path, rel: &str) -> io::Result<Hash> {
        self.entry_now(root, rel).map(|e| e.hash)
    }

    /// The hash of `rel`, as [`StatCache::hash`], with the modification
    /// time (ns since the epoch) it was taken at.
    pub(crate) fn hash_and_mtime(&mut self, root: &Path, rel: &str) -> io::Result<(Hash, i64)> {
        self.entry_now(root, rel).map(|e| (e.hash, e.mtime_ns))
    }

    /// `rel`'s entry as the file is now: the cached one when its stat is
    /// unchanged and it is not racy, else hashed again.
    fn entry_now(&mut self, root: &Path, rel: &str) -> io::Result<Entry> {
        let path = under(root, rel);
        let id = self.id(rel);
        let taken = Self::kept(&self.fresh, id).or_else(|| {
            self.seeded_usable
                .then(|| Self::kept(&self.seeded, id))
                .flatten()
        });
        Self::keep(&mut self.fresh, id, None);
        let (size, mtime, ino) = if let Some(stat) = taken {
            stat
        } else {
            let meta = std::fs::metadata(&path)?;
            let stat = (meta.len(), mtime_ns(&meta), meta.ino());
            // Taken for a task downstream of nothing that ran, it serves
            // the next such task as one taken before the build would (a
            // header named by a hundred depfiles is stat'ed once).
            if self.seeded_usable {
                Self::keep(&mut self.seeded, id, Some(stat));
            }
            stat
        };
        if let Some(e) = &self.entries[id]
            && !e.racy
            && e.size == size
            && e.mtime_ns == mtime
            && e.ino == ino
        {
            return Ok(*e);
        }
        let hash = hash_file(&path)?;
        self.hashed += 1;
        let window = i64::try_from(RACY_WINDOW.as_nanos()).unwrap_or(i64::MAX);
        let entry = Entry {
            size,
            mtime_ns: mtime,
            ino,
            racy: now_ns().saturating_sub(mtime) < window,
            hash,
        };
        if self.entries[id].replace(entry) != Some(entry) {
            self.changes.push(u32::try_from(id).unwrap_or(u32::MAX));
        }
        Ok(entry)
    }

    /// Whether `rel` exists (a file or directory); a file's stat is kept
    /// for the next [`StatCache::hash`] of it.
    pub(crate) fn exists(&mut self, root: &Path, rel: &str) -> bool {
        let id = self.id(rel);
        if self.seeded_usable && Self::kept(&self.seeded, id).is_some() {
            return true;
        }
        match std::fs::metadata(under(root, rel)) {
            Ok(meta) if meta.is_file() => {
                let stat = (meta.len(), mtime_ns(&meta), meta.ino());
                Self::keep(&mut self.fresh, id, Some(stat));
                true
            }
            Ok(_) => true,
            Err(_) => false,
        }
    }

    /// Takes the stats of `seen` for the build's checks, so a no-op build
    /// stats each file once. They were taken before anything ran, so they
    /// hold only for tasks downstream of nothing that ran in this build —
    /// a task that ran may have written any file, declared or not; the
    /// caller says which with [`StatCache::use_seeded`].
    pub(crate) fn seed(&mut self, seen: Seen<'_>) {
        self.seeded = vec![None; self.files.len()];
        for (path, stat) in seen.stats {
            let id = self.id(path);
            Self::keep(&mut self.seeded, id, Some(stat));
        }
        self.seeded_globs = seen
            .globs
            .into_iter()
            .map(|(pattern, files)| (pattern.to_owned(), files))
            .collect();
        self.seeded_usable = true;
    }

    /// The files `pattern` named before the build, when the task being
    /// checked may use what was seen then.
    pub(crate) fn seeded_glob(&self, pattern: &str) -> Option<&[String]> {
        self.seeded_usable
            .then(|| self.seeded_globs.get(pattern).map(Vec::as_slice))
            .flatten()
    }

    /// Whether the next lookups may use the seeded stats.
    pub(crate) fn use_seeded(&mut self, usable: bool) {
        self.seeded_usable = usable;
    }

    /// Drops what is known of `rel`'s stat now (kept by
    /// [`StatCache::exists`] or seen before the build): the file is about
    /// to be rewritten (its task runs), so the stat would be stale by the
    /// time another task hashes it.
    pub(crate) fn forget_fresh(&mut self, rel: &str) {
        if let Some(id) = self.files.get(rel) {
            Self::keep(&mut self.fresh, id as usize, None);
            Self::keep(&mut self.seeded, id as usize, None);
        }
    }

    /// Whether anything changed since load.
    #[cfg(test)]
    pub(crate) fn is_changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The entries changed since load, each path with its encoded entry
    /// (for a journal; [`StatCache::apply`] takes them back).
    pub(crate) fn changed_entries(&self) -> Vec<(&str, Vec<u8>)> {
        let mut seen = std::collections::HashSet::new();
        self.changes
            .iter()
            .rev()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| {
                let entry = self.entries.get(*id as usize)?.as_ref()?;
                let mut w = Writer::default();
                encode_entry(&mut w, entry);
                Some((self.files.get_str(*id), w.bytes))
            })
            .collect()
    }

    /// Takes back an entry from a journal (garbage is passed over).
    pub(crate) fn apply(&mut self, path: &str, bytes: &[u8]) {
        let mut r = Reader::new(bytes);
        if let Some(entry) = decode_entry(&mut r)
            && r.is_empty()
        {
            let id = self.id(path);
            self.entries[id] = Some(entry);
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        let mut entries: Vec<(&str, &Entry)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(id, entry)| {
                Some((self.files.get_str(u32::try_from(id).ok()?), entry.as_ref()?))
            })
            .collect();
        entries.sort_unstable_by_key(|(path, _)| *path);
        w.u64(entries.len() as u64);
        for (path, entry) in entries {
            w.str(path);
            encode_entry(w, entry);
        }
    }

    /// Decodes the cache from `r`, which reads `bytes`: its paths stay
    /// there, read in place.
    pub(crate) fn decode(r: &mut Reader<'_>, bytes: &std::sync::Arc<Vec<u8>>) -> Option<Self> {
        let count = r.count()?;
        let mut files = Interner::new(bytes.clone(), count);
        let mut entries = Vec::with_capacity(count);
        let base = bytes.as_ptr() as usize;
        for _ in 0..count {
            let path = r.str()?;
            let start = (path.as_ptr() as usize).checked_sub(base)?;
            let id = files.intern_loaded(start..start + path.len()) as usize;
            let entry = decode_entry(r)?;
            if entries.len() <= id {
                entries.resize(id + 1, None);
            }
            entries[id] = Some(entry);
        }
        Some(Self {
            files,
            entries,
            hashed: 0,
            changes: Vec::new(),
            fresh: Vec::new(),
            seeded: Vec::new(),
            seeded_globs: HashMap::new(),
            seeded_usable: false,
        })
    }

    #[cfg(test)]
    fn entry(&self, rel: &str) -> Option<Entry> {
        let id = self.files.get(rel)? as usize;
        self.entries.get(id).copied().flatten()
    }
}

fn encode_entry(w: &mut Writer, e: &Entry) {
    w.u64(e.size);
    w.i64(e.mtime_ns);
    w.u64(e.ino);
    w.bool(e.racy);
    w.hash(&e.hash);
}

fn decode_entry(r: &mut Reader<'_>) -> Option<Entry> {
    Some(Entry {
        size: r.u64()?,
        mtime_ns: r.i64()?,
        ino: r.u64()?,
        racy: r.bool()?,
        hash: r.hash()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, seconds: u64) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let when = SystemTime::now() - Duration::from_secs(seconds);
        file.set_modified(when).unwrap();
    }

    #[test]
    fn unchanged_files_are_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        age(&path, 100);
        let mut cache = StatCache::default();
        let first = cache.hash(dir.path(), "a.txt").unwrap();
        assert_eq!(cache.hashed, 1);
        assert!(!cache.entry("a.txt").unwrap().racy);
        assert_eq!(cache.hash(dir.path(), "a.txt").unwrap(), first);
        assert_eq!(cache.hashed, 1, "second lookup is served from the cache");
        // A touch changes the mtime: the file is read again, same hash.
        age(&path, 50);
        assert_eq!(cache.hash(dir.path(), "a.txt").unwrap(), first);
        assert_eq!(cache.hashed, 2);
        std::fs::write(&path, "two").unwrap();
        assert_ne!(cache.hash(dir.path(), "a.txt").unwrap(), first);
    }

    #[test]
    fn recently_modified_files_are_racy_and_rehashed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "x").unwrap();
        let mut cache = StatCache::default();
        cache.hash(dir.path(), "b").unwrap();
        assert!(cache.entry("b").unwrap().racy);
        cache.hash(dir.path(), "b").unwrap();
        assert_eq!(cache.hashed, 2);
    }

    #[test]
    fn a_forgotten_fresh_stat_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("out"), "old").unwrap();
        age(&dir.path().join("out"), 10);
        let mut cache = StatCache::default();
        let old = cache.hash(dir.path(), "out").unwrap();
        // The output exists before its task runs...
        assert!(cache.exists(dir.path(), "out"));
        cache.forget_fresh("out");
        // ...then the task rewrites it, same size, new mtime and content.
        std::fs::write(dir.path().join("out"), "new").unwrap();
        assert_ne!(cache.hash(dir.path(), "out").unwrap(), old);
    }

    #[test]
    fn stats_seen_before_the_build_serve_until_a_task_runs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("in"), "old").unwrap();
        age(&dir.path().join("in"), 10);
        let mut cache = StatCache::default();
        let old = cache.hash(dir.path(), "in").unwrap();
        let mut seen = Seen::default();
        assert!(seen.exists(dir.path(), "in"));
        assert!(!seen.exists(dir.path(), "missing"));
        cache.seed(seen);
        // Removed behind the cache's back: the seeded stat still answers.
        std::fs::remove_file(dir.path().join("in")).unwrap();
        assert!(cache.exists(dir.path(), "in"), "served from the seed");
        assert_eq!(cache.hash(dir.path(), "in").unwrap(), old);
        // Once a task runs, what was seen before counts for nothing.
        std::fs::write(dir.path().join("in"), "new").unwrap();
        age(&dir.path().join("in"), 10);
        let mut seen = Seen::default();
        assert!(seen.exists(dir.path(), "in"));
        cache.seed(seen);
        std::fs::write(dir.path().join("in"), "newer!").unwrap();
        cache.use_seeded(false);
        assert_ne!(cache.hash(dir.path(), "in").unwrap(), old);
        assert_eq!(cache.hashed, 2);
    }

    #[test]
    fn a_stat_taken_for_a_task_downstream_of_nothing_serves_the_next() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("util.h"), "x").unwrap();
        age(&dir.path().join("util.h"), 10);
        let mut cache = StatCache::default();
        cache.seed(Seen::default());
        let first = cache.hash(dir.path(), "util.h").unwrap();
        // Gone since: the stat taken a moment ago still answers...
        std::fs::remove_file(dir.path().join("util.h")).unwrap();
        assert_eq!(cache.hash(dir.path(), "util.h").unwrap(), first);
        // ...but not for a task downstream of one that ran.
        cache.use_seeded(false);
        assert!(cache.hash(dir.path(), "util.h").is_err());
    }

    #[test]
    fn prefetched_stats_answer_like_single_ones_on_every_core() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let names: Vec<String> = (0..PARALLEL_FROM + 10).map(|i| format!("f{i}")).collect();
        for name in names.iter().step_by(2) {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let mut rels: Vec<&str> = names.iter().map(String::as_str).collect();
        rels.push("d");
        let mut seen = Seen::default();
        seen.prefetch(dir.path(), &rels);
        // Gone since: the prefetched answer stands until a task runs.
        std::fs::remove_file(dir.path().join("f0")).unwrap();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(seen.exists(dir.path(), name), i % 2 == 0, "{name}");
        }
        assert!(seen.exists(dir.path(), "d"));
        assert_eq!(seen.stats.len(), names.len().div_ceil(2));
    }

    #[test]
    fn encodes_and_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        std::fs::write(&path, "x").unwrap();
        age(&path, 10);
        let mut cache = StatCache::default();
        cache.hash(dir.path(), "c").unwrap();
        let mut w = Writer::default();
        cache.encode(&mut w);
        let bytes = std::sync::Arc::new(w.bytes);
        let back = StatCache::decode(&mut Reader::new(&bytes), &bytes).unwrap();
        assert_eq!(back.entry("c"), cache.entry("c"));
        assert!(!back.is_changed());
        // What changed travels through a journal on its own.
        let mut other = StatCache::default();
        for (path, bytes) in cache.changed_entries() {
            other.apply(path, &bytes);
        }
        assert_eq!(other.entry("c"), cache.entry("c"));
        assert!(!other.is_changed());
        other.apply("d", b"torn");
        assert_eq!(other.entry("d"), None);
    }
}
