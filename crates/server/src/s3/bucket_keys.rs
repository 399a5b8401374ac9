//! S3 Bucket Keys: one KMS data key per bucket (context `aws:s3:arn` = the
//! bucket ARN), reused for a bounded time to wrap each object's own data key,
//! so uploading or reading many SSE-KMS objects calls KMS once per period
//! instead of once per object.
//!
//! Entries are per principal: the first use by each caller in a period goes
//! through KMS (authorized by the key policy and the caller's IAM policies,
//! and audited); later uses by the same caller reuse it. A cached key is
//! dropped as soon as its KMS key is no longer Enabled, so disabling a key
//! stops bucket-key reads and writes at once.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strongbox_crypto::RootKey;
use strongbox_kms::{EncryptionContext, KeyState, Kms, KmsCaller, KmsError};
use zeroize::Zeroizing;

/// How long one bucket key is reused.
const TTL: Duration = Duration::from_secs(300);
/// Most cached bucket keys; expired ones are pruned first.
const MAX_ENTRIES: usize = 4096;

/// One bucket key: its plaintext (zeroized on drop) and how to recover it.
pub(crate) struct BucketKey {
    material: Zeroizing<Vec<u8>>,
    pub blob: Vec<u8>,
    pub key_arn: String,
}

impl BucketKey {
    /// The material as the root of a key-wrapping provider.
    pub(crate) fn material(&self) -> s3s::S3Result<RootKey> {
        RootKey::from_bytes(&self.material).map_err(|e| {
            tracing::error!(error = %e, "bucket key has the wrong length");
            s3s::s3_error!(InternalError, "We encountered an internal error. Please try again.")
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    /// (bucket, KMS key id as requested, principal ARN)
    Write(String, String, String),
    /// (SHA-256 of the bucket key's ciphertext blob, principal ARN)
    Read([u8; 32], String),
}

struct Entry {
    key: Arc<BucketKey>,
    expires: Instant,
}

/// The bucket key cache; cheap to share.
#[derive(Default)]
pub(crate) struct BucketKeys {
    entries: Mutex<HashMap<Slot, Entry>>,
    /// Held while a miss calls KMS, so concurrent first uses make one call.
    miss: tokio::sync::Mutex<()>,
}

fn principal(caller: &KmsCaller) -> String {
    caller.arn()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.iter_mut().zip(digest.as_ref()).for_each(|(o, d)| *o = *d);
    out
}

fn bucket_context(bucket: &str) -> EncryptionContext {
    EncryptionContext::from([("aws:s3:arn".to_owned(), format!("arn:aws:s3:::{bucket}"))])
}

impl BucketKeys {
    /// The bucket key to wrap new objects' data keys under.
    pub(crate) async fn for_write(
        &self,
        kms: &Kms,
        caller: &KmsCaller,
        bucket: &str,
        key_id: &str,
    ) -> Result<Arc<BucketKey>, KmsError> {
        let slot = Slot::Write(bucket.to_owned(), key_id.to_owned(), principal(caller));
        if let Some(hit) = self.live(kms, caller, &slot).await {
            return Ok(hit);
        }
        let _one_call = self.miss.lock().await;
        if let Some(hit) = self.live(kms, caller, &slot).await {
            return Ok(hit);
        }
        let generated = kms.generate_data_key(caller, key_id, &bucket_context(bucket)).await?;
        let key = Arc::new(BucketKey {
            material: generated.plaintext,
            blob: generated.ciphertext_blob,
            key_arn: generated.key_arn,
        });
        // The writer may read back what it wrote without another KMS call.
        let read_slot = Slot::Read(sha256(&key.blob), principal(caller));
        self.insert(read_slot, Arc::clone(&key));
        self.insert(slot, Arc::clone(&key));
        Ok(key)
    }

    /// The bucket key recorded (as its KMS ciphertext blob) with an object.
    pub(crate) async fn for_read(
        &self,
        kms: &Kms,
        caller: &KmsCaller,
        bucket: &str,
        blob: &[u8],
    ) -> Result<Arc<BucketKey>, KmsError> {
        let slot = Slot::Read(sha256(blob), principal(caller));
        if let Some(hit) = self.live(kms, caller, &slot).await {
            return Ok(hit);
        }
        let _one_call = self.miss.lock().await;
        if let Some(hit) = self.live(kms, caller, &slot).await {
            return Ok(hit);
        }
        let decrypted = kms.decrypt(caller, blob, &bucket_context(bucket)).await?;
        let key = Arc::new(BucketKey {
            material: decrypted.plaintext,
            blob: blob.to_vec(),
            key_arn: decrypted.key_arn,
        });
        self.insert(slot, Arc::clone(&key));
        Ok(key)
    }

    /// A cached, unexpired key whose KMS key is still enabled.
    async fn live(&self, kms: &Kms, caller: &KmsCaller, slot: &Slot) -> Option<Arc<BucketKey>> {
        let hit = {
            let entries = self.entries.lock().ok()?;
            entries
                .get(slot)
                .filter(|e| e.expires > Instant::now())
                .map(|e| Arc::clone(&e.key))
        }?;
        match kms.resolve(&caller.account, &hit.key_arn).await {
            Ok((_, KeyState::Enabled)) => Some(hit),
            _ => {
                self.evict_key(&hit.key_arn);
                None
            }
        }
    }

    fn insert(&self, slot: Slot, key: Arc<BucketKey>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            slot,
            Entry {
                key,
                expires: Instant::now() + TTL,
            },
        );
    }

    fn evict_key(&self, key_arn: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.key.key_arn != key_arn);
        }
    }
}
