//! The Bazel HTTP caching protocol: `GET`/`PUT <prefix>/ac/<sha256>` for
//! action entries and `<prefix>/cas/<sha256>` for blobs, `404` for a
//! miss. bazel-remote, nginx with `WebDAV`, `BuildBuddy` and object stores
//! behind a proxy serve it. Blocking requests on one kept-alive agent; no
//! async runtime.
//!
//! Credentials in the URL (`https://user:token@host/prefix`) are sent as
//! HTTP basic authentication and never printed.

use std::io::Read;

use ureq::Agent;

use super::digest::Digest;
use super::remote::{Remote, Traffic, connect_timeout};

pub(crate) struct Http {
    agent: Agent,
    /// The URL without credentials and without a trailing `/`.
    base: String,
    /// `Basic …`, from the URL's user information.
    authorization: Option<String>,
    traffic: Traffic,
}

/// An action entry is a few hundred bytes per output file.
const ENTRY_LIMIT: u64 = 16 * 1024 * 1024;

/// A blob larger than this is asked about (`HEAD`) before it is uploaded.
const ASK_FIRST: usize = 64 * 1024;

impl Http {
    pub(crate) fn new(url: &str, timeout: std::time::Duration) -> Self {
        let (base, authorization) = split_credentials(url);
        let agent = Agent::config_builder()
            .timeout_connect(Some(connect_timeout(timeout)))
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            authorization,
            traffic: Traffic::default(),
        }
    }

    fn url(&self, space: &str, digest: &Digest) -> String {
        format!("{}/{space}/{}", self.base, digest.hex())
    }

    /// `limit`: the most bytes worth reading (a blob's own size, plus one
    /// to notice a longer body): a misbehaving server cannot fill memory.
    fn get(&mut self, space: &str, digest: &Digest, limit: u64) -> Result<Option<Vec<u8>>, String> {
        let url = self.url(space, digest);
        let mut request = self.agent.get(&url);
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let mut response = request.call().map_err(|e| format!("GET /{space}/…: {e}"))?;
        match response.status().as_u16() {
            200 => {
                let mut bytes = Vec::new();
                response
                    .body_mut()
                    .as_reader()
                    .take(limit)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("GET /{space}/…: {e}"))?;
                self.traffic.down += bytes.len() as u64;
                Ok(Some(bytes))
            }
            404 => Ok(None),
            status => Err(format!("GET /{space}/…: HTTP {status}")),
        }
    }

    fn exists(&mut self, digest: &Digest) -> Result<bool, String> {
        let url = self.url("cas", digest);
        let mut request = self.agent.head(&url);
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let response = request.call().map_err(|e| format!("HEAD /cas/…: {e}"))?;
        Ok(response.status().as_u16() == 200)
    }

    fn put(&mut self, space: &str, digest: &Digest, bytes: &[u8]) -> Result<(), String> {
        let url = self.url(space, digest);
        let mut request = self.agent.put(&url);
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        self.traffic.up += bytes.len() as u64;
        let response = request
            .send(bytes)
            .map_err(|e| format!("PUT /{space}/…: {e}"))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("PUT /{space}/…: HTTP {status}"))
        }
    }
}

impl Remote for Http {
    fn get_action(&mut self, key: &Digest) -> Result<Option<Vec<u8>>, String> {
        self.get("ac", key, ENTRY_LIMIT)
    }

    fn put_action(&mut self, key: &Digest, entry: &[u8]) -> Result<(), String> {
        self.put("ac", key, entry)
    }

    fn get_blobs(&mut self, digests: &[Digest]) -> Result<Vec<Option<Vec<u8>>>, String> {
        digests
            .iter()
            .map(|d| self.get("cas", d, d.size + 1))
            .collect()
    }

    fn put_blobs(&mut self, blobs: &[(Digest, &[u8])]) -> Result<(), String> {
        for (digest, bytes) in blobs {
            if bytes.len() > ASK_FIRST && self.exists(digest)? {
                continue;
            }
            self.put("cas", digest, bytes)?;
        }
        Ok(())
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}

/// The URL without its credentials, and the `Authorization` header they
/// make.
fn split_credentials(url: &str) -> (String, Option<String>) {
    let (base, credentials) = crate::model::cache::split_credentials(url);
    (
        base,
        credentials.map(|c| format!("Basic {}", base64(c.as_bytes()))),
    )
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_basic_auth_and_are_never_shown() {
        let (base, auth) = split_credentials("https://ci:s3cr3t@cache.example/team");
        assert_eq!(base, "https://cache.example/team");
        assert_eq!(auth.as_deref(), Some("Basic Y2k6czNjcjN0"));
        assert_eq!(split_credentials("http://a:b@h/p@q").0, "http://h/p@q");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
