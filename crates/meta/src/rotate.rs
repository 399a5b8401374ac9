//! Re-sealing everything the root key protects, for root key rotation
//! (`strongbox admin rotate-root-key`). The store does not know the keys: it
//! walks every item sealed under the root key, hands the old bytes to a
//! [`Resealer`] and stores what it returns, all in one transaction, so the
//! database is entirely under the old root key or entirely under the new one.
//!
//! What is under the root key:
//! - every credential's `secret_sealed` ([`crate::CREDENTIAL_PURPOSE`]);
//! - the wrapped data key of every SSE-S3 object and multipart upload
//!   ([`EncryptionRecord`](crate::EncryptionRecord) with scheme
//!   [`SSE_S3_SCHEME`]); its `kek_id` becomes the new root key's id;
//! - every version of every KMS key's material ([`KMS_MATERIAL_PURPOSE`]);
//! - every virtual MFA device's TOTP seed ([`MFA_SEED_PURPOSE`]).
//!
//! SSE-KMS, DSSE-KMS and SSE-C records are under other keys and untouched.
use crate::Result;

/// Purpose label sealing KMS key material under the root key
/// (`KmsKeyMaterial::sealed`). DO NOT CHANGE: existing key material would no
/// longer open. The `kms` crate seals with the same label.
pub const KMS_MATERIAL_PURPOSE: &str = "kms/key-material";

/// Purpose label sealing virtual MFA devices' TOTP seeds under the root key
/// (`MfaDevice::seed_sealed`). DO NOT CHANGE: existing seeds would no longer open.
pub const MFA_SEED_PURPOSE: &str = "strongbox/mfa-seed/v1";

/// `EncryptionRecord::scheme` of SSE-S3: the data key is wrapped under the
/// root key. DO NOT CHANGE (the engine's `SSE_S3`).
pub const SSE_S3_SCHEME: &str = "AES256";

/// One item sealed under the root key, as handed to a [`Resealer`], with
/// what its sealing binds (the data key's wrapping context is the bucket and
/// key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSealed<'a> {
    /// `secret_sealed` of a credential.
    CredentialSecret { access_key: &'a str },
    /// The wrapped data key of an SSE-S3 object.
    ObjectDataKey { bucket: &'a str, key: &'a str },
    /// The wrapped data key of an SSE-S3 multipart upload (shared by its parts).
    UploadDataKey {
        bucket: &'a str,
        key: &'a str,
        upload_id: &'a str,
    },
    /// One material version of a KMS key.
    KmsMaterial { key_id: &'a str, version: u32 },
    /// The TOTP seed of a virtual MFA device.
    MfaSeed { serial: &'a str },
}

/// Maps the old sealed bytes of each item to its new sealed bytes. An error
/// aborts the whole rewrite: nothing is stored.
pub trait Resealer: Send + 'static {
    /// The `kek_id` rewritten SSE-S3 records get (the new root key's id).
    fn new_kek_id(&self) -> &str;
    fn reseal(&mut self, item: RootSealed<'_>, old: &[u8]) -> std::result::Result<Vec<u8>, String>;
}

/// How many items a rewrite re-sealed, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealCounts {
    pub credentials: u64,
    pub objects: u64,
    pub uploads: u64,
    pub kms_materials: u64,
    pub mfa_seeds: u64,
}

/// Root key rotation support of a store. Not part of [`crate::MetaStore`]:
/// only the offline admin command uses it.
#[async_trait::async_trait]
pub trait RootSealedStore: Send + Sync {
    /// One credential's sealed secret (an account root's, if any), to tell
    /// which root key the store is under; `None` when there is no credential.
    async fn sample_sealed_secret(&self) -> Result<Option<Vec<u8>>>;
    /// Re-seals every item under the root key (module docs) in one
    /// transaction. Fails with [`MetaError::Reseal`](crate::MetaError::Reseal)
    /// when `resealer` does, and then nothing changed.
    async fn reseal_root_sealed(&self, resealer: Box<dyn Resealer>) -> Result<ResealCounts>;
}
