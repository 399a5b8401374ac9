//! The unwrapped keys of one object or upload. The engine encrypts with
//! whatever keys its caller resolved (SSE-S3 from the root key, SSE-KMS and
//! DSSE-KMS from KMS, SSE-C from the customer's key): resolving them needs
//! the caller's identity, which the engine does not know.
use crate::{Engine, EngineError, Result, wrap_context};
use strongbox_crypto::{DataKey, WrappedKey};
use strongbox_meta::EncryptionRecord;

/// Scheme name of SSE-S3 in [`EncryptionRecord::scheme`].
pub const SSE_S3: &str = "AES256";

/// Data keys (inner layer first: one, or two for DSSE-KMS) and the record
/// that lets them be recovered later.
pub struct ObjectKeys {
    layers: Vec<DataKey>,
    pub record: EncryptionRecord,
    /// Whether the ETag must not be the plaintext MD5 (SSE-C, SSE-KMS, DSSE-KMS).
    opaque_etag: bool,
}

impl std::fmt::Debug for ObjectKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectKeys")
            .field("layers", &self.layers.len())
            .field("scheme", &self.record.scheme)
            .finish_non_exhaustive()
    }
}

impl ObjectKeys {
    pub fn new(layers: Vec<DataKey>, record: EncryptionRecord, opaque_etag: bool) -> Result<Self> {
        if !(1..=2).contains(&layers.len()) {
            return Err(EngineError::Internal(format!("{} encryption layers", layers.len())));
        }
        Ok(Self {
            layers,
            record,
            opaque_etag,
        })
    }

    pub(crate) fn layers(&self) -> Vec<&DataKey> {
        self.layers.iter().collect()
    }

    /// The ETag of content with this MD5 under these keys (hex, no quotes).
    pub(crate) fn etag(&self, md5: &[u8; 16]) -> String {
        match self.layers.first() {
            Some(k) if self.opaque_etag => hex::encode(k.opaque_etag(md5)),
            _ => hex::encode(md5),
        }
    }
}

impl Engine {
    /// A fresh SSE-S3 data key for `bucket`/`key`, wrapped under the root key.
    pub fn sse_s3_keys(&self, bucket: &str, key: &str) -> Result<ObjectKeys> {
        let dek = DataKey::generate()?;
        let wrapped = self.keys.wrap(&dek, &wrap_context(bucket, key))?;
        let record = EncryptionRecord {
            scheme: SSE_S3.into(),
            kek_id: self.keys.key_id().to_owned(),
            wrapped_key: wrapped.0,
            ..Default::default()
        };
        ObjectKeys::new(vec![dek], record, false)
    }

    /// The keys of an SSE-S3 object or upload of `bucket`/`key`.
    pub fn open_sse_s3(&self, record: &EncryptionRecord, bucket: &str, key: &str) -> Result<ObjectKeys> {
        if record.scheme != SSE_S3 || record.customer_key_hmac.is_some() {
            return Err(EngineError::Internal(format!(
                "{} object read as SSE-S3",
                record.scheme
            )));
        }
        let dek = self
            .keys
            .unwrap(&WrappedKey(record.wrapped_key.clone()), &wrap_context(bucket, key))?;
        ObjectKeys::new(vec![dek], record.clone(), false)
    }
}
