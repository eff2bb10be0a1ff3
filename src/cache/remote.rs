//! The seam between the cache and a shared server: the four operations the
//! Bazel cache protocols have in common. [`super::http`] speaks them over
//! the HTTP caching protocol, [`super::grpc`] over REAPI v2.
//!
//! Every error is a message, never a panic or a failed build: the caller
//! warns once and builds without the server for the rest of the run.

use super::digest::Digest;

/// Bytes moved, for the end-of-build line and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Traffic {
    pub(crate) down: u64,
    pub(crate) up: u64,
}

impl std::ops::AddAssign for Traffic {
    fn add_assign(&mut self, other: Self) {
        self.down += other.down;
        self.up += other.up;
    }
}

/// A shared cache server.
pub(crate) trait Remote: Send {
    /// The action entry filed under `key`; `None` when there is none.
    fn get_action(&mut self, key: &Digest) -> Result<Option<Vec<u8>>, String>;
    /// Files `entry` under `key`.
    fn put_action(&mut self, key: &Digest, entry: &[u8]) -> Result<(), String>;
    /// The blobs named, in order; `None` for one the server lacks. The
    /// bytes are not checked here: the caller checks every digest.
    fn get_blobs(&mut self, digests: &[Digest]) -> Result<Vec<Option<Vec<u8>>>, String>;
    /// Uploads the blobs the server lacks.
    fn put_blobs(&mut self, blobs: &[(Digest, &[u8])]) -> Result<(), String>;
    /// What moved so far.
    fn traffic(&self) -> Traffic;
}

/// How long a connection may take to open: a server that is down costs
/// this much once (a request's own limit is `--cache-timeout`).
pub(crate) fn connect_timeout(request: std::time::Duration) -> std::time::Duration {
    request.min(std::time::Duration::from_secs(2))
}
