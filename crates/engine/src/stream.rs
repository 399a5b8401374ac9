//! The read half of the data path (the write half is [`crate::stage`]): only
//! the chunks a range needs are read and opened. A blob file's chunks are
//! read a batch at a time in one read, opened in place and handed to the
//! client as slices of that buffer (no further copy), off the async runtime
//! with a small bounded read-ahead. Inline objects are opened at once.
use crate::checksum::ChecksumAlgorithm;
use crate::error::{EngineError, Result};
use bytes::Bytes;
use futures::Stream;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use strongbox_blob::BlobStore;
use strongbox_crypto::{CHUNK_SIZE, ChunkOpener, DataKey, HEADER_LEN, Layout, ObjectIdentity, chunks_for_range};

/// Chunks read and opened per blocking call on GET (16 x 64 KiB = 1 MiB).
const READ_BATCH_CHUNKS: u64 = 16;
/// Frames (one per chunk) buffered ahead of the client per GET: one batch,
/// so with the batch being opened memory per stream stays around 2 MiB
/// (32 concurrent 1 GiB downloads must fit well under 200 MiB).
const READ_AHEAD_FRAMES: usize = READ_BATCH_CHUNKS as usize;

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

/// One stored blob of an object, positioned in the object's byte space.
#[derive(Debug, Clone)]
pub(crate) struct SegmentPlan {
    pub blob_id: String,
    pub part: u32,
    pub offset: u64,
    pub len: u64,
    /// The sealed bytes of an inline segment.
    pub data: Option<Bytes>,
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
/// transfer, never wrong bytes) and is logged; for an inline object the
/// failure is returned before anything is sent.
pub(crate) fn read_range(
    blobs: BlobStore,
    keys: Arc<crate::ObjectKeys>,
    owner: Owner,
    segments: Vec<SegmentPlan>,
    range: Range<u64>,
) -> Result<ByteStream> {
    let (range_start, range_end) = (range.start, range.end);
    let wanted = move |seg: &SegmentPlan| {
        let start = range_start.max(seg.offset);
        let end = range_end.min(seg.offset + seg.len);
        (start < end).then(|| (start - seg.offset)..(end - seg.offset))
    };
    if segments.iter().all(|s| s.data.is_some()) {
        let mut frames = Vec::new();
        for seg in &segments {
            if let (Some(local), Some(data)) = (wanted(seg), &seg.data) {
                frames.extend(open_inline(&keys.layers(), &owner, seg, data, local)?);
            }
        }
        return Ok(Box::pin(futures::stream::iter(frames.into_iter().map(Ok))));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(READ_AHEAD_FRAMES);
    tokio::spawn(async move {
        for seg in &segments {
            let Some(local) = wanted(seg) else { continue };
            let sent = match &seg.data {
                Some(data) => match open_inline(&keys.layers(), &owner, seg, data, local) {
                    Ok(frames) => send_all(&tx, frames).await,
                    Err(e) => Err(e),
                },
                None => send_segment(&blobs, &keys, &owner, seg, local, &tx).await,
            };
            match sent {
                Ok(true) => {}
                Ok(false) => return, // client went away
                Err(e) => {
                    tracing::error!(bucket = %owner.bucket, key = %owner.key, blob = %seg.blob_id, error = %e,
                        "object read failed; aborting response");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })))
}

/// Waits for the first frame of `stream`, so that a failure to read the start
/// of an object (an I/O error, a chunk that fails authentication) becomes an
/// error status before any response header is sent. A failure further in can
/// only abort the transfer.
pub async fn first_frame_checked(mut stream: ByteStream) -> Result<ByteStream> {
    use futures::StreamExt;
    match stream.next().await {
        None => Ok(Box::pin(futures::stream::empty())),
        Some(Ok(first)) => Ok(Box::pin(futures::stream::iter([Ok(first)]).chain(stream))),
        Some(Err(e)) => Err(EngineError::Internal(format!("object read failed: {e}"))),
    }
}

/// Sends every frame; false when the client went away.
async fn send_all(tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>, frames: Vec<Bytes>) -> Result<bool> {
    for frame in frames {
        if tx.send(Ok(frame)).await.is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

fn identity(owner: &Owner, part: u32) -> ObjectIdentity<'_> {
    ObjectIdentity {
        bucket: &owner.bucket,
        key: &owner.key,
        version: &owner.version,
        part,
    }
}

/// Opens the chunks of an inline segment's sealed bytes that `local` needs.
fn open_inline(
    keys: &[&DataKey],
    owner: &Owner,
    seg: &SegmentPlan,
    data: &Bytes,
    local: Range<u64>,
) -> Result<Vec<Bytes>> {
    open_sealed(keys, &identity(owner, seg.part), seg.len, data, local)
}

/// Opens the chunks of the sealed blob `data` (header first) of `plain_len`
/// plaintext bytes that `local` needs; returns `local`'s plaintext.
pub fn open_sealed(
    keys: &[&DataKey],
    identity: &ObjectIdentity<'_>,
    plain_len: u64,
    data: &Bytes,
    local: Range<u64>,
) -> Result<Vec<Bytes>> {
    let header = data.get(..HEADER_LEN).unwrap_or_default();
    let opener = ChunkOpener::layered(keys, identity, header)?;
    let chunks = chunks_for_range(plain_len, local.start, local.end);
    let span = sealed_span(opener.layout(), plain_len, &chunks);
    let sealed = usize::try_from(span.start)
        .ok()
        .zip(usize::try_from(span.end).ok())
        .and_then(|(a, b)| data.get(a..b))
        .ok_or_else(|| EngineError::Internal("inline object shorter than its size".into()))?;
    open_chunks(&opener, plain_len, chunks, sealed.to_vec(), local)
}

/// Byte range in the blob of the sealed chunks `chunks`.
fn sealed_span(layout: Layout, plain_len: u64, chunks: &Range<u64>) -> Range<u64> {
    let start = layout.chunk_file_offset(chunks.start);
    let len: u64 = chunks
        .clone()
        .map(|i| layout.chunk_sealed_len(plain_len, i) as u64)
        .sum();
    start..start + len
}

/// Opens, in place, the sealed chunks `chunks` held back to back in `buf`;
/// returns the parts of `wanted` (segment plaintext offsets) as slices of it.
fn open_chunks(
    opener: &ChunkOpener,
    plain_len: u64,
    chunks: Range<u64>,
    mut buf: Vec<u8>,
    wanted: Range<u64>,
) -> Result<Vec<Bytes>> {
    let last = strongbox_crypto::chunk_count(plain_len) - 1;
    let layout = opener.layout();
    let mut spans = Vec::new();
    let mut pos = 0usize;
    for index in chunks {
        let sealed_len = layout.chunk_sealed_len(plain_len, index);
        let sealed = buf
            .get_mut(pos..pos + sealed_len)
            .ok_or_else(|| EngineError::Internal(format!("chunk {index} is short")))?;
        let n = opener.open_slice(index, index == last, sealed)? as u64;
        let chunk_start = index * CHUNK_SIZE as u64;
        let from = wanted.start.saturating_sub(chunk_start).min(n) as usize;
        let to = wanted.end.saturating_sub(chunk_start).min(n) as usize;
        if from < to {
            spans.push(pos + from..pos + to);
        }
        pos += sealed_len;
    }
    let bytes = Bytes::from(buf);
    Ok(spans.into_iter().map(|r| bytes.slice(r)).collect())
}

/// A blob file being read: opened, with its header checked, on the first batch.
struct OpenBlob {
    file: std::fs::File,
    opener: ChunkOpener,
}

/// Streams `local` of a segment stored in a blob file; false when the client went away.
async fn send_segment(
    blobs: &BlobStore,
    keys: &Arc<crate::ObjectKeys>,
    owner: &Owner,
    seg: &SegmentPlan,
    local: Range<u64>,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<bool> {
    let chunks = chunks_for_range(seg.len, local.start, local.end);
    let mut blob: Option<Arc<OpenBlob>> = None;
    let mut next = chunks.start;
    while next < chunks.end {
        let batch = next..(next + READ_BATCH_CHUNKS).min(chunks.end);
        next = batch.end;
        let (plain_len, wanted) = (seg.len, local.clone());
        let (path, keys, owner, part) = (blobs.path_of(&seg.blob_id), Arc::clone(keys), owner.clone(), seg.part);
        let prior = blob.clone();
        let (opened, frames) = tokio::task::spawn_blocking(move || -> Result<_> {
            let blob = match prior {
                Some(b) => b,
                None => Arc::new(open_blob(&path, &keys.layers(), &owner, part)?),
            };
            let span = sealed_span(blob.opener.layout(), plain_len, &batch);
            let buf = read_span(&blob.file, &span)
                .map_err(|e| EngineError::Internal(format!("read chunks {batch:?}: {e}")))?;
            let frames = open_chunks(&blob.opener, plain_len, batch, buf, wanted)?;
            Ok((blob, frames))
        })
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))??;
        blob = Some(opened);
        if !send_all(tx, frames).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Reads `span` of the file into a new buffer. `read_to_end` fills the
/// buffer's spare capacity directly; a zeroed buffer would cost a memset of
/// every byte served (a tenth of a GET's CPU).
fn read_span(file: &std::fs::File, span: &Range<u64>) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let len = span.end - span.start;
    let mut buf = Vec::with_capacity(usize::try_from(len).map_err(std::io::Error::other)?);
    let mut reader = file;
    reader.seek(SeekFrom::Start(span.start))?;
    reader.take(len).read_to_end(&mut buf)?;
    if buf.len() as u64 != len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "blob shorter than its record",
        ));
    }
    Ok(buf)
}

fn open_blob(path: &std::path::Path, keys: &[&DataKey], owner: &Owner, part: u32) -> Result<OpenBlob> {
    let file = std::fs::File::open(path).map_err(|e| EngineError::Internal(format!("open blob: {e}")))?;
    let mut header = [0u8; HEADER_LEN];
    file.read_exact_at(&mut header, 0)
        .map_err(|e| EngineError::Internal(format!("read blob header: {e}")))?;
    let opener = ChunkOpener::layered(keys, &identity(owner, part), &header)?;
    Ok(OpenBlob { file, opener })
}
