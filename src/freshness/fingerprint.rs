//! Task fingerprints: a BLAKE3 hash over everything that decides a task's
//! result — its commands after templating, the shell, `dir`, the env it
//! sets, the contents of every input file, and the fingerprints of the
//! tasks it needs — plus the parts themselves, so a changed fingerprint can
//! be explained ("input changed: src/a.rs") rather than just reported.
//!
//! Env values are kept only as hashes: they may hold secrets.

use std::fmt;

use super::stat_cache::Hash;
use crate::codec::{Reader, Writer};
use crate::model::CommandKind;
use crate::plan::describe::command_line;

/// What a task's last success was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) fingerprint: Hash,
    /// A hash of what its outputs held after it ran (`None` for a task
    /// without outputs): what its dependents fingerprint it by, so two
    /// runs that write the same bytes leave them up to date. Not part of
    /// its own fingerprint.
    pub(crate) produced: Option<Hash>,
    /// How long its last successful run took (milliseconds): what a build
    /// that finds it up to date saved. Not part of its fingerprint.
    pub(crate) took_ms: u64,
    pub(crate) commands: Vec<CommandKind>,
    pub(crate) shell: Vec<String>,
    pub(crate) dir: String,
    /// Sorted by name; values hashed.
    pub(crate) env: Vec<(String, Hash)>,
    /// Sorted by path; `None` for a named input that does not exist.
    pub(crate) inputs: Vec<(String, Option<Hash>)>,
    /// Sorted by address.
    pub(crate) upstream: Vec<(String, Hash)>,
    /// Files its depfile named after its last success, sorted by path;
    /// `None` for one that did not exist (or changed while it ran).
    pub(crate) discovered: Vec<(String, Option<Hash>)>,
}

fn hash_str(s: &str) -> Hash {
    *blake3::hash(s.as_bytes()).as_bytes()
}

/// The bytes a fingerprint is the hash of (env, inputs and upstream
/// sorted by the caller), written the same way for a [`Record`] and for
/// borrowed [`Parts`].
fn encode_parts<'a>(
    w: &mut Writer,
    commands: &[&CommandKind],
    shell: &[String],
    dir: &str,
    env: impl ExactSizeIterator<Item = (&'a str, &'a Hash)>,
    inputs: impl ExactSizeIterator<Item = (&'a str, Option<&'a Hash>)>,
    upstream: impl ExactSizeIterator<Item = (&'a str, &'a Hash)>,
) {
    w.u64(commands.len() as u64);
    for command in commands {
        match command {
            CommandKind::Shell(line) => {
                w.u64(0);
                w.str(line);
            }
            CommandKind::Exec(argv) => {
                w.u64(1);
                w.u64(argv.len() as u64);
                for a in argv {
                    w.str(a);
                }
            }
        }
    }
    w.u64(shell.len() as u64);
    for s in shell {
        w.str(s);
    }
    w.str(dir);
    w.u64(env.len() as u64);
    for (name, value) in env {
        w.str(name);
        w.hash(value);
    }
    encode_files(w, inputs);
    w.u64(upstream.len() as u64);
    for (address, hash) in upstream {
        w.str(address);
        w.hash(hash);
    }
}

/// The files a depfile named, after the other parts — only when there are
/// any: a task without a depfile fingerprints (and is stored) exactly as
/// before depfiles existed.
fn encode_discovered<'a>(
    w: &mut Writer,
    discovered: impl ExactSizeIterator<Item = (&'a str, Option<&'a Hash>)>,
) {
    if discovered.len() > 0 {
        encode_files(w, discovered);
    }
}

/// Files with their content hashes (`None`: the file does not exist), as
/// fingerprints and records write them: inputs, discovered files, outputs.
pub(super) fn encode_files<'a>(
    w: &mut Writer,
    files: impl ExactSizeIterator<Item = (&'a str, Option<&'a Hash>)>,
) {
    w.u64(files.len() as u64);
    for (path, hash) in files {
        w.str(path);
        w.bool(hash.is_some());
        if let Some(h) = hash {
            w.hash(h);
        }
    }
}

/// What [`encode_files`] wrote.
fn decode_files(r: &mut Reader<'_>) -> Option<Vec<(String, Option<Hash>)>> {
    let mut files = Vec::new();
    for _ in 0..r.count()? {
        let path = r.str()?.to_owned();
        let hash = if r.bool()? { Some(r.hash()?) } else { None };
        files.push((path, hash));
    }
    Some(files)
}

/// What a task's fingerprint is computed from, borrowed from the plan
/// where it can be: a no-op build fingerprints every task and needs an
/// owned [`Record`] only for those whose fingerprint changed (to store or
/// explain it).
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    pub(crate) commands: Vec<&'a CommandKind>,
    pub(crate) shell: &'a [String],
    pub(crate) dir: &'a str,
    pub(crate) env: &'a [(String, String)],
    /// A file's path, and its content hash (`None`: it does not exist).
    pub(crate) inputs: Vec<(std::borrow::Cow<'a, str>, Option<Hash>)>,
    pub(crate) upstream: Vec<(&'a str, Hash)>,
    /// The files its depfile named last time, hashed now.
    pub(crate) discovered: Vec<(String, Option<Hash>)>,
}

impl Parts<'_> {
    /// The env as the command gets it (later entries win), by name, with
    /// its values hashed.
    fn env(&self) -> Vec<(&str, Hash)> {
        let mut merged: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
        for (k, v) in self.env {
            merged.insert(k, v);
        }
        merged.into_iter().map(|(k, v)| (k, hash_str(v))).collect()
    }

    /// The fingerprint, as [`Record::new`] would compute it; `scratch` is
    /// reused from task to task.
    pub(crate) fn fingerprint(&mut self, scratch: &mut Writer) -> Hash {
        self.inputs.sort();
        self.upstream.sort_unstable();
        self.discovered.sort();
        let env = self.env();
        scratch.bytes.clear();
        encode_parts(
            scratch,
            &self.commands,
            self.shell,
            self.dir,
            env.iter().map(|(k, v)| (*k, v)),
            self.inputs.iter().map(|(p, h)| (p.as_ref(), h.as_ref())),
            self.upstream.iter().map(|(a, h)| (*a, h)),
        );
        encode_discovered(
            scratch,
            self.discovered
                .iter()
                .map(|(p, h)| (p.as_str(), h.as_ref())),
        );
        *blake3::hash(&scratch.bytes).as_bytes()
    }

    /// The owned record, to store or explain.
    pub(crate) fn into_record(self) -> Record {
        Record::new(
            self.commands.into_iter().cloned().collect(),
            self.shell.to_vec(),
            self.dir.to_owned(),
            self.env,
            self.inputs
                .into_iter()
                .map(|(p, h)| (p.into_owned(), h))
                .collect(),
            self.upstream
                .into_iter()
                .map(|(a, h)| (a.to_owned(), h))
                .collect(),
        )
        .with_discovered(self.discovered)
    }
}

impl Record {
    pub(crate) fn new(
        commands: Vec<CommandKind>,
        shell: Vec<String>,
        dir: String,
        env: &[(String, String)],
        mut inputs: Vec<(String, Option<Hash>)>,
        mut upstream: Vec<(String, Hash)>,
    ) -> Self {
        // Later entries win, as when the env is applied.
        let mut merged: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
        for (k, v) in env {
            merged.insert(k, v);
        }
        let env = merged
            .into_iter()
            .map(|(k, v)| (k.to_owned(), hash_str(v)))
            .collect();
        inputs.sort();
        upstream.sort();
        let mut record = Self {
            fingerprint: [0; 32],
            produced: None,
            took_ms: 0,
            commands,
            shell,
            dir,
            env,
            inputs,
            upstream,
            discovered: Vec::new(),
        };
        record.refingerprint();
        record
    }

    /// The record with `discovered` as the files its depfile named, and
    /// the fingerprint they make.
    pub(crate) fn with_discovered(mut self, mut discovered: Vec<(String, Option<Hash>)>) -> Self {
        discovered.sort();
        discovered.dedup_by(|a, b| a.0 == b.0);
        if discovered != self.discovered {
            self.discovered = discovered;
            self.refingerprint();
        }
        self
    }

    fn refingerprint(&mut self) {
        let mut w = Writer::default();
        self.encode_parts(&mut w);
        self.fingerprint = *blake3::hash(&w.bytes).as_bytes();
    }

    /// Masks secrets in the commands it keeps, after the fingerprint was
    /// taken of them as they run.
    pub(crate) fn mask(&mut self, masker: &crate::secrets::Masker) {
        if masker.is_empty() {
            return;
        }
        for command in &mut self.commands {
            match command {
                CommandKind::Shell(line) => *line = masker.mask(line).into_owned().into(),
                CommandKind::Exec(argv) => {
                    for arg in argv {
                        *arg = masker.mask(arg).into_owned().into();
                    }
                }
            }
        }
    }

    fn encode_parts(&self, w: &mut Writer) {
        encode_parts(
            w,
            &self.commands.iter().collect::<Vec<_>>(),
            &self.shell,
            &self.dir,
            self.env.iter().map(|(k, v)| (k.as_str(), v)),
            self.inputs.iter().map(|(p, h)| (p.as_str(), h.as_ref())),
            self.upstream.iter().map(|(a, h)| (a.as_str(), h)),
        );
        encode_discovered(
            w,
            self.discovered
                .iter()
                .map(|(p, h)| (p.as_str(), h.as_ref())),
        );
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.hash(&self.fingerprint);
        // Right after the fingerprint, at a fixed place: a no-op build reads
        // it without decoding the rest (`produced_of`).
        w.bool(self.produced.is_some());
        w.hash(&self.produced.unwrap_or_default());
        w.u64(self.took_ms);
        self.encode_parts(w);
    }

    /// How long the run an encoded record stands for took, read in place.
    pub(crate) fn took_of(bytes: &[u8]) -> Option<u64> {
        let mut r = Reader::new(bytes.get(32..)?);
        r.bool()?;
        r.hash()?;
        r.u64()
    }

    /// The `produced` hash of an encoded record, read in place.
    pub(crate) fn produced_of(bytes: &[u8]) -> Option<Hash> {
        let mut r = Reader::new(bytes.get(32..)?);
        let present = r.bool()?;
        let hash = r.hash()?;
        present.then_some(hash)
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<Self> {
        let fingerprint = r.hash()?;
        let present = r.bool()?;
        let produced = r.hash()?;
        let produced = present.then_some(produced);
        let took_ms = r.u64()?;
        let mut commands = Vec::new();
        for _ in 0..r.count()? {
            commands.push(match r.u64()? {
                0 => CommandKind::Shell(r.str()?.into()),
                1 => {
                    let n = r.count()?;
                    let mut argv = Vec::with_capacity(n);
                    for _ in 0..n {
                        argv.push(r.str()?.into());
                    }
                    CommandKind::Exec(argv)
                }
                _ => return None,
            });
        }
        let mut shell = Vec::new();
        for _ in 0..r.count()? {
            shell.push(r.str()?.to_owned());
        }
        let dir = r.str()?.to_owned();
        let mut env = Vec::new();
        for _ in 0..r.count()? {
            env.push((r.str()?.to_owned(), r.hash()?));
        }
        let inputs = decode_files(r)?;
        let mut upstream = Vec::new();
        for _ in 0..r.count()? {
            upstream.push((r.str()?.to_owned(), r.hash()?));
        }
        let discovered = if r.is_empty() {
            Vec::new()
        } else {
            decode_files(r)?
        };
        Some(Self {
            fingerprint,
            produced,
            took_ms,
            commands,
            shell,
            dir,
            env,
            inputs,
            upstream,
            discovered,
        })
    }
}

/// Why a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    Forced,
    NoInputs,
    NoPreviousRun,
    CommandChanged {
        old: Vec<String>,
        new: Vec<String>,
    },
    ShellChanged {
        old: Vec<String>,
        new: Vec<String>,
    },
    DirChanged {
        old: String,
        new: String,
    },
    EnvChanged(Vec<String>),
    InputsAdded(Vec<String>),
    InputsRemoved(Vec<String>),
    InputsChanged(Vec<String>),
    UpstreamChanged(Vec<String>),
    /// Files its depfile named last time that changed (or appeared, or went).
    DiscoveredChanged(Vec<String>),
    /// Not a reason to run: these needs ran, but what they produced is
    /// byte-identical to before, so the task is up to date.
    UpstreamOutputsUnchanged(Vec<String>),
    OutputsMissing(Vec<String>),
    /// The gate at this address, which guards the task, failed last time.
    GateFailed(String),
}

/// Everything that differs between the last success and now; empty when the
/// fingerprints match.
pub(crate) fn explain(previous: Option<&Record>, current: &Record) -> Vec<Reason> {
    let Some(old) = previous else {
        return vec![Reason::NoPreviousRun];
    };
    if old.fingerprint == current.fingerprint {
        return Vec::new();
    }
    let mut reasons = Vec::new();
    if old.commands != current.commands {
        reasons.push(Reason::CommandChanged {
            old: old.commands.iter().map(command_line).collect(),
            new: current.commands.iter().map(command_line).collect(),
        });
    }
    if old.shell != current.shell {
        reasons.push(Reason::ShellChanged {
            old: old.shell.clone(),
            new: current.shell.clone(),
        });
    }
    if old.dir != current.dir {
        reasons.push(Reason::DirChanged {
            old: old.dir.clone(),
            new: current.dir.clone(),
        });
    }
    let env = changed_keys(&old.env, &current.env);
    if !env.is_empty() {
        reasons.push(Reason::EnvChanged(env));
    }
    let (added, removed, changed) = diff(&old.inputs, &current.inputs);
    for (list, make) in [
        (added, Reason::InputsAdded as fn(Vec<String>) -> Reason),
        (removed, Reason::InputsRemoved),
        (changed, Reason::InputsChanged),
    ] {
        if !list.is_empty() {
            reasons.push(make(list));
        }
    }
    let (added, removed, changed) = diff(&old.upstream, &current.upstream);
    let upstream: Vec<String> = added.into_iter().chain(removed).chain(changed).collect();
    if !upstream.is_empty() {
        reasons.push(Reason::UpstreamChanged(upstream));
    }
    let discovered = changed_keys(&old.discovered, &current.discovered);
    if !discovered.is_empty() {
        reasons.push(Reason::DiscoveredChanged(discovered));
    }
    reasons
}

/// Keys added, removed or with a different value (sorted inputs).
fn changed_keys<V: PartialEq>(old: &[(String, V)], new: &[(String, V)]) -> Vec<String> {
    let (a, r, c) = diff(old, new);
    let mut all: Vec<String> = a.into_iter().chain(r).chain(c).collect();
    all.sort();
    all
}

/// (added, removed, changed) keys between two key-sorted lists.
fn diff<V: PartialEq>(
    old: &[(String, V)],
    new: &[(String, V)],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let old_map: std::collections::HashMap<&str, &V> =
        old.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let new_map: std::collections::HashMap<&str, &V> =
        new.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let added = new
        .iter()
        .filter(|(k, _)| !old_map.contains_key(k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    let removed = old
        .iter()
        .filter(|(k, _)| !new_map.contains_key(k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    let changed = new
        .iter()
        .filter(|(k, v)| old_map.get(k.as_str()).is_some_and(|o| *o != v))
        .map(|(k, _)| k.clone())
        .collect();
    (added, removed, changed)
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[String]| v.join(", ");
        match self {
            Self::Forced => write!(f, "forced (--force)"),
            Self::NoInputs => write!(f, "declares no inputs, so it always runs"),
            Self::NoPreviousRun => write!(f, "no previous successful run"),
            Self::CommandChanged { old, new } => {
                write!(
                    f,
                    "command changed\n    old: {}\n    new: {}",
                    old.join(" && "),
                    new.join(" && ")
                )
            }
            Self::ShellChanged { old, new } => {
                write!(
                    f,
                    "shell changed: `{}` → `{}`",
                    old.join(" "),
                    new.join(" ")
                )
            }
            Self::DirChanged { old, new } => write!(f, "dir changed: `{old}` → `{new}`"),
            Self::EnvChanged(names) => write!(f, "env changed: {}", list(names)),
            Self::InputsAdded(files) => write!(f, "input added: {}", list(files)),
            Self::InputsRemoved(files) => write!(f, "input removed: {}", list(files)),
            Self::InputsChanged(files) => write!(f, "input changed: {}", list(files)),
            Self::UpstreamChanged(tasks) => write!(f, "upstream task changed: {}", list(tasks)),
            Self::DiscoveredChanged(files) => {
                write!(f, "discovered input changed: {}", list(files))
            }
            Self::UpstreamOutputsUnchanged(tasks) => {
                let named: Vec<String> = tasks.iter().map(|t| format!("`{t}`")).collect();
                let whose = if tasks.len() == 1 { "its" } else { "their" };
                write!(
                    f,
                    "up to date: upstream {} reran but {whose} outputs are unchanged",
                    named.join(", ")
                )
            }
            Self::OutputsMissing(files) => write!(f, "output missing: {}", list(files)),
            Self::GateFailed(gate) => {
                let name = gate.rsplit('/').next().unwrap_or(gate);
                write!(f, "its gate `{name}` failed in the last build")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_parts_fingerprint_as_the_owned_record_does() {
        let commands = [
            CommandKind::Shell("cc -c a.c".into()),
            CommandKind::Exec(vec!["strip".into(), "a.o".into()]),
        ];
        let shell = vec!["sh".to_owned(), "-c".to_owned()];
        let env = vec![
            ("B".to_owned(), "2".to_owned()),
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "later wins".to_owned()),
        ];
        let parts = || Parts {
            commands: commands.iter().collect(),
            shell: &shell,
            dir: "sub",
            env: &env,
            inputs: vec![
                ("z.h".into(), Some([1; 32])),
                (std::borrow::Cow::Owned("a.c".to_owned()), Some([2; 32])),
                ("gone.c".into(), None),
            ],
            upstream: vec![("zz", [3; 32]), ("aa", [4; 32])],
            discovered: Vec::new(),
        };
        let mut scratch = Writer::default();
        let fingerprint = parts().fingerprint(&mut scratch);
        let record = parts().into_record();
        assert_eq!(fingerprint, record.fingerprint);
        // Scratch bytes from an earlier task change nothing.
        assert_eq!(parts().fingerprint(&mut scratch), fingerprint);
        let mut other = parts();
        other.dir = ".";
        assert_ne!(other.fingerprint(&mut scratch), fingerprint);
        // Discovered files count, and a record remade with them after the
        // run fingerprints as the next check will.
        let discovered = vec![("b.h".to_owned(), Some([5; 32])), ("a.h".to_owned(), None)];
        let mut with = parts();
        with.discovered = discovered.clone();
        let later = with.fingerprint(&mut scratch);
        assert_ne!(later, fingerprint);
        let remade = parts().into_record().with_discovered(discovered);
        assert_eq!(remade.fingerprint, later);
        let mut w = Writer::default();
        remade.encode(&mut w);
        let back = Record::decode(&mut Reader::new(&w.bytes)).unwrap();
        assert_eq!(back, remade);
        let mut changed = remade.clone().with_discovered(vec![
            ("a.h".to_owned(), None),
            ("b.h".to_owned(), Some([6; 32])),
        ]);
        assert_eq!(
            explain(Some(&remade), &changed)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["discovered input changed: b.h"]
        );
        changed = changed.with_discovered(Vec::new());
        assert_eq!(
            changed.fingerprint, record.fingerprint,
            "none: as before depfiles"
        );
        // What it produced and how long it took travel with it, outside
        // its fingerprint.
        changed.produced = Some([7; 32]);
        changed.took_ms = 1234;
        let mut w = Writer::default();
        changed.encode(&mut w);
        assert_eq!(Record::produced_of(&w.bytes), Some([7; 32]));
        assert_eq!(Record::took_of(&w.bytes), Some(1234));
        assert_eq!(
            Record::decode(&mut Reader::new(&w.bytes)),
            Some(changed.clone())
        );
        assert_eq!(changed.fingerprint, record.fingerprint);
        assert_eq!(Record::produced_of(&w.bytes[..20]), None);
    }

    fn record(cmd: &str, env: &[(&str, &str)], inputs: &[(&str, u8)], up: &[(&str, u8)]) -> Record {
        Record::new(
            vec![CommandKind::Shell(cmd.into())],
            vec!["sh".into(), "-c".into()],
            ".".into(),
            &env.iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect::<Vec<_>>(),
            inputs
                .iter()
                .map(|(p, h)| ((*p).into(), Some([*h; 32])))
                .collect(),
            up.iter().map(|(a, h)| ((*a).into(), [*h; 32])).collect(),
        )
    }

    #[test]
    fn same_parts_same_fingerprint_in_any_order() {
        let a = record(
            "make",
            &[("A", "1"), ("B", "2")],
            &[("x", 1), ("y", 2)],
            &[],
        );
        let b = record(
            "make",
            &[("B", "2"), ("A", "1")],
            &[("y", 2), ("x", 1)],
            &[],
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(explain(Some(&a), &b).is_empty());
    }

    #[test]
    fn explains_each_kind_of_change() {
        let old = record("make", &[("A", "1")], &[("x", 1), ("y", 2)], &[("up", 1)]);
        let new = record(
            "make all",
            &[("A", "2")],
            &[("y", 3), ("z", 4)],
            &[("up", 2)],
        );
        let reasons = explain(Some(&old), &new);
        assert_eq!(
            reasons,
            vec![
                Reason::CommandChanged {
                    old: vec!["make".into()],
                    new: vec!["make all".into()]
                },
                Reason::EnvChanged(vec!["A".into()]),
                Reason::InputsAdded(vec!["z".into()]),
                Reason::InputsRemoved(vec!["x".into()]),
                Reason::InputsChanged(vec!["y".into()]),
                Reason::UpstreamChanged(vec!["up".into()]),
            ]
        );
        assert_eq!(explain(None, &new), vec![Reason::NoPreviousRun]);
    }

    #[test]
    fn env_values_are_not_stored_in_clear() {
        let r = record("x", &[("TOKEN", "hunter2")], &[], &[]);
        let mut w = Writer::default();
        r.encode(&mut w);
        assert!(!w.bytes.windows(7).any(|win| win == b"hunter2"));
        let back = Record::decode(&mut Reader::new(&w.bytes)).unwrap();
        assert_eq!(back, r);
    }
}
