//! The plan cache: `.orchestra/plan-cache` holds the last compiled plan,
//! keyed by a hash of orchestra.kdl's bytes, the selection (addresses,
//! `--complexity`, `--skip`, `--set`), the project directory's name and
//! orchestra's version. A hit skips parsing, decoding, validation and
//! lowering — parsing is the slowest step on large files. A miss or an old
//! version is silently a miss; a file of this version that does not decode
//! is [`Lookup::Corrupt`], which the caller notes. Where the bytes live is
//! the workspace's business (`crate::workspace`).
//!
//! Every task's address, inputs, outputs and commands lie in one string
//! table at the head of the file: a hit reads the table once and slices
//! each of those strings from it ([`Str`]), so loading a plan of 20,000
//! tasks allocates no string per task for them.
//!
//! A cached plan skips validation, so its warnings (an optional check's
//! program missing from PATH) are not repeated; errors cannot be cached,
//! since only a valid file compiles.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{CheckSpec, Cmd, GateSpec, Group, Plan, PlanTask, Skipped, Str, TaskId, TaskKind};
use crate::codec::{Reader, Writer};
use crate::model::{CommandKind, Jobserver};

const MAGIC: &[u8; 8] = b"ORCHPC\x00\x0b";

/// The cache key for a file and a selection (`Selection::key`).
pub(crate) fn key(source: &[u8], selection: &str, project_dir: &str) -> [u8; 32] {
    // The source is hashed in place, not copied into the encoding: it may
    // be megabytes, and this runs on every `plan` and `build`.
    let mut w = Writer::default();
    w.str(env!("CARGO_PKG_VERSION"));
    w.str(&build());
    w.u64(source.len() as u64);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&w.bytes);
    hasher.update(source);
    w.bytes.clear();
    w.str(selection);
    w.str(project_dir);
    hasher.update(&w.bytes);
    *hasher.finalize().as_bytes()
}

/// Which build of orchestra this is, beyond its version: a binary built
/// from another commit (same version) may compile the same file into
/// another plan. The executable's size and time, one `stat`.
fn build() -> String {
    static BUILD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUILD
        .get_or_init(|| {
            let meta = std::env::current_exe().and_then(std::fs::metadata);
            meta.map_or_else(
                |_| String::new(),
                |m| {
                    let time = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    format!("{}:{time}", m.len())
                },
            )
        })
        .clone()
}

/// What a cache file holds for a key.
#[derive(Debug, PartialEq)]
pub(crate) enum Lookup {
    Hit(Box<Plan>),
    /// Another key, another version, or no cache file at all.
    Miss,
    /// This version's magic and key, but the rest does not decode.
    Corrupt,
}

/// The cached plan if `bytes` (a cache file) hold one for `key`.
pub(crate) fn lookup(bytes: &[u8], key: &[u8; 32]) -> Lookup {
    let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Lookup::Miss;
    };
    let mut r = Reader::new(body);
    match r.hash() {
        Some(found) if &found == key => {}
        Some(_) => return Lookup::Miss,
        None => return Lookup::Corrupt,
    }
    let Some(table) = r.str() else {
        return Lookup::Corrupt;
    };
    let table = Table(Arc::from(table));
    match decode(&mut r, &table) {
        Some(plan) if r.is_empty() => Lookup::Hit(Box::new(plan)),
        _ => Lookup::Corrupt,
    }
}

/// The cache file's bytes for `plan` under `key`.
pub(crate) fn encode_cached(key: &[u8; 32], plan: &Plan) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes.extend_from_slice(MAGIC);
    w.hash(key);
    let mut table = TableWriter::default();
    let mut body = Writer::default();
    encode(&mut body, &mut table, plan);
    w.str(&table.text);
    w.bytes.extend_from_slice(&body.bytes);
    w.bytes
}

/// The string table being written: each distinct string once.
#[derive(Default)]
struct TableWriter<'p> {
    text: String,
    at: HashMap<&'p str, usize>,
}

impl<'p> TableWriter<'p> {
    /// Writes where `s` lies in the table.
    fn put(&mut self, w: &mut Writer, s: &'p str) {
        let offset = *self.at.entry(s).or_insert_with(|| {
            self.text.push_str(s);
            self.text.len() - s.len()
        });
        w.u64(offset as u64);
        w.u64(s.len() as u64);
    }

    fn put_all(&mut self, w: &mut Writer, v: &'p [Str]) {
        w.u64(v.len() as u64);
        for s in v {
            self.put(w, s);
        }
    }
}

/// The string table of a file being read.
struct Table(Arc<str>);

impl Table {
    fn get(&self, r: &mut Reader<'_>) -> Option<Str> {
        let offset = usize::try_from(r.u64()?).ok()?;
        let len = usize::try_from(r.u64()?).ok()?;
        Str::slice(&self.0, offset..offset.checked_add(len)?)
    }

    fn get_all(&self, r: &mut Reader<'_>) -> Option<Vec<Str>> {
        let n = r.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.get(r)?);
        }
        Some(out)
    }
}

fn strs(w: &mut Writer, v: &[String]) {
    w.u64(v.len() as u64);
    for s in v {
        w.str(s);
    }
}

fn read_strs(r: &mut Reader<'_>) -> Option<Vec<String>> {
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.str()?.to_owned());
    }
    Some(out)
}

fn opt_str(w: &mut Writer, v: Option<&String>) {
    w.bool(v.is_some());
    if let Some(s) = v {
        w.str(s);
    }
}

#[allow(clippy::option_option)] // Outer: malformed input. Inner: the field is absent.
fn read_opt_str(r: &mut Reader<'_>) -> Option<Option<String>> {
    Some(if r.bool()? {
        Some(r.str()?.to_owned())
    } else {
        None
    })
}

fn pairs(w: &mut Writer, v: &[(String, String)]) {
    w.u64(v.len() as u64);
    for (a, b) in v {
        w.str(a);
        w.str(b);
    }
}

fn read_pairs(r: &mut Reader<'_>) -> Option<Vec<(String, String)>> {
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push((r.str()?.to_owned(), r.str()?.to_owned()));
    }
    Some(out)
}

fn duration(w: &mut Writer, d: Option<Duration>) {
    w.bool(d.is_some());
    if let Some(d) = d {
        w.u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    }
}

#[allow(clippy::option_option)] // Outer: malformed input. Inner: the field is absent.
fn read_duration(r: &mut Reader<'_>) -> Option<Option<Duration>> {
    Some(if r.bool()? {
        Some(Duration::from_millis(r.u64()?))
    } else {
        None
    })
}

fn command<'p>(w: &mut Writer, table: &mut TableWriter<'p>, c: &'p Cmd) {
    match c {
        CommandKind::Shell(line) => {
            w.u64(0);
            table.put(w, line);
        }
        CommandKind::Exec(argv) => {
            w.u64(1);
            table.put_all(w, argv);
        }
    }
}

fn read_command(r: &mut Reader<'_>, table: &Table) -> Option<Cmd> {
    match r.u64()? {
        0 => Some(CommandKind::Shell(table.get(r)?)),
        1 => Some(CommandKind::Exec(table.get_all(r)?)),
        _ => None,
    }
}

fn small(r: &mut Reader<'_>) -> Option<u32> {
    u32::try_from(r.u64()?).ok()
}

const KINDS: [TaskKind; 7] = [
    TaskKind::Task,
    TaskKind::Step,
    TaskKind::Stage,
    TaskKind::Phase,
    TaskKind::Gate,
    TaskKind::WaveGate,
    TaskKind::Target,
];

fn encode_gate<'p>(w: &mut Writer, table: &mut TableWriter<'p>, gate: &'p GateSpec) {
    w.str(&gate.name);
    w.u64(u64::from(gate.retries));
    w.u64(gate.checks.len() as u64);
    for check in &gate.checks {
        w.str(&check.name);
        command(w, table, &check.command);
        w.bool(check.fix.is_some());
        if let Some(fix) = &check.fix {
            command(w, table, fix);
        }
        w.bool(check.optional);
        duration(w, check.timeout);
        w.u64(u64::from(check.retries));
        opt_str(w, check.dir.as_ref());
        pairs(w, &check.env);
        w.u64(check.declared.offset() as u64);
        w.u64(check.declared.len() as u64);
    }
}

fn decode_gate(r: &mut Reader<'_>, table: &Table) -> Option<GateSpec> {
    let name = r.str()?.to_owned();
    let retries = small(r)?;
    let n = r.count()?;
    let mut checks = Vec::with_capacity(n);
    for _ in 0..n {
        checks.push(CheckSpec {
            name: r.str()?.to_owned(),
            command: read_command(r, table)?,
            fix: if r.bool()? {
                Some(read_command(r, table)?)
            } else {
                None
            },
            optional: r.bool()?,
            timeout: read_duration(r)?,
            retries: small(r)?,
            dir: read_opt_str(r)?,
            env: read_pairs(r)?,
            declared: (
                usize::try_from(r.u64()?).ok()?,
                usize::try_from(r.u64()?).ok()?,
            )
                .into(),
        });
    }
    Some(GateSpec {
        name,
        retries,
        checks,
    })
}

fn encode_task<'p>(w: &mut Writer, table: &mut TableWriter<'p>, t: &'p PlanTask) {
    table.put(w, &t.address);
    w.u64(KINDS.iter().position(|k| *k == t.kind).unwrap_or(0) as u64);
    match t.group.as_deref() {
        None => w.u64(0),
        Some(Group::Milestone(m)) => {
            w.u64(1);
            w.str(m);
        }
        Some(Group::Entity {
            group: g,
            entity: e,
            wave,
        }) => {
            w.u64(2);
            w.str(g);
            w.str(e);
            w.u64(u64::from(*wave));
        }
    }
    w.u64(t.commands.len() as u64);
    t.commands.iter().for_each(|c| command(w, table, c));
    w.bool(t.gate.is_some());
    if let Some(gate) = &t.gate {
        encode_gate(w, table, gate);
    }
    w.u64(t.needs.len() as u64);
    for need in &t.needs {
        w.u64(u64::from(need.0));
    }
    w.u64(u64::from(t.wave));
    table.put_all(w, &t.inputs);
    table.put_all(w, &t.outputs);
    pairs(w, &t.env);
    opt_str(w, t.dir.as_ref());
    duration(w, t.timeout);
    w.u64(u64::from(t.retries));
    opt_str(w, t.pool.as_ref());
    opt_str(w, t.confirm.as_ref());
    w.bool(t.interactive);
    opt_str(w, t.depfile.as_ref());
    w.u64(match t.jobserver {
        None => 0,
        Some(Jobserver::Pipe) => 1,
        Some(Jobserver::Fifo) => 2,
    });
    w.bool(t.cache);
    w.u64(u64::from(t.dotenv));
    opt_str(w, t.description.as_ref());
    w.u64(t.declared.offset() as u64);
    w.u64(t.declared.len() as u64);
}

fn decode_task(r: &mut Reader<'_>, table: &Table, id: u32, count: usize) -> Option<PlanTask> {
    let address = table.get(r)?;
    let kind = *KINDS.get(usize::try_from(r.u64()?).ok()?)?;
    let group = match r.u64()? {
        0 => None,
        1 => Some(Group::Milestone(r.str()?.to_owned())),
        2 => Some(Group::Entity {
            group: r.str()?.to_owned(),
            entity: r.str()?.to_owned(),
            wave: small(r)?,
        }),
        _ => return None,
    };
    let n = r.count()?;
    let mut commands = Vec::with_capacity(n);
    for _ in 0..n {
        commands.push(read_command(r, table)?);
    }
    let gate = if r.bool()? {
        Some(decode_gate(r, table)?)
    } else {
        None
    };
    let n = r.count()?;
    let mut needs = Vec::with_capacity(n);
    for _ in 0..n {
        let need = small(r)?;
        // Needs come before their dependents: anything else is corrupt.
        if need >= id || need as usize >= count {
            return None;
        }
        needs.push(TaskId(need));
    }
    Some(PlanTask {
        id: TaskId(id),
        address,
        kind,
        group: group.map(Box::new),
        commands,
        gate: gate.map(Box::new),
        needs,
        wave: small(r)?,
        inputs: table.get_all(r)?,
        outputs: table.get_all(r)?,
        env: read_pairs(r)?,
        dir: read_opt_str(r)?,
        timeout: read_duration(r)?,
        retries: small(r)?,
        pool: read_opt_str(r)?,
        confirm: read_opt_str(r)?,
        interactive: r.bool()?,
        depfile: read_opt_str(r)?,
        jobserver: match r.u64()? {
            0 => None,
            1 => Some(Jobserver::Pipe),
            2 => Some(Jobserver::Fifo),
            _ => return None,
        },
        cache: r.bool()?,
        dotenv: u16::try_from(r.u64()?).ok()?,
        description: read_opt_str(r)?,
        declared: (
            usize::try_from(r.u64()?).ok()?,
            usize::try_from(r.u64()?).ok()?,
        )
            .into(),
    })
}

fn encode<'p>(w: &mut Writer, table: &mut TableWriter<'p>, plan: &'p Plan) {
    w.str(&plan.project);
    strs(w, &plan.shell);
    w.u64(plan.pools.len() as u64);
    for (name, depth) in &plan.pools {
        w.str(name);
        w.u64(u64::from(*depth));
    }
    w.bool(plan.jobs.is_some());
    w.u64(u64::from(plan.jobs.unwrap_or(0)));
    strs(w, &plan.secrets);
    duration(w, plan.lock_timeout);
    w.bool(plan.cache_size.is_some());
    w.u64(plan.cache_size.unwrap_or(0));
    opt_str(w, plan.cache_url.as_ref());
    w.u64(plan.dotenv.len() as u64);
    for files in &plan.dotenv {
        strs(w, files);
    }
    w.u64(plan.tasks.len() as u64);
    plan.tasks.iter().for_each(|t| encode_task(w, table, t));
    w.u64(plan.skipped.len() as u64);
    for s in &plan.skipped {
        w.str(&s.address);
        w.str(&s.by);
    }
    w.u64(plan.foreach.len() as u64);
    for (pattern, digest) in &plan.foreach {
        w.str(pattern);
        w.hash(digest);
    }
}

fn decode(r: &mut Reader<'_>, table: &Table) -> Option<Plan> {
    let project = r.str()?.to_owned();
    let shell = read_strs(r)?;
    let n = r.count()?;
    let mut pools = Vec::with_capacity(n);
    for _ in 0..n {
        pools.push((r.str()?.to_owned(), small(r)?));
    }
    let has_jobs = r.bool()?;
    let jobs = small(r)?;
    let jobs = has_jobs.then_some(jobs);
    let secrets = read_strs(r)?;
    let lock_timeout = read_duration(r)?;
    let has_size = r.bool()?;
    let cache_size = r.u64()?;
    let cache_size = has_size.then_some(cache_size);
    let cache_url = read_opt_str(r)?;
    let n = r.count()?;
    let mut dotenv = Vec::with_capacity(n);
    for _ in 0..n {
        dotenv.push(read_strs(r)?);
    }
    let count = r.count()?;
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        tasks.push(decode_task(r, table, u32::try_from(i).ok()?, count)?);
    }
    let n = r.count()?;
    let mut skipped = Vec::with_capacity(n);
    for _ in 0..n {
        skipped.push(Skipped {
            address: r.str()?.to_owned(),
            by: r.str()?.to_owned(),
        });
    }
    let n = r.count()?;
    let mut foreach = Vec::with_capacity(n);
    for _ in 0..n {
        foreach.push((r.str()?.to_owned(), r.hash()?));
    }
    Some(Plan {
        project,
        shell,
        pools,
        jobs,
        secrets,
        lock_timeout,
        cache_size,
        cache_url,
        dotenv,
        tasks,
        skipped,
        foreach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let task = |id: u32, address: &str, needs: Vec<TaskId>| PlanTask {
            id: TaskId(id),
            address: address.into(),
            kind: if id == 1 {
                TaskKind::Gate
            } else {
                TaskKind::Step
            },
            group: Some(Box::new(Group::Entity {
                group: "entities".into(),
                entity: "tag".into(),
                wave: 1,
            })),
            commands: vec![CommandKind::Exec(vec!["cp".into(), "a b".into()])],
            gate: (id == 1).then(|| {
                Box::new(GateSpec {
                    name: "verify".into(),
                    retries: 2,
                    checks: vec![CheckSpec {
                        name: "fmt".into(),
                        command: CommandKind::Shell("cargo fmt --check".into()),
                        fix: Some(CommandKind::Shell("cargo fmt".into())),
                        optional: true,
                        timeout: Some(Duration::from_millis(1500)),
                        retries: 1,
                        dir: Some("crates".into()),
                        env: vec![("A".into(), "1".into())],
                        declared: (40, 12).into(),
                    }],
                })
            }),
            needs,
            wave: id + 1,
            inputs: vec!["src/**/*.rs".into()],
            outputs: vec!["out".into()],
            env: vec![("RUST_LOG".into(), "info".into())],
            dir: None,
            timeout: None,
            retries: 3,
            pool: Some("db".into()),
            confirm: Some("sure?".into()),
            interactive: id == 1,
            depfile: (id == 0).then(|| "build/a.d".into()),
            jobserver: (id == 1).then_some(Jobserver::Fifo),
            cache: id != 2,
            dotenv: u16::from(id == 1),
            description: None,
            declared: (10, 4).into(),
        };
        Plan {
            project: "shop".into(),
            shell: vec!["sh".into(), "-c".into()],
            pools: vec![("db".into(), 1)],
            jobs: Some(3),
            secrets: vec!["DEPLOY_TOKEN".into()],
            lock_timeout: Some(Duration::from_hours(2)),
            cache_size: Some(5_000_000_000),
            cache_url: Some("http://127.0.0.1:9/c".into()),
            dotenv: vec![Vec::new(), vec![".env".into()]],
            tasks: vec![
                task(0, "entities/tag/generate", vec![]),
                task(1, "entities/tag/verify", vec![TaskId(0)]),
            ],
            skipped: vec![Skipped {
                address: "M1/review".into(),
                by: "review".into(),
            }],
            foreach: vec![("src/*.c".into(), [7; 32])],
        }
    }

    #[test]
    fn round_trips_under_its_key_only() {
        let k = key(b"task \"a\"", "ci", "shop");
        let bytes = encode_cached(&k, &plan());
        assert_eq!(lookup(&bytes, &k), Lookup::Hit(Box::new(plan())));
        let other = key(b"task \"a\"", "ci --skip=x", "shop");
        assert_ne!(k, other);
        assert_eq!(lookup(&bytes, &other), Lookup::Miss);
    }

    #[test]
    fn corrupt_files_are_corrupt_and_foreign_ones_a_miss() {
        let k = key(b"x", "", "p");
        let bytes = encode_cached(&k, &plan());
        for cut in [0, 5] {
            assert_eq!(lookup(&bytes[..cut], &k), Lookup::Miss, "cut at {cut}");
        }
        for cut in [40, bytes.len() - 1] {
            assert_eq!(lookup(&bytes[..cut], &k), Lookup::Corrupt, "cut at {cut}");
        }
        for i in (40..bytes.len()).step_by(7) {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x5a;
            let _ = lookup(&flipped, &k); // never panics
        }
    }
}
