//! REAPI v2 as a cache: `ActionCache` (`GetActionResult`,
//! `UpdateActionResult`), `ContentAddressableStorage` (`FindMissingBlobs`,
//! `BatchReadBlobs`, `BatchUpdateBlobs`) and `ByteStream` for blobs too
//! large for a batch — the protocol of Bazel, Buck2, Buildbarn, `BuildBuddy`,
//! `NativeLink` and `BuildGrid`.
//!
//! The one async corner of orchestra: each [`Grpc`] owns a current-thread
//! tokio runtime and blocks on it, so the rest of the program stays
//! synchronous and no runtime outlives the cache.

use bazel_remote_apis::build::bazel::remote::execution::v2 as reapi;
use bazel_remote_apis::google::bytestream;
use reapi::action_cache_client::ActionCacheClient;
use reapi::content_addressable_storage_client::ContentAddressableStorageClient;
use tonic::transport::{Channel, Endpoint};

use super::digest::Digest;
use super::remote::{Remote, Traffic, connect_timeout};

/// Blobs up to this size travel in batches of up to [`BATCH`] bytes (the
/// usual 4 MiB gRPC message limit, with room to spare); larger ones
/// through `ByteStream` in chunks of [`CHUNK`].
const SMALL: u64 = 1024 * 1024;
const BATCH: u64 = 2 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;
const MESSAGE_LIMIT: usize = 64 * 1024 * 1024;
/// Digests per request: a digest costs ~75 bytes of a 4 MiB message.
const PER_REQUEST: usize = 1000;

pub(crate) struct Grpc {
    runtime: tokio::runtime::Runtime,
    /// The longest one call may take, streamed bodies included (tonic's
    /// own timeout ends at the response headers).
    timeout: std::time::Duration,
    actions: ActionCacheClient<Channel>,
    cas: ContentAddressableStorageClient<Channel>,
    bytestream: bytestream::byte_stream_client::ByteStreamClient<Channel>,
    instance: String,
    traffic: Traffic,
    uploads: u64,
}

/// Runs one call on `runtime`, giving up after `limit` (a stalled stream
/// included).
fn block_on<T>(
    runtime: &tokio::runtime::Runtime,
    limit: std::time::Duration,
    call: impl std::future::Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    runtime.block_on(async {
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(tonic::Status::deadline_exceeded(format!(
                "no answer within {}",
                crate::model::format_duration(limit)
            )))
        })
    })
}

/// A version-4-shaped UUID for a `ByteStream` upload, unique across the
/// machines writing to one server: SHA-256 of the time, this process, the
/// upload's number and a stack address (containers reuse process ids).
fn upload_id(n: u64) -> String {
    let marker = 0u8;
    let seed = format!(
        "{:?} {} {n} {:p}",
        std::time::SystemTime::now(),
        std::process::id(),
        &raw const marker
    );
    let mut b = Digest::of(seed.as_bytes()).sha256;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = Digest { sha256: b, size: 0 }.hex();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// One unary call: bounded as [`block_on`] bounds it, its failure worded
/// with the call's name, its response unwrapped.
fn unary<T>(
    runtime: &tokio::runtime::Runtime,
    limit: std::time::Duration,
    name: &str,
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, String> {
    block_on(runtime, limit, call)
        .map(tonic::Response::into_inner)
        .map_err(|s| failed(name, &s))
}

fn failed(what: &str, status: &tonic::Status) -> String {
    format!("{what}: {} ({:?})", status.message(), status.code())
}

impl Grpc {
    /// A client of `grpc://host:port[/instance]`; nothing connects until
    /// the first request.
    pub(crate) fn new(url: &str, timeout: std::time::Duration) -> Result<Self, String> {
        let rest = url
            .strip_prefix("grpc://")
            .ok_or_else(|| format!("`{url}` is not a grpc:// URL"))?;
        let (host, instance) = rest.split_once('/').unwrap_or((rest, ""));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the gRPC client: {e}"))?;
        let endpoint = Endpoint::from_shared(format!("http://{host}"))
            .map_err(|e| format!("`{host}`: {e}"))?
            .connect_timeout(connect_timeout(timeout))
            .timeout(timeout);
        let channel = {
            let _inside = runtime.enter();
            endpoint.connect_lazy()
        };
        Ok(Self {
            runtime,
            timeout,
            actions: ActionCacheClient::new(channel.clone())
                .max_decoding_message_size(MESSAGE_LIMIT),
            cas: ContentAddressableStorageClient::new(channel.clone())
                .max_decoding_message_size(MESSAGE_LIMIT),
            bytestream: bytestream::byte_stream_client::ByteStreamClient::new(channel)
                .max_decoding_message_size(MESSAGE_LIMIT),
            instance: instance.trim_end_matches('/').to_owned(),
            traffic: Traffic::default(),
            uploads: 0,
        })
    }

    fn resource(&self, tail: &str) -> String {
        if self.instance.is_empty() {
            tail.to_owned()
        } else {
            format!("{}/{tail}", self.instance)
        }
    }

    fn batch_read(&mut self, digests: &[Digest]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let request = reapi::BatchReadBlobsRequest {
            instance_name: self.instance.clone(),
            digests: digests.iter().map(Digest::proto).collect(),
            ..Default::default()
        };
        let response = unary(
            &self.runtime,
            self.timeout,
            "BatchReadBlobs",
            self.cas.batch_read_blobs(request),
        )?;
        let mut found = vec![None; digests.len()];
        for blob in response.responses {
            let ok = blob.status.as_ref().is_none_or(|s| s.code == 0);
            let Some(digest) = blob.digest.as_ref().and_then(Digest::from_proto) else {
                continue;
            };
            if !ok {
                continue;
            }
            self.traffic.down += blob.data.len() as u64;
            // The same blob may be asked for twice (two identical outputs).
            for (slot, _) in found.iter_mut().zip(digests).filter(|(_, d)| **d == digest) {
                *slot = Some(blob.data.clone());
            }
        }
        Ok(found)
    }

    fn stream_read(&mut self, digest: &Digest) -> Result<Option<Vec<u8>>, String> {
        let request = bytestream::ReadRequest {
            resource_name: self.resource(&format!("blobs/{}/{}", digest.hex(), digest.size)),
            read_offset: 0,
            read_limit: 0,
        };
        let client = &mut self.bytestream;
        let size = digest.size;
        let result = block_on(&self.runtime, self.timeout, async {
            let mut stream = client.read(request).await?.into_inner();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.message().await? {
                bytes.extend_from_slice(&chunk.data);
                // More than the digest's size is wrong already: the digest
                // check rejects it without reading on.
                if bytes.len() as u64 > size {
                    break;
                }
            }
            Ok::<_, tonic::Status>(bytes)
        });
        match result {
            Ok(bytes) => {
                self.traffic.down += bytes.len() as u64;
                Ok(Some(bytes))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(failed("ByteStream.Read", &s)),
        }
    }

    fn stream_write(&mut self, digest: &Digest, bytes: &[u8]) -> Result<(), String> {
        self.uploads += 1;
        let resource = self.resource(&format!(
            "uploads/{}/blobs/{}/{}",
            upload_id(self.uploads),
            digest.hex(),
            digest.size
        ));
        let chunks: Vec<bytestream::WriteRequest> = bytes
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| bytestream::WriteRequest {
                resource_name: if i == 0 {
                    resource.clone()
                } else {
                    String::new()
                },
                write_offset: i64::try_from(i * CHUNK).unwrap_or(i64::MAX),
                finish_write: (i + 1) * CHUNK >= bytes.len(),
                data: chunk.to_vec(),
            })
            .collect();
        self.traffic.up += bytes.len() as u64;
        unary(
            &self.runtime,
            self.timeout,
            "ByteStream.Write",
            self.bytestream.write(tokio_stream::iter(chunks)),
        )?;
        Ok(())
    }
}

impl Remote for Grpc {
    fn get_action(&mut self, key: &Digest) -> Result<Option<Vec<u8>>, String> {
        let request = reapi::GetActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(key.proto()),
            ..Default::default()
        };
        match block_on(
            &self.runtime,
            self.timeout,
            self.actions.get_action_result(request),
        ) {
            Ok(response) => {
                let bytes = prost::Message::encode_to_vec(&response.into_inner());
                self.traffic.down += bytes.len() as u64;
                Ok(Some(bytes))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(failed("GetActionResult", &s)),
        }
    }

    fn put_action(&mut self, key: &Digest, entry: &[u8]) -> Result<(), String> {
        let result: reapi::ActionResult = prost::Message::decode(entry)
            .map_err(|e| format!("an entry that does not decode: {e}"))?;
        let request = reapi::UpdateActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(key.proto()),
            action_result: Some(result),
            ..Default::default()
        };
        self.traffic.up += entry.len() as u64;
        unary(
            &self.runtime,
            self.timeout,
            "UpdateActionResult",
            self.actions.update_action_result(request),
        )?;
        Ok(())
    }

    fn get_blobs(&mut self, digests: &[Digest]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let mut found = vec![None; digests.len()];
        let mut batch: Vec<usize> = Vec::new();
        let mut batch_bytes = 0;
        let flush = |this: &mut Self, batch: &mut Vec<usize>, found: &mut Vec<_>| {
            if batch.is_empty() {
                return Ok::<_, String>(());
            }
            let wanted: Vec<Digest> = batch.iter().map(|i| digests[*i]).collect();
            for (i, blob) in batch.drain(..).zip(this.batch_read(&wanted)?) {
                found[i] = blob;
            }
            Ok(())
        };
        for (i, digest) in digests.iter().enumerate() {
            if digest.size > SMALL {
                found[i] = self.stream_read(digest)?;
                continue;
            }
            if batch_bytes + digest.size > BATCH || batch.len() == PER_REQUEST {
                flush(self, &mut batch, &mut found)?;
                batch_bytes = 0;
            }
            batch.push(i);
            batch_bytes += digest.size;
        }
        flush(self, &mut batch, &mut found)?;
        Ok(found)
    }

    fn put_blobs(&mut self, blobs: &[(Digest, &[u8])]) -> Result<(), String> {
        for group in blobs.chunks(PER_REQUEST) {
            self.put_some(group)?;
        }
        Ok(())
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}

impl Grpc {
    /// Uploads the blobs of `blobs` (at most [`PER_REQUEST`]) the server lacks.
    fn put_some(&mut self, blobs: &[(Digest, &[u8])]) -> Result<(), String> {
        if blobs.is_empty() {
            return Ok(());
        }
        let request = reapi::FindMissingBlobsRequest {
            instance_name: self.instance.clone(),
            blob_digests: blobs.iter().map(|(d, _)| d.proto()).collect(),
            ..Default::default()
        };
        let missing: Vec<Digest> = unary(
            &self.runtime,
            self.timeout,
            "FindMissingBlobs",
            self.cas.find_missing_blobs(request),
        )?
        .missing_blob_digests
        .iter()
        .filter_map(Digest::from_proto)
        .collect();
        let mut batch: Vec<reapi::batch_update_blobs_request::Request> = Vec::new();
        let mut batch_bytes = 0;
        for (digest, bytes) in blobs.iter().filter(|(d, _)| missing.contains(d)) {
            if digest.size > SMALL {
                self.stream_write(digest, bytes)?;
                continue;
            }
            if batch_bytes + digest.size > BATCH {
                self.batch_update(std::mem::take(&mut batch))?;
                batch_bytes = 0;
            }
            batch_bytes += digest.size;
            batch.push(reapi::batch_update_blobs_request::Request {
                digest: Some(digest.proto()),
                data: bytes.to_vec(),
                compressor: 0,
            });
        }
        self.batch_update(batch)
    }

    fn batch_update(
        &mut self,
        requests: Vec<reapi::batch_update_blobs_request::Request>,
    ) -> Result<(), String> {
        if requests.is_empty() {
            return Ok(());
        }
        self.traffic.up += requests.iter().map(|r| r.data.len() as u64).sum::<u64>();
        let request = reapi::BatchUpdateBlobsRequest {
            instance_name: self.instance.clone(),
            requests,
            ..Default::default()
        };
        let response = unary(
            &self.runtime,
            self.timeout,
            "BatchUpdateBlobs",
            self.cas.batch_update_blobs(request),
        )?;
        match response
            .responses
            .iter()
            .find_map(|r| r.status.as_ref().filter(|s| s.code != 0))
        {
            Some(status) => Err(format!("BatchUpdateBlobs: {}", status.message)),
            None => Ok(()),
        }
    }
}
