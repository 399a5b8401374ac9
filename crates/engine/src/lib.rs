//! S3 semantics without HTTP: buckets, objects, listing, multipart uploads
//! and tagging over the metadata store, the blob store and the key provider.
//!
//! The engine owns the order of durable steps (blob fsync + rename, then the
//! metadata commit, then removal of replaced blobs) and encryption of every
//! object. It does not authenticate or authorize: callers decide who may call
//! what, and map [`EngineError`] to protocol errors.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod buckets;
pub mod checksum;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod list;
pub mod lock;
mod multipart;
mod objects;
mod public_access;
mod stage;
mod stream;
mod tags;
mod versions;

pub use checksum::ChecksumAlgorithm;
pub use error::{BoxError, EngineError, Result};
pub use keys::{ObjectKeys, SSE_S3};
pub use list::{ListPage, ListQuery};
pub use lock::LockChange;
pub use multipart::{CompletePart, PartsPage, UploadsPage, UploadsQuery};
pub use objects::PutOptions;
pub use stream::{ByteStream, Digests, first_frame_checked};
pub use strongbox_meta::{Expect, NULL_VERSION};
pub use tags::{validate_bucket_tags, validate_object_tags};
pub use versions::{Deleted, VersionsPage, VersionsQuery, valid_version_id};

use std::sync::Arc;
use strongbox_blob::BlobStore;
use strongbox_crypto::{KeyProvider, ObjectIdentity};
use strongbox_meta::MetaStore;

/// Largest single PUT (and part), as AWS: 5 GiB.
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Smallest multipart part except the last, as AWS: 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Most parts in one upload, as AWS.
pub const MAX_PARTS: u32 = 10_000;
/// User-defined metadata limit: keys plus values in UTF-8 bytes, as AWS.
pub const MAX_USER_METADATA: usize = 2048;

/// The S3 engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    meta: Arc<dyn MetaStore>,
    blobs: BlobStore,
    keys: Arc<dyn KeyProvider>,
}

impl Engine {
    /// Builds the engine and removes blobs no metadata references (left by a crash).
    pub async fn open(meta: Arc<dyn MetaStore>, blobs: BlobStore, keys: Arc<dyn KeyProvider>) -> Result<Self> {
        let referenced = meta.referenced_blobs().await?;
        let removed = blobs.collect_garbage(&referenced).await?;
        if removed > 0 {
            tracing::info!(removed, "removed unreferenced blobs left by an earlier crash");
        }
        Ok(Self { meta, blobs, keys })
    }

    pub fn meta(&self) -> &Arc<dyn MetaStore> {
        &self.meta
    }

    /// Removes blobs that committed metadata no longer references.
    async fn release(&self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            self.blobs.remove(&id).await;
        }
    }
}

/// The context a data key is wrapped under: bucket and key, so a wrapped key
/// copied into another object's record cannot be unwrapped there.
pub fn wrap_context(bucket: &str, key: &str) -> [u8; 32] {
    ObjectIdentity {
        bucket,
        key,
        version: "",
        part: 0,
    }
    .digest()
}

fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn random_id(bytes: usize) -> Result<String> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| EngineError::Internal("random number generator failed".into()))?;
    Ok(strongbox_types::random_hex(&buf))
}
