//! The encrypted data path: plaintext streams in, is hashed (MD5 + requested
//! checksums), cut into 64 KiB chunks, sealed and written to a temporary blob;
//! on read, only the chunks a range needs are read and opened, off the async
//! runtime, with a small bounded read-ahead.
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::{EngineError, Result};
use bytes::{Buf, Bytes};
use futures::{Stream, StreamExt};
use md5::Digest as _;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use strongbox_blob::{BlobStore, BlobWriter};
use strongbox_crypto::{
    CHUNK_SIZE, ChunkOpener, ChunkSealer, DataKey, HEADER_LEN, Layout, ObjectIdentity, chunk_plain_len,
    chunks_for_range,
};

/// Room for the tags of the most layers a chunk can have (DSSE-KMS: two).
const MAX_OVERHEAD: usize = 2 * strongbox_crypto::TAG_LEN;

/// Sealed chunks are written to disk in batches of about this many bytes.
const WRITE_BATCH: usize = 1 << 20;
/// Chunks decrypted per blocking read on GET (16 x 64 KiB = 1 MiB).
const READ_BATCH_CHUNKS: u64 = 16;
/// Decrypted batches buffered ahead of the client per GET: memory per
/// stream stays around (READ_AHEAD + 1) MiB.
const READ_AHEAD: usize = 2;

/// What was computed over a body while it streamed in.
#[derive(Debug, Clone)]
pub struct Digests {
    pub size: u64,
    pub md5: [u8; 16],
    /// Raw digests of the requested algorithms.
    pub checksums: Vec<(ChecksumAlgorithm, Vec<u8>)>,
}

impl Digests {
    pub fn get(&self, algorithm: ChecksumAlgorithm) -> Option<&[u8]> {
        self.checksums
            .iter()
            .find(|(a, _)| *a == algorithm)
            .map(|(_, v)| v.as_slice())
    }
}

/// A fully written, not yet committed blob.
pub(crate) struct Staged {
    pub writer: BlobWriter,
    pub digests: Digests,
}

/// Encrypts `body` into a new temporary blob. Nothing is visible until the
/// caller commits the writer; on any error the temporary file is removed.
pub(crate) async fn stage<S, E>(
    blobs: &BlobStore,
    keys: &[&DataKey],
    identity: &ObjectIdentity<'_>,
    body: S,
    algorithms: &[ChecksumAlgorithm],
    max_size: u64,
) -> Result<Staged>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<crate::error::BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut writer = blobs.create().await?;
    let (mut sealer, header) = ChunkSealer::layered(keys, identity)?;
    let mut out = Vec::with_capacity(WRITE_BATCH + CHUNK_SIZE + MAX_OVERHEAD);
    out.extend_from_slice(&header);
    let mut chunk = Vec::with_capacity(CHUNK_SIZE + MAX_OVERHEAD);
    let mut md5 = md5::Md5::new();
    let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| Hasher::new(*a)).collect();
    let mut size = 0u64;
    while let Some(item) = body.next().await {
        let mut data = item.map_err(|e| EngineError::Body(e.into()))?;
        size += data.len() as u64;
        if size > max_size {
            return Err(EngineError::EntityTooLarge);
        }
        md5.update(&data);
        hashers.iter_mut().for_each(|h| h.update(&data));
        while data.has_remaining() {
            // A full chunk is sealed only once more data shows it is not the last one.
            if chunk.len() == CHUNK_SIZE {
                seal_into(&mut sealer, &mut chunk, false, &mut out)?;
                if out.len() >= WRITE_BATCH {
                    writer.write_all(&out).await?;
                    out.clear();
                }
            }
            let take = (CHUNK_SIZE - chunk.len()).min(data.len());
            chunk.extend_from_slice(data.get(..take).unwrap_or_default());
            data.advance(take);
        }
    }
    seal_into(&mut sealer, &mut chunk, true, &mut out)?;
    writer.write_all(&out).await?;
    let digests = Digests {
        size,
        md5: md5.finalize().into(),
        checksums: hashers.into_iter().map(|h| (h.algorithm(), h.finish_raw())).collect(),
    };
    Ok(Staged { writer, digests })
}

fn seal_into(sealer: &mut ChunkSealer, chunk: &mut Vec<u8>, last: bool, out: &mut Vec<u8>) -> Result<()> {
    sealer.seal_next(chunk, last)?;
    out.extend_from_slice(chunk);
    chunk.clear();
    Ok(())
}

/// One stored blob of an object, positioned in the object's byte space.
#[derive(Debug, Clone)]
pub(crate) struct SegmentPlan {
    pub blob_id: String,
    pub part: u32,
    pub offset: u64,
    pub len: u64,
}

/// Who the blobs belong to (bound into each chunk's associated data).
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub bucket: String,
    pub key: String,
    pub version: String,
}

pub type ByteStream = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Sync>>;

/// Streams the plaintext of `range` (object byte offsets). A chunk that fails
/// authentication ends the stream with an error (the client sees a broken
/// transfer, never wrong bytes) and is logged.
pub(crate) fn read_range(
    blobs: BlobStore,
    keys: Arc<crate::ObjectKeys>,
    owner: Owner,
    segments: Vec<SegmentPlan>,
    range: Range<u64>,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(READ_AHEAD);
    tokio::spawn(async move {
        for seg in segments {
            let start = range.start.max(seg.offset);
            let end = range.end.min(seg.offset + seg.len);
            if start >= end {
                continue;
            }
            let local = (start - seg.offset)..(end - seg.offset);
            if let Err(e) = send_segment(&blobs, &keys.layers(), &owner, &seg, local, &tx).await {
                tracing::error!(bucket = %owner.bucket, key = %owner.key, blob = %seg.blob_id, error = %e,
                    "object read failed; aborting response");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        }
    });
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

async fn send_segment(
    blobs: &BlobStore,
    keys: &[&DataKey],
    owner: &Owner,
    seg: &SegmentPlan,
    local: Range<u64>,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<()> {
    let path = blobs.path_of(&seg.blob_id);
    let file = tokio::task::spawn_blocking(move || std::fs::File::open(path))
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
        .map_err(|e| EngineError::Internal(format!("open blob: {e}")))?;
    let file = Arc::new(file);
    let mut header = [0u8; HEADER_LEN];
    let f = Arc::clone(&file);
    let header = tokio::task::spawn_blocking(move || f.read_exact_at(&mut header, 0).map(|()| header))
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
        .map_err(|e| EngineError::Internal(format!("read blob header: {e}")))?;
    let identity = ObjectIdentity {
        bucket: &owner.bucket,
        key: &owner.key,
        version: &owner.version,
        part: seg.part,
    };
    let opener = Arc::new(ChunkOpener::layered(keys, &identity, &header)?);
    let chunks = chunks_for_range(seg.len, local.start, local.end);
    let mut next = chunks.start;
    while next < chunks.end {
        let batch = next..(next + READ_BATCH_CHUNKS).min(chunks.end);
        next = batch.end;
        let (f, o) = (Arc::clone(&file), Arc::clone(&opener));
        let (plain_len, wanted) = (seg.len, local.clone());
        let bytes = tokio::task::spawn_blocking(move || open_batch(&f, &o, plain_len, batch, wanted))
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))??;
        if tx.send(Ok(bytes)).await.is_err() {
            return Ok(()); // client went away
        }
    }
    Ok(())
}

/// Reads and opens chunks `batch` of a blob, returning the bytes of `wanted` they hold.
fn open_batch(
    file: &std::fs::File,
    opener: &ChunkOpener,
    plain_len: u64,
    batch: Range<u64>,
    wanted: Range<u64>,
) -> Result<Bytes> {
    let last = strongbox_crypto::chunk_count(plain_len) - 1;
    let layout: Layout = opener.layout();
    let mut out = Vec::with_capacity(((batch.end - batch.start) as usize) * CHUNK_SIZE);
    let mut buf = Vec::with_capacity(CHUNK_SIZE + MAX_OVERHEAD);
    for index in batch {
        let n = chunk_plain_len(plain_len, index);
        buf.resize(layout.chunk_sealed_len(plain_len, index), 0);
        file.read_exact_at(&mut buf, layout.chunk_file_offset(index))
            .map_err(|e| EngineError::Internal(format!("read chunk {index}: {e}")))?;
        opener.open(index, index == last, &mut buf)?;
        let chunk_start = index * CHUNK_SIZE as u64;
        let from = wanted.start.saturating_sub(chunk_start).min(n as u64) as usize;
        let to = (wanted.end - chunk_start).min(n as u64) as usize;
        out.extend_from_slice(buf.get(from..to).unwrap_or_default());
    }
    Ok(Bytes::from(out))
}
