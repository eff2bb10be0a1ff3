//! Uploads off the critical path: a thread of its own with its own
//! connection takes finished tasks' entries in order; the build waits for
//! it only at the end, so every upload finishes (or fails, with one
//! warning) before orchestra exits.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::digest::Digest;
use super::remote::{Remote, Traffic};

/// One task's entry and the blobs it names.
pub(crate) struct Job {
    pub(crate) key: Digest,
    pub(crate) entry: Vec<u8>,
    pub(crate) blobs: Vec<(Digest, Vec<u8>)>,
}

/// What the uploads came to.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) uploaded: usize,
    /// The first failure; nothing more was sent after it.
    pub(crate) error: Option<String>,
    pub(crate) traffic: Traffic,
}

pub(crate) struct Uploader {
    jobs: mpsc::Sender<Job>,
    thread: JoinHandle<Outcome>,
}

impl Uploader {
    pub(crate) fn start(mut remote: Box<dyn Remote>) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("cache-upload".into())
            .spawn(move || {
                let mut outcome = Outcome::default();
                for job in queue {
                    if outcome.error.is_some() {
                        continue;
                    }
                    let blobs: Vec<(Digest, &[u8])> =
                        job.blobs.iter().map(|(d, b)| (*d, b.as_slice())).collect();
                    // Blobs first: an entry is never visible before what it names.
                    let sent = remote
                        .put_blobs(&blobs)
                        .and_then(|()| remote.put_action(&job.key, &job.entry));
                    match sent {
                        Ok(()) => outcome.uploaded += 1,
                        Err(e) => outcome.error = Some(e),
                    }
                }
                outcome.traffic = remote.traffic();
                outcome
            })?;
        Ok(Self { jobs, thread })
    }

    pub(crate) fn send(&self, job: Job) {
        // The thread ends only when the sender is dropped, in `finish`.
        let _ = self.jobs.send(job);
    }

    /// Waits for every queued upload.
    pub(crate) fn finish(self) -> Outcome {
        drop(self.jobs);
        self.thread.join().unwrap_or_else(|_| Outcome {
            error: Some("the upload thread panicked".into()),
            ..Outcome::default()
        })
    }
}
