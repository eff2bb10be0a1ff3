//! Digests as the Bazel cache protocols name things: SHA-256 of the bytes
//! and their size, written as lowercase hex — and the action key that
//! files a task's entry.

use bazel_remote_apis::build::bazel::remote::execution::v2 as reapi;
use sha2::{Digest as _, Sha256};

use crate::plan::PlanTask;

/// A blob's (or an action key's) digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Digest {
    pub(crate) sha256: [u8; 32],
    pub(crate) size: u64,
}

impl Digest {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Self {
            sha256: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
        }
    }

    pub(crate) fn hex(&self) -> String {
        use std::fmt::Write;
        self.sha256
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// Whether `bytes` are what this digest names: every downloaded or
    /// read blob is checked before it is trusted.
    pub(crate) fn matches(&self, bytes: &[u8]) -> bool {
        bytes.len() as u64 == self.size && Self::of(bytes).sha256 == self.sha256
    }

    pub(crate) fn proto(&self) -> reapi::Digest {
        reapi::Digest {
            hash: self.hex(),
            size_bytes: i64::try_from(self.size).unwrap_or(i64::MAX),
        }
    }

    /// A digest as a server or an entry wrote it; `None` when malformed.
    pub(crate) fn from_proto(digest: &reapi::Digest) -> Option<Self> {
        let hex = digest.hash.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut sha256 = [0; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                return None;
            }
            sha256[i] = u8::from_str_radix(text, 16).ok()?;
        }
        Some(Self {
            sha256,
            size: u64::try_from(digest.size_bytes).ok()?,
        })
    }
}

/// What a task's cache entry is filed under: SHA-256 of a version line,
/// the platform, the task's declared outputs and its fingerprint — which
/// already covers its commands after templating, shell, `dir`, the env it
/// sets, the content of every input file and what its needs produced. So
/// two checkouts, or two machines of the same OS and architecture, that
/// would run the same commands on the same inputs share an entry.
pub(crate) fn action_key(task: &PlanTask, fingerprint: &[u8; 32]) -> Digest {
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(b"orchestra action v1\0");
    for part in [std::env::consts::OS, std::env::consts::ARCH] {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0);
    }
    bytes.extend_from_slice(&(task.outputs.len() as u64).to_le_bytes());
    for output in &task.outputs {
        bytes.extend_from_slice(output.as_bytes());
        bytes.push(0);
    }
    bytes.extend_from_slice(fingerprint);
    Digest::of(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::task;

    #[test]
    fn digests_are_sha256_hex_and_checked() {
        let d = Digest::of(b"abc");
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(d.matches(b"abc"));
        assert!(!d.matches(b"abd"));
        assert_eq!(Digest::from_proto(&d.proto()), Some(d));
        let mut bad = d.proto();
        bad.hash.truncate(10);
        assert_eq!(Digest::from_proto(&bad), None);
        bad = d.proto();
        bad.hash = bad.hash.to_uppercase();
        assert_eq!(Digest::from_proto(&bad), None);
    }

    #[test]
    fn the_key_follows_the_fingerprint_and_the_declared_outputs() {
        let mut t = task(0, "gen", &[]);
        t.outputs = vec!["out/a".into()];
        let k = action_key(&t, &[1; 32]);
        assert_eq!(k, action_key(&t, &[1; 32]));
        assert_ne!(k, action_key(&t, &[2; 32]));
        t.outputs.push("out/b".into());
        assert_ne!(k, action_key(&t, &[1; 32]));
    }
}
