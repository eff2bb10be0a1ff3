//! The output cache: a task that is out of date but whose action key has
//! an entry is restored — its declared outputs written back byte for byte,
//! with their modes, and its log replayed — instead of run; a task that
//! runs and succeeds is stored. Entries are REAPI `ActionResult` messages
//! and blobs are filed by SHA-256, the same bytes locally
//! (`.orchestra/cache/`, [`crate::workspace::cas`]), over the Bazel HTTP
//! cache protocol ([`http`]) and over REAPI v2 ([`grpc`]).
//!
//! What may be cached ([`cacheable`]): a task with commands, `inputs` and
//! `outputs`, without `cache=#false`, a depfile (its inputs are known only
//! after it runs), a confirmation or a terminal. The key ([`digest`])
//! is its fingerprint, so it covers exactly what decides "up to date".
//!
//! Trust: every blob's digest is checked before it is used (a corrupted
//! one is a warning and a run, never a wrong output); an entry may only
//! name paths the task declares ([`outputs`]); a remote that fails once
//! is left alone for the rest of the build with one warning; nothing
//! that holds or may hold a secret is uploaded ([`Cache::remote_safe`]).

pub(crate) mod digest;
mod grpc;
mod http;
pub(crate) mod outputs;
mod remote;
mod writer;

use std::path::PathBuf;

use bazel_remote_apis::build::bazel::remote::execution::v2 as reapi;
use prost::Message;

pub(crate) use crate::model::cache::{Access, Endpoint};
use crate::plan::{PlanTask, TaskKind};
use crate::run::{OutputCache, Restored};
use crate::secrets::Masker;
use crate::workspace::Workspace;
use crate::workspace::cas::{LocalStore, Space};
use digest::{Digest, action_key};
use outputs::OutputFile;
use remote::{Remote, Traffic};

/// Where the local side's entries come from, as messages say.
pub(crate) const LOCAL: &str = "the local cache";

/// Why an entry did not restore its task.
#[derive(Debug)]
enum Unrestored {
    /// A blob it names is gone (evicted): a miss like any other, said
    /// nowhere.
    Miss,
    /// The remote failed while asked: it is given up on for this build.
    RemoteFailed(String),
    /// The entry itself is unusable (corrupted, a failure, outputs the task
    /// does not declare): said, and the task runs.
    Refused(String),
}

/// The digests of `result`'s output files, once it is known to name only
/// outputs `task` declares, and every literal one.
fn fits(task: &PlanTask, result: &reapi::ActionResult) -> Result<Vec<Digest>, String> {
    let mut digests = Vec::with_capacity(result.output_files.len() + 1);
    for file in &result.output_files {
        if !outputs::declared(task, &file.path) {
            return Err(format!(
                "its entry names `{}`, which the task does not declare as an output",
                file.path
            ));
        }
        let digest = file
            .digest
            .as_ref()
            .and_then(Digest::from_proto)
            .ok_or("its entry has a malformed digest")?;
        digests.push(digest);
    }
    for output in &task.outputs {
        let output = outputs::trimmed(output);
        let literal = !crate::freshness::inputs::is_glob(output);
        let present = result
            .output_files
            .iter()
            .any(|f| outputs::covers(output, &f.path));
        if literal && !present {
            return Err(format!("its entry lacks the output `{output}`"));
        }
    }
    Ok(digests)
}

/// Whether `task` may be restored and stored at all.
pub(crate) fn cacheable(task: &PlanTask) -> bool {
    task.cache
        && matches!(
            task.kind,
            TaskKind::Task | TaskKind::Step | TaskKind::Stage | TaskKind::Phase
        )
        && !task.commands.is_empty()
        && !task.inputs.is_empty()
        && !task.outputs.is_empty()
        && outputs::storable(task)
        && task.depfile.is_none()
        && task.confirm.is_none()
        && !task.interactive
}

/// How a build uses the cache.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) local: Access,
    pub(crate) remote: Option<(Endpoint, Access)>,
    /// The local side's limit in bytes.
    pub(crate) size: u64,
    /// `why`: find entries, restore nothing.
    pub(crate) probe: bool,
    /// The longest a request to the remote may take.
    pub(crate) timeout: std::time::Duration,
}

struct RemoteSide {
    reader: Box<dyn Remote>,
    access: Access,
    shown: String,
    /// It failed once: not asked again this build.
    broken: bool,
}

/// What a build's cache did, for its last line.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) restored_local: usize,
    pub(crate) restored_remote: usize,
    pub(crate) stored: usize,
    pub(crate) uploaded: usize,
    pub(crate) traffic: Traffic,
    pub(crate) remote: Option<String>,
}

impl Tally {
    /// `cache: 3 restored (1 local, 2 from http://…), 4 stored, 4 uploaded, 1.2 MB down, 3.4 MB up`,
    /// when something was restored or a remote is in use.
    pub(crate) fn line(&self) -> Option<String> {
        let restored = self.restored_local + self.restored_remote;
        if restored == 0 && self.remote.is_none() {
            return None;
        }
        let mut parts = vec![format!("{restored} restored")];
        if let Some(remote) = &self.remote {
            parts[0] = format!(
                "{restored} restored ({} local, {} from {remote})",
                self.restored_local, self.restored_remote
            );
        }
        parts.push(format!("{} stored", self.stored));
        if self.remote.is_some() {
            parts.push(format!("{} uploaded", self.uploaded));
            parts.push(format!(
                "{} down, {} up",
                bytes(self.traffic.down),
                bytes(self.traffic.up)
            ));
        }
        Some(format!("cache: {}", parts.join(", ")))
    }
}

/// `1.2 MB`: a byte count for people.
pub(crate) fn bytes(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1000 {
        format!("{n} B")
    } else if n < 1_000_000 {
        format!("{:.1} kB", f / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1} MB", f / 1e6)
    } else {
        format!("{:.2} GB", f / 1e9)
    }
}

/// The cache of one build.
pub(crate) struct Cache {
    root: PathBuf,
    workspace: Workspace,
    masker: Masker,
    /// The project's `secret` variable names.
    secrets: Vec<String>,
    local: Option<(LocalStore, Access)>,
    remote: Option<RemoteSide>,
    /// Stores and uploads on a thread of its own.
    writer: Option<writer::Writer>,
    remote_writes: bool,
    size: u64,
    probe: bool,
    /// Something came from the remote into the local store: it may have
    /// outgrown its limit.
    restored_locally: bool,
    tally: Tally,
}

impl Cache {
    /// The cache `settings` describe, for the project at `root`; a remote
    /// client that cannot even be made is a warning and no remote.
    pub(crate) fn new(
        root: &std::path::Path,
        workspace: &Workspace,
        plan: &crate::plan::Plan,
        settings: &Settings,
    ) -> Self {
        let local = settings
            .local
            .any()
            .then(|| (workspace.local_store(), settings.local));
        let client = |endpoint: &Endpoint| -> Result<Box<dyn Remote>, String> {
            Ok(match endpoint {
                Endpoint::Http(url) => Box::new(http::Http::new(url, settings.timeout)),
                Endpoint::Grpc(url) => Box::new(grpc::Grpc::new(url, settings.timeout)?),
            })
        };
        let mut uploads = None;
        let remote = settings.remote.as_ref().and_then(|(endpoint, access)| {
            if !access.any() {
                return None;
            }
            let shown = endpoint.shown();
            let clients = client(endpoint).and_then(|reader| {
                if access.write && !settings.probe {
                    uploads = Some(client(endpoint)?);
                }
                Ok(reader)
            });
            match clients {
                Ok(reader) => Some(RemoteSide {
                    reader,
                    access: *access,
                    shown,
                    broken: false,
                }),
                Err(e) => {
                    workspace.note(format!("remote cache {shown}: {e}; building without it"));
                    None
                }
            }
        });
        let local_writes = settings.local.write && !settings.probe;
        let remote_writes = uploads.is_some();
        let writer = (local_writes || remote_writes)
            .then(|| {
                writer::Writer::start(writer::Targets {
                    local: local_writes.then(|| workspace.local_store()),
                    remote: uploads,
                    workspace: workspace.clone(),
                    masker: workspace.masker().clone(),
                })
            })
            .and_then(|started| {
                started
                    .map_err(|e| workspace.note(format!("cache: cannot start storing: {e}")))
                    .ok()
            });
        let tally = Tally {
            remote: remote.as_ref().map(|r| r.shown.clone()),
            ..Tally::default()
        };
        Self {
            root: root.to_path_buf(),
            workspace: workspace.clone(),
            masker: workspace.masker().clone(),
            secrets: plan.secrets.clone(),
            local,
            remote,
            writer,
            remote_writes,
            size: settings.size,
            probe: settings.probe,
            restored_locally: false,
            tally,
        }
    }

    /// Whether `task` may go to the shared cache: none of its commands or
    /// env values names a `secret` variable or holds a secret's value. Its
    /// key would otherwise depend on a secret, and what it wrote might hold
    /// one. (Its blobs are also searched for secret values before upload.)
    fn remote_safe(&self, task: &PlanTask) -> bool {
        let mut texts: Vec<String> = task
            .commands
            .iter()
            .map(crate::plan::describe::command_line)
            .collect();
        texts.extend(task.env.iter().map(|(_, v)| v.clone()));
        texts.iter().all(|text| {
            !self.secrets.iter().any(|name| text.contains(name.as_str()))
                && matches!(self.masker.mask(text), std::borrow::Cow::Borrowed(_))
        })
    }

    /// Stops asking the remote after its first failure.
    fn remote_failed(&mut self, error: &str) {
        if let Some(remote) = &mut self.remote {
            remote.broken = true;
            self.workspace.note(format!(
                "remote cache {} failed ({error}); building without it for the rest of this build",
                remote.shown
            ));
        }
    }

    fn note(&self, task: &PlanTask, text: &str) {
        self.workspace
            .note(format!("cache: `{}`: {text}", task.address));
    }

    /// The blobs named, from the local store first and then the remote
    /// (when `remote`); each checked against its digest.
    fn blobs(&mut self, digests: &[Digest], remote: bool) -> Result<Vec<Vec<u8>>, Unrestored> {
        // The empty blob (a silent task's log) is known without asking.
        let mut found: Vec<Option<Vec<u8>>> = digests
            .iter()
            .map(|d| (*d == Digest::of(b"")).then(Vec::new))
            .collect();
        if let Some((store, access)) = &self.local
            && access.read
        {
            for (slot, digest) in found.iter_mut().zip(digests) {
                if slot.is_some() {
                    continue;
                }
                let hex = digest.hex();
                match store.get(Space::Blobs, &hex) {
                    Some(bytes) if digest.matches(&bytes) => *slot = Some(bytes),
                    Some(_) => {
                        store.remove(Space::Blobs, &hex);
                        self.workspace.note(format!(
                            "local cache: blob {} was corrupted; removed",
                            &hex[..12]
                        ));
                    }
                    None => {}
                }
            }
        }
        let wanted: Vec<usize> = (0..digests.len()).filter(|i| found[*i].is_none()).collect();
        if !wanted.is_empty() {
            let Some(side) = self.remote.as_mut().filter(|_| remote) else {
                return Err(Unrestored::Miss);
            };
            let asked: Vec<Digest> = wanted.iter().map(|i| digests[*i]).collect();
            let got = side
                .reader
                .get_blobs(&asked)
                .map_err(Unrestored::RemoteFailed)?;
            for (i, blob) in wanted.into_iter().zip(got) {
                let Some(bytes) = blob else {
                    return Err(Unrestored::Miss);
                };
                if !digests[i].matches(&bytes) {
                    return Err(Unrestored::Refused(format!(
                        "blob {} from {} is corrupted (its SHA-256 does not match)",
                        &digests[i].hex()[..12],
                        side.shown
                    )));
                }
                // What came from the remote serves the next build locally.
                if let Some((store, access)) = &self.local
                    && access.write
                {
                    let _ = store.put(Space::Blobs, &digests[i].hex(), &bytes);
                }
                found[i] = Some(bytes);
            }
        }
        Ok(found.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Restores `task` from `entry` (an encoded `ActionResult`).
    fn apply(&mut self, task: &PlanTask, entry: &[u8], remote: bool) -> Result<String, Unrestored> {
        let result = reapi::ActionResult::decode(entry)
            .map_err(|e| Unrestored::Refused(format!("its entry does not decode ({e})")))?;
        if result.exit_code != 0 {
            return Err(Unrestored::Refused("its entry records a failure".into()));
        }
        let mut wanted = fits(task, &result).map_err(Unrestored::Refused)?;
        // A local entry carries small files (and its log) inline.
        let mut have: Vec<Option<Vec<u8>>> = Vec::with_capacity(wanted.len() + 1);
        for (file, digest) in result.output_files.iter().zip(&wanted) {
            let inline = (!file.contents.is_empty()).then(|| file.contents.clone());
            if inline.as_ref().is_some_and(|bytes| !digest.matches(bytes)) {
                return Err(Unrestored::Refused(format!(
                    "the contents of `{}` in its entry are corrupted",
                    file.path
                )));
            }
            have.push(inline);
        }
        let log = result.stdout_digest.as_ref().and_then(Digest::from_proto);
        if let Some(digest) = log {
            wanted.push(digest);
            let inline = (!result.stdout_raw.is_empty()).then(|| result.stdout_raw.clone());
            if inline.as_ref().is_some_and(|bytes| !digest.matches(bytes)) {
                return Err(Unrestored::Refused(
                    "the log in its entry is corrupted".into(),
                ));
            }
            have.push(inline);
        }
        let wanted: Vec<Digest> = wanted
            .into_iter()
            .zip(&have)
            .filter(|(_, inline)| inline.is_none())
            .map(|(digest, _)| digest)
            .collect();
        if self.probe {
            // `why` restores nothing; from the local side it checks that
            // every blob is still there.
            let local = self.local.as_ref().map(|(store, _)| store);
            let missing = local.is_some_and(|store| {
                wanted
                    .iter()
                    .any(|d| d.size > 0 && !store.contains(Space::Blobs, &d.hex()))
            });
            return if remote || !missing {
                Ok(String::new())
            } else {
                Err(Unrestored::Miss)
            };
        }
        let mut fetched = self.blobs(&wanted, remote)?.into_iter();
        let mut blobs: Vec<Vec<u8>> = have
            .into_iter()
            .map(|inline| inline.unwrap_or_else(|| fetched.next().unwrap_or_default()))
            .collect();
        let log = if log.is_some() {
            String::from_utf8_lossy(&blobs.pop().unwrap_or_default()).into_owned()
        } else {
            String::new()
        };
        let files: Vec<OutputFile> = result
            .output_files
            .iter()
            .zip(blobs)
            .map(|(file, bytes)| OutputFile {
                path: file.path.clone(),
                bytes,
                mode: file
                    .node_properties
                    .as_ref()
                    .and_then(|p| p.unix_mode.map(|m| m.value))
                    .unwrap_or(if file.is_executable { 0o755 } else { 0o644 })
                    & 0o7777,
            })
            .collect();
        let keep: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        outputs::clear_stale(&self.root, task, &keep)
            .and_then(|()| outputs::write(&self.root, &files))
            .map_err(|e| Unrestored::Refused(format!("cannot restore its outputs ({e})")))?;
        let missing = crate::freshness::incremental::missing_outputs(&self.root, &task.outputs);
        if let Some(missing) = missing.first() {
            return Err(Unrestored::Refused(format!(
                "its entry did not restore the output `{missing}`"
            )));
        }
        self.restored_locally |= remote && self.local.as_ref().is_some_and(|(_, a)| a.write);
        Ok(log)
    }

    /// Waits for uploads and keeps the local side within its limit; what
    /// the cache did this build.
    pub(crate) fn finish(mut self) -> Tally {
        if let Some(remote) = &self.remote {
            self.tally.traffic += remote.reader.traffic();
        }
        if let Some(writer) = self.writer.take() {
            let outcome = writer.finish();
            self.tally.stored = outcome.stored;
            self.tally.uploaded = outcome.uploaded;
            self.tally.traffic += outcome.traffic;
            if let (Some(error), Some(remote)) = (outcome.error, &self.remote) {
                self.workspace.note(format!(
                    "remote cache {}: an upload failed ({error}); the rest were not sent",
                    remote.shown
                ));
            }
        }
        if (self.tally.stored > 0 || self.restored_locally)
            && let Some((store, _)) = &self.local
        {
            store.evict(self.size);
        }
        self.tally
    }
}

impl OutputCache for Cache {
    fn restore(&mut self, task: &PlanTask, fingerprint: &[u8; 32]) -> Option<Restored> {
        if !cacheable(task) {
            return None;
        }
        let key = action_key(task, fingerprint);
        let hex = key.hex();
        if let Some((store, access)) = &self.local
            && access.read
            && let Some(entry) = store.get(Space::Actions, &hex)
        {
            match self.apply(task, &entry, false) {
                Ok(log) => {
                    self.tally.restored_local += 1;
                    return Some(Restored {
                        from: LOCAL.into(),
                        log,
                    });
                }
                Err(Unrestored::Miss) => {}
                // The local side never asks the remote.
                Err(Unrestored::Refused(why) | Unrestored::RemoteFailed(why)) => {
                    self.note(task, &format!("not restored from {LOCAL}: {why}"));
                }
            }
        }
        let remote_ok = self
            .remote
            .as_ref()
            .is_some_and(|r| r.access.read && !r.broken);
        if !remote_ok || !self.remote_safe(task) {
            return None;
        }
        let side = self.remote.as_mut()?;
        let shown = side.shown.clone();
        match side.reader.get_action(&key) {
            Ok(Some(entry)) => match self.apply(task, &entry, true) {
                Ok(log) => {
                    if let Some((store, access)) = &self.local
                        && access.write
                        && !self.probe
                    {
                        let _ = store.put(Space::Actions, &hex, &entry);
                    }
                    self.tally.restored_remote += 1;
                    Some(Restored { from: shown, log })
                }
                Err(Unrestored::RemoteFailed(why)) => {
                    self.remote_failed(&why);
                    None
                }
                Err(Unrestored::Miss) => None,
                Err(Unrestored::Refused(why)) => {
                    self.note(task, &format!("not restored from {shown}: {why}; it runs"));
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.remote_failed(&e);
                None
            }
        }
    }

    fn store(&mut self, task: &PlanTask, fingerprint: &[u8; 32], log: &str) {
        if self.writer.is_none() || !cacheable(task) {
            return;
        }
        // After a failure the remote is left alone for the rest of the build.
        let remote = self.remote_writes
            && self.remote.as_ref().is_some_and(|r| !r.broken)
            && self.remote_safe(task);
        let local = self.local.as_ref().is_some_and(|(_, a)| a.write);
        if !(local || remote) {
            return;
        }
        // Read now, on the scheduler's thread: nothing that runs later may
        // change what is stored. Hashing and writing happen on the writer's.
        let files = match outputs::read(&self.root, task) {
            Ok(files) => files,
            Err(why) => {
                self.note(task, &format!("not stored: {why}"));
                return;
            }
        };
        let job = writer::Job {
            address: task.address.to_string(),
            key: action_key(task, fingerprint),
            files,
            log: self.masker.mask(log).into_owned().into_bytes(),
            remote,
        };
        if let Some(writer) = &mut self.writer {
            writer.send(job);
        }
    }
}
