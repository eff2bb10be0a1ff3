//! Storing off the critical path: the scheduler reads a finished task's
//! outputs (so nothing that runs later can change what is stored) and
//! hands them to this thread, which hashes them, builds the entry, writes
//! it to the local store and uploads it over its own connection. The build
//! waits for it only at the end, so every entry is stored or uploaded (or
//! has failed, with one warning) before orchestra exits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use bazel_remote_apis::build::bazel::remote::execution::v2 as reapi;
use prost::Message;

use super::digest::Digest;
use super::outputs::OutputFile;
use super::remote::{Remote, Traffic};
use crate::secrets::Masker;
use crate::workspace::Workspace;
use crate::workspace::cas::{LocalStore, Space};

/// One task's outputs and log, to be stored under `key`.
pub(crate) struct Job {
    pub(crate) address: String,
    pub(crate) key: Digest,
    pub(crate) files: Vec<OutputFile>,
    /// Masked already.
    pub(crate) log: Vec<u8>,
    /// It may go to the remote (its commands and env name no secret).
    pub(crate) remote: bool,
}

/// What storing came to.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) stored: usize,
    pub(crate) uploaded: usize,
    /// The first upload failure; nothing more was sent after it.
    pub(crate) error: Option<String>,
    pub(crate) traffic: Traffic,
}

/// Where the thread stores.
pub(crate) struct Targets {
    pub(crate) local: Option<LocalStore>,
    pub(crate) remote: Option<Box<dyn Remote>>,
    pub(crate) workspace: Workspace,
    pub(crate) masker: Masker,
}

pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    thread: JoinHandle<Outcome>,
    workspace: Workspace,
    /// Bytes of outputs waiting in the queue (the thread subtracts what it
    /// took).
    queued: Arc<AtomicU64>,
    /// Entries dropped because the queue was full.
    dropped: usize,
}

/// Output bytes waiting to be stored at most: a slow server fills the
/// queue, and what does not fit is not cached, so the build neither waits
/// for it nor holds every output in memory. Small outputs never come near
/// it: 20,000 tasks of a few bytes queue less than 10 MB.
const QUEUE_BYTES: u64 = 256 * 1024 * 1024;

impl Job {
    /// What it holds in memory, roughly.
    fn weight(&self) -> u64 {
        let files: usize = self
            .files
            .iter()
            .map(|f| f.bytes.len() + f.path.len())
            .sum();
        (files + self.log.len() + 256) as u64
    }
}

impl Writer {
    pub(crate) fn start(mut targets: Targets) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let workspace = targets.workspace.clone();
        let queued = Arc::new(AtomicU64::new(0));
        let taken = Arc::clone(&queued);
        let thread = std::thread::Builder::new()
            .name("cache-store".into())
            .spawn(move || {
                let mut outcome = Outcome::default();
                for job in queue {
                    taken.fetch_sub(job.weight(), Ordering::Relaxed);
                    targets.store(job, &mut outcome);
                }
                if let Some(remote) = &targets.remote {
                    outcome.traffic = remote.traffic();
                }
                outcome
            })?;
        Ok(Self {
            jobs,
            thread,
            workspace,
            queued,
            dropped: 0,
        })
    }

    pub(crate) fn send(&mut self, job: Job) {
        let weight = job.weight();
        if self.queued.load(Ordering::Relaxed) + weight > QUEUE_BYTES {
            self.dropped += 1;
            if self.dropped == 1 {
                self.workspace.note(format!(
                    "cache: storing fell behind ({} MB waiting); `{}` and what finishes while it is full are not cached",
                    QUEUE_BYTES / 1_000_000,
                    job.address
                ));
            }
            return;
        }
        self.queued.fetch_add(weight, Ordering::Relaxed);
        // The thread ends only when the sender is dropped, in `finish`.
        let _ = self.jobs.send(job);
    }

    /// Waits for every queued job.
    pub(crate) fn finish(self) -> Outcome {
        drop(self.jobs);
        self.thread.join().unwrap_or_else(|_| Outcome {
            error: Some("the thread storing the cache panicked".into()),
            ..Outcome::default()
        })
    }
}

/// The entry (`ActionResult`) for `files` and `log`, and its blobs.
/// Files up to this size go inside a local entry rather than beside it:
/// one file written per task instead of two (20,000 `cp` tasks: 20,000
/// fewer files). Remote entries never inline: servers check the blobs an
/// entry names.
const INLINE: usize = 4096;

/// The entry (`ActionResult`) for `files` and `log`, and its blobs.
fn entry(files: Vec<OutputFile>, log: Vec<u8>) -> (reapi::ActionResult, Vec<(Digest, Vec<u8>)>) {
    let log_digest = Digest::of(&log);
    // A silent task's entry names no log: one blob fewer to send.
    let mut result = reapi::ActionResult {
        stdout_digest: (!log.is_empty()).then(|| log_digest.proto()),
        ..Default::default()
    };
    let mut blobs = Vec::with_capacity(files.len() + 1);
    for file in files {
        let digest = Digest::of(&file.bytes);
        result.output_files.push(reapi::OutputFile {
            path: file.path,
            digest: Some(digest.proto()),
            is_executable: file.mode & 0o111 != 0,
            contents: Vec::new(),
            node_properties: Some(reapi::NodeProperties {
                unix_mode: Some(bazel_remote_apis::google::protobuf::UInt32Value {
                    value: file.mode,
                }),
                ..Default::default()
            }),
        });
        blobs.push((digest, file.bytes));
    }
    if !log.is_empty() {
        blobs.push((log_digest, log));
    }
    (result, blobs)
}

/// The local form of `result`: small files and log inline; the blobs left
/// to store beside it.
fn inlined(
    mut result: reapi::ActionResult,
    blobs: &[(Digest, Vec<u8>)],
) -> (Vec<u8>, Vec<&(Digest, Vec<u8>)>) {
    let mut beside = Vec::new();
    let files = result.output_files.len();
    for (i, blob) in blobs.iter().enumerate() {
        let small = blob.1.len() <= INLINE;
        match result.output_files.get_mut(i) {
            Some(file) if small => file.contents.clone_from(&blob.1),
            None if small && i == files => result.stdout_raw.clone_from(&blob.1),
            _ => beside.push(blob),
        }
    }
    (result.encode_to_vec(), beside)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl Targets {
    fn store(&mut self, job: Job, outcome: &mut Outcome) {
        // What holds a secret's value is kept nowhere: not on the server,
        // and not in `.orchestra/` either (nothing orchestra writes does).
        let secret = self.masker.values().any(|value| {
            job.files
                .iter()
                .any(|f| contains(&f.bytes, value.as_bytes()))
        });
        if secret {
            self.workspace.note(format!(
                "cache: `{}`: not cached: its outputs hold a secret's value",
                job.address
            ));
            return;
        }
        let (result, blobs) = entry(job.files, job.log);
        // An unusable store was said once already (`LocalStore::is_off`).
        if let Some(store) = self.local.as_ref().filter(|s| !s.is_off()) {
            let (entry, beside) = inlined(result.clone(), &blobs);
            let stored = beside.iter().try_for_each(|(digest, bytes)| {
                let hex = digest.hex();
                if store.contains(Space::Blobs, &hex) {
                    // A new entry uses it: it is recently used again.
                    store.touch(Space::Blobs, &hex);
                    Ok(())
                } else {
                    store.put(Space::Blobs, &hex, bytes)
                }
            });
            match stored.and_then(|()| store.put(Space::Actions, &job.key.hex(), &entry)) {
                Ok(()) => outcome.stored += 1,
                Err(e) => self.workspace.note(format!(
                    "cache: `{}`: not stored in {}: {e}",
                    job.address,
                    super::LOCAL
                )),
            }
        }
        if let Some(remote) = &mut self.remote
            && job.remote
            && outcome.error.is_none()
        {
            let entry = result.encode_to_vec();
            let refs: Vec<(Digest, &[u8])> =
                blobs.iter().map(|(d, b)| (*d, b.as_slice())).collect();
            // Blobs first: an entry is never visible before what it names.
            let sent = remote
                .put_blobs(&refs)
                .and_then(|()| remote.put_action(&job.key, &entry));
            match sent {
                Ok(()) => outcome.uploaded += 1,
                Err(e) => outcome.error = Some(e),
            }
        }
    }
}
