//! The write half of the data path: plaintext streams in, is hashed (MD5 for
//! the ETag plus any requested checksums), cut into 64 KiB chunks and sealed.
//!
//! Small bodies stay on the request's task and, when small enough, are kept
//! for the metadata store (inline: no blob file, no extra fsync). A body that
//! outgrows [`WRITE_BATCH`] moves to a pipeline of two blocking threads fed
//! the same reference-counted buffers: one hashes, one seals and writes. MD5
//! is the costliest step (about 4x AES-GCM here) and cannot be split, so
//! running it beside encryption lets one upload use two cores. Each plaintext
//! byte is copied once in user space (into the sealing buffer, where it is
//! encrypted in place) and written from there.
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::{EngineError, Result};
use crate::stream::Digests;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::Digest as _;
use strongbox_blob::{BlobStore, BlobWriter};
use strongbox_crypto::{CHUNK_SIZE, ChunkSealer, DataKey, ObjectIdentity};

/// Sealed bytes are written to disk in batches of about this many bytes;
/// a body that fits in one batch never needs a second thread.
const WRITE_BATCH: usize = 1 << 20;
/// Objects whose sealed form is at most this large are stored inline in the
/// metadata store when the caller allows it.
pub(crate) const INLINE_MAX: usize = 128 * 1024;
/// Body frames queued to each pipeline thread; bounds memory per upload.
const PIPELINE_DEPTH: usize = 4;

/// Where a staged body's sealed bytes are.
pub(crate) enum Stored {
    /// A written, not yet durable blob file.
    File(BlobWriter),
    /// The whole sealed blob, for the metadata store.
    Inline(Vec<u8>),
}

/// A fully received and sealed body, not yet committed.
pub(crate) struct Staged {
    pub stored: Stored,
    pub digests: Digests,
}

impl Stored {
    /// Makes the bytes durable where that is separate from the metadata
    /// commit (a blob file), returning the segment's blob id, whether it is
    /// inline and, if so, its bytes.
    pub async fn commit(self) -> Result<(String, Option<Bytes>)> {
        match self {
            Stored::File(writer) => Ok((writer.commit().await?, None)),
            Stored::Inline(bytes) => {
                let id = strongbox_blob::new_id()?;
                Ok((id, Some(Bytes::from(bytes))))
            }
        }
    }
}

/// Hash state over the plaintext.
struct Hashing {
    md5: md5::Md5,
    hashers: Vec<Hasher>,
}

impl Hashing {
    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.hashers.iter_mut().for_each(|h| h.update(data));
    }

    fn finish(self, size: u64) -> Digests {
        Digests {
            size,
            md5: self.md5.finalize().into(),
            checksums: self
                .hashers
                .into_iter()
                .map(|h| (h.algorithm(), h.finish_raw()))
                .collect(),
        }
    }
}

/// Sealing state: `out` holds the blob header (until first written), sealed
/// chunks not yet written, then the open chunk's plaintext from `open_at`.
struct Sealing {
    sealer: ChunkSealer,
    out: Vec<u8>,
    open_at: usize,
}

impl Sealing {
    fn push(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let open = self.out.len() - self.open_at;
            if open == CHUNK_SIZE {
                // A full chunk is sealed only once more data shows it is not the last one.
                self.sealer.seal_tail(&mut self.out, self.open_at, false)?;
                self.open_at = self.out.len();
                continue;
            }
            let (take, rest) = data.split_at((CHUNK_SIZE - open).min(data.len()));
            self.out.extend_from_slice(take);
            data = rest;
        }
        Ok(())
    }

    /// Writes the sealed bytes out once a batch has gathered, keeping the open chunk.
    fn write_ready(&mut self, writer: &mut BlobWriter) -> Result<()> {
        if self.open_at >= WRITE_BATCH {
            writer.write_all(self.out.get(..self.open_at).unwrap_or_default())?;
            self.out.drain(..self.open_at);
            self.open_at = 0;
        }
        Ok(())
    }

    /// Seals the last chunk; returns every byte not yet written.
    fn finish(mut self) -> Result<Vec<u8>> {
        self.sealer.seal_tail(&mut self.out, self.open_at, true)?;
        Ok(self.out)
    }
}

/// Seals `body` under `keys`. Nothing is visible until the caller commits
/// the result; on any error a temporary file is removed. With `inline`, a
/// small enough result is returned as bytes instead of a file.
pub(crate) async fn stage<S, E>(
    blobs: &BlobStore,
    keys: &[&DataKey],
    identity: &ObjectIdentity<'_>,
    body: S,
    algorithms: &[ChecksumAlgorithm],
    max_size: u64,
    inline: bool,
) -> Result<Staged>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<crate::error::BoxError>,
{
    let mut body = std::pin::pin!(body);
    let (sealer, header) = ChunkSealer::layered(keys, identity)?;
    let mut out = Vec::with_capacity(WRITE_BATCH + 2 * CHUNK_SIZE);
    out.extend_from_slice(&header);
    let open_at = out.len();
    let sealing = Sealing { sealer, out, open_at };
    let hashing = Hashing {
        md5: md5::Md5::new(),
        hashers: algorithms.iter().map(|a| Hasher::new(*a)).collect(),
    };
    let mut size = 0u64;
    let mut mode = Mode::Here(Box::new((hashing, sealing)));
    while let Some(item) = body.next().await {
        let data = item.map_err(|e| EngineError::Body(e.into()))?;
        size += data.len() as u64;
        if size > max_size {
            return Err(EngineError::EntityTooLarge);
        }
        mode = match mode {
            Mode::Piped(p) => Mode::Piped(p.send(data).await?),
            Mode::Here(mut here) => {
                let (hashing, sealing) = &mut *here;
                hashing.update(&data);
                sealing.push(&data)?;
                if sealing.open_at >= WRITE_BATCH {
                    let (hashing, sealing) = *here;
                    Mode::Piped(Pipeline::start(blobs.clone(), hashing, sealing))
                } else {
                    Mode::Here(here)
                }
            }
        };
    }
    let (hashing, sealing) = match mode {
        Mode::Piped(p) => {
            let (writer, hashing) = p.finish().await?;
            return Ok(Staged {
                stored: Stored::File(writer),
                digests: hashing.finish(size),
            });
        }
        Mode::Here(here) => *here,
    };
    let digests = hashing.finish(size);
    let sealed = sealing.finish()?;
    if inline && sealed.len() <= INLINE_MAX {
        return Ok(Staged {
            stored: Stored::Inline(sealed),
            digests,
        });
    }
    let blobs = blobs.clone();
    let writer = blocking(move || {
        let mut writer = blobs.create()?;
        writer.write_all(&sealed)?;
        Ok(writer)
    })
    .await?;
    Ok(Staged {
        stored: Stored::File(writer),
        digests,
    })
}

/// Where the body's bytes are being processed: on the request's task until
/// it outgrows one write batch, then in the pipeline.
enum Mode {
    Here(Box<(Hashing, Sealing)>),
    Piped(Pipeline),
}

/// The two blocking threads a large body streams through.
struct Pipeline {
    to_hash: tokio::sync::mpsc::Sender<Bytes>,
    to_seal: tokio::sync::mpsc::Sender<Bytes>,
    hasher: tokio::task::JoinHandle<Hashing>,
    sealer: tokio::task::JoinHandle<Result<BlobWriter>>,
}

impl Pipeline {
    fn start(blobs: BlobStore, mut hashing: Hashing, mut sealing: Sealing) -> Self {
        let (to_hash, mut hash_rx) = tokio::sync::mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let (to_seal, mut seal_rx) = tokio::sync::mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let hasher = tokio::task::spawn_blocking(move || {
            while let Some(data) = hash_rx.blocking_recv() {
                hashing.update(&data);
            }
            hashing
        });
        let sealer = tokio::task::spawn_blocking(move || {
            let mut writer = blobs.create()?;
            sealing.write_ready(&mut writer)?;
            while let Some(data) = seal_rx.blocking_recv() {
                sealing.push(&data)?;
                sealing.write_ready(&mut writer)?;
            }
            writer.write_all(&sealing.finish()?)?;
            Ok(writer)
        });
        Pipeline {
            to_hash,
            to_seal,
            hasher,
            sealer,
        }
    }

    async fn send(self, data: Bytes) -> Result<Self> {
        let hashed = self.to_hash.send(data.clone()).await;
        let sealed = self.to_seal.send(data).await;
        if hashed.is_ok() && sealed.is_ok() {
            return Ok(self);
        }
        // A closed channel means its thread stopped early. `finish` closes
        // both channels first, so the other thread ends and cannot hang us,
        // and reports why.
        Err(match self.finish().await {
            Err(e) => e,
            Ok(_) => EngineError::Internal("a pipeline thread stopped early".into()),
        })
    }

    async fn finish(self) -> Result<(BlobWriter, Hashing)> {
        let Pipeline {
            to_hash,
            to_seal,
            hasher,
            sealer,
        } = self;
        drop((to_hash, to_seal));
        let writer = sealer
            .await
            .map_err(|e| EngineError::Internal(format!("sealing thread: {e}")))??;
        let hashing = hasher
            .await
            .map_err(|e| EngineError::Internal(format!("hashing thread: {e}")))?;
        Ok((writer, hashing))
    }
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Internal(format!("blocking task: {e}")))?
}
