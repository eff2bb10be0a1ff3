//! `.orchestra/`: the one owner of everything orchestra keeps on disk.
//!
//! No other module names a path under `.orchestra/`. What lives there, each
//! in the file that owns it:
//!
//! | path | what | owner |
//! |---|---|---|
//! | `runs/<id>/state.json` | one record per build (`--resume`, `status`) | [`runs`] |
//! | `runs/<id>/owner` | locked while that build runs | [`runs`] |
//! | `history.jsonl` | one line per finished build | [`history`] |
//! | `locks/<milestone>`, `locks/.tasks/<task>`, `locks/.guard` | locks | [`locks`] |
//! | `fingerprints`, `fingerprints.d/<id>.journal`, `fingerprints.lock` | up-to-date records | [`journal`] |
//! | `plan-cache`, `plan-cache-unchecked` | compiled plans | [`Workspace::read_cache`] |
//! | `logs/<address>.log` | task output | [`Workspace::log_path`] |
//! | `cache/ac/…`, `cache/cas/…` | the local output cache | [`cas`] |
//!
//! Every file is opened through [`fs`]: never through a symlink, never a
//! FIFO waited on, never outside the project. What is persisted is masked
//! here ([`Workspace::masker`]), not by each caller. A file that cannot be
//! used (garbled, truncated, a directory or link in its place) becomes a
//! one-line note — printed by the coordinator as a warning — and the build
//! goes on as if it were missing.

pub(crate) mod cas;
pub(crate) mod clean;
pub(crate) mod fs;
pub(crate) mod history;
pub(crate) mod journal;
pub(crate) mod locks;
pub(crate) mod runs;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::secrets::Masker;
use fs::{Found, Kind};

/// The directory's name under the project root (input globs never walk it).
pub(crate) const DIR: &str = ".orchestra";

/// A project's `.orchestra/`. Cheap to clone; clones share their notes.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    root: PathBuf,
    masker: Arc<Masker>,
    notes: Arc<Mutex<Notes>>,
}

/// Notes not yet printed, and every note ever made (each is said once).
#[derive(Debug, Default)]
struct Notes {
    pending: Vec<String>,
    said: std::collections::HashSet<String>,
}

impl Workspace {
    /// The workspace of the project at `root`; secrets in `masker` are
    /// masked in everything it writes.
    pub(crate) fn new(root: &Path, masker: Masker) -> Self {
        Self {
            root: root.to_path_buf(),
            masker: Arc::new(masker),
            notes: Arc::default(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The secrets masked in everything persisted.
    pub(crate) fn masker(&self) -> &Masker {
        &self.masker
    }

    /// `.orchestra` itself (which may not exist).
    fn dir(&self) -> PathBuf {
        self.root.join(DIR)
    }

    /// What stands at `.orchestra`; anything but a directory or nothing
    /// makes every operation refuse.
    pub(crate) fn kind(&self) -> io::Result<Kind> {
        Kind::of(&self.dir())
    }

    /// Whether `.orchestra` can be used: absent or a real directory. A
    /// symlink (a cloned repository could ship `.orchestra -> ..`), file or
    /// FIFO there is refused with the message to show.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self.kind() {
            Ok(Kind::Missing | Kind::Dir) => Ok(()),
            Ok(kind) => Err(format!(
                "`{DIR}` is {}, not a directory: orchestra never follows or removes it; \
                 remove it yourself (`rm {DIR}`) if it is not yours",
                kind.described()
            )),
            Err(e) => Err(format!("cannot look at `{DIR}`: {e}")),
        }
    }

    /// `.orchestra/<parts…>` as real directories, created when missing.
    pub(crate) fn ensure(&self, parts: &[&str]) -> io::Result<PathBuf> {
        let mut all = Vec::with_capacity(parts.len() + 1);
        all.push(DIR);
        all.extend_from_slice(parts);
        fs::ensure_dir(&self.root, &all)
    }

    /// `.orchestra/<parts…>` without creating or checking anything, for
    /// reads (which check what they open) and messages.
    pub(crate) fn path(&self, parts: &[&str]) -> PathBuf {
        let mut path = self.dir();
        path.extend(parts);
        path
    }

    /// A directory `.orchestra/<parts…>` that exists and is no link: for
    /// listings, which must not follow one either.
    fn existing_dir(&self, parts: &[&str]) -> Option<PathBuf> {
        let mut path = self.root.clone();
        for part in std::iter::once(DIR).chain(parts.iter().copied()) {
            path.push(part);
            if Kind::of(&path).ok()? != Kind::Dir {
                return None;
            }
        }
        Some(path)
    }

    /// Keeps a one-line note about a file that could not be used.
    pub(crate) fn note(&self, text: impl Into<String>) {
        let text = self.masker.mask(&text.into()).into_owned();
        let mut notes = self.notes.lock().unwrap_or_else(PoisonError::into_inner);
        if notes.said.insert(text.clone()) {
            notes.pending.push(text);
        }
    }

    /// The notes kept since the last call, oldest first.
    pub(crate) fn take_notes(&self) -> Vec<String> {
        std::mem::take(
            &mut self
                .notes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pending,
        )
    }

    /// Reads `.orchestra/<parts…>`; `None` when missing or unusable (noted).
    pub(crate) fn read(&self, parts: &[&str]) -> Option<Vec<u8>> {
        if self.existing_dir(&parts[..parts.len() - 1]).is_none() {
            if self
                .kind()
                .is_ok_and(|k| !matches!(k, Kind::Missing | Kind::Dir))
            {
                self.note(format!("ignoring `{DIR}`: it is not a directory"));
            }
            return None;
        }
        match fs::read(&self.path(parts)) {
            Found::Missing => None,
            Found::Bytes(bytes) => Some(bytes),
            Found::Unusable(why) => {
                let shown = self.shown(&self.path(parts));
                self.note(format!("ignoring `{shown}`: {why}"));
                None
            }
        }
    }

    /// Serialises `value` as JSON with every secret masked, in its plain
    /// and its JSON-escaped form.
    pub(crate) fn masked_json(&self, value: &impl serde::Serialize, pretty: bool) -> Vec<u8> {
        let text = if pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .unwrap_or_default();
        self.masker.mask_json(&text).into_owned().into_bytes()
    }

    /// The cached plan bytes of `name` (`plan-cache` or
    /// `plan-cache-unchecked`).
    pub(crate) fn read_cache(&self, name: CacheFile) -> Option<Vec<u8>> {
        self.read(&[name.file()])
    }

    /// Replaces the plan cache `name` atomically (not flushed: a lost cache
    /// is only a slower next run).
    pub(crate) fn write_cache(&self, name: CacheFile, bytes: &[u8]) -> io::Result<()> {
        let dir = self.ensure(&[])?;
        fs::write_atomic(&dir, name.file(), bytes, false)
    }

    /// `.orchestra/logs`, created, for task logs.
    pub(crate) fn logs_dir(&self) -> io::Result<PathBuf> {
        self.ensure(&["logs"])
    }

    /// The log of the task at `address`: each address segment becomes a
    /// directory so addresses cannot collide
    /// (`entities/product/generate` → `.orchestra/logs/entities/product/generate.log`).
    /// Segments are encoded so none is `.` or `..`.
    pub(crate) fn log_path(&self, address: &str) -> PathBuf {
        let mut path = self.path(&["logs"]);
        let mut segments = address.split('/').peekable();
        while let Some(segment) = segments.next() {
            let segment = encode_name(segment);
            if segments.peek().is_some() {
                path.push(segment);
            } else {
                path.push(format!("{segment}.log"));
            }
        }
        path
    }
}

/// The two plan caches: one for plans validated with programs looked up on
/// PATH (`build`), one without (`plan`), so one command never evicts the
/// other's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheFile {
    Checked,
    Unchecked,
}

impl CacheFile {
    fn file(self) -> &'static str {
        match self {
            Self::Checked => "plan-cache",
            Self::Unchecked => "plan-cache-unchecked",
        }
    }
}

/// A name made safe as one path component: `%` and `/` are escaped, and
/// a leading `.` too, so no name is `.`, `..` or hidden (hidden names are
/// the workspace's own: `.guard`, `.tasks`).
pub(crate) fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '.' if i == 0 => out.push_str("%2E"),
            '\0' => out.push_str("%00"),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push('%');
    }
    out
}

/// The inverse of [`encode_name`].
pub(crate) fn decode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        match code {
            Some("25") => out.push('%'),
            Some("2F") => out.push('/'),
            Some("2E") => out.push('.'),
            Some("00") => out.push('\0'),
            _ => {
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_to_one_safe_component_and_back() {
        for name in ["M1", "..", ".", ".guard", "a/b", "100%", "x.y", ""] {
            let encoded = encode_name(name);
            assert!(!encoded.contains('/'), "{encoded}");
            assert!(!encoded.starts_with('.'), "{encoded}");
            assert!(!encoded.is_empty());
            if !name.is_empty() {
                assert_eq!(decode_name(&encoded), name);
            }
        }
    }

    #[test]
    fn log_paths_keep_segments_and_stay_inside() {
        let ws = Workspace::new(Path::new("/p"), Masker::default());
        assert_eq!(
            ws.log_path("entities/product/generate"),
            Path::new("/p/.orchestra/logs/entities/product/generate.log")
        );
        assert_eq!(
            ws.log_path("../../x"),
            Path::new("/p/.orchestra/logs/%2E./%2E./x.log")
        );
    }
}
