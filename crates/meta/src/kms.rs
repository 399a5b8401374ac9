//! KMS records (keys with their sealed key material versions, and aliases)
//! and the [`KmsStore`] trait. Ids, ARNs, times and sealed material come from
//! the caller (the `kms` crate); the store keeps the records and enforces
//! each call's rules (existence, uniqueness, the revision check of
//! [`KmsStore::update_kms_key`]) inside one transaction. Key material is
//! never stored in the clear: `sealed` is opaque here.
use crate::Result;
use crate::records::Tag;
use serde::{Deserialize, Serialize};
use strongbox_types::AccountId;

/// Version of [`KmsKeyDoc`]. DO NOT CHANGE without a migration.
pub const KMS_KEY_RECORD_VERSION: u32 = 1;

/// A KMS key. `revision` is maintained by the store: it is 0 when created and
/// grows by one with every update.
#[derive(Clone, PartialEq, Eq)]
pub struct KmsKeyRecord {
    /// A lowercase UUID, unique across accounts.
    pub key_id: String,
    pub account_id: AccountId,
    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`.
    pub arn: String,
    pub created_ms: i64,
    pub revision: u64,
    pub doc: KmsKeyDoc,
}

impl std::fmt::Debug for KmsKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyRecord")
            .field("key_id", &self.key_id)
            .field("arn", &self.arn)
            .field("revision", &self.revision)
            .field("state", &self.doc.state)
            .field("materials", &self.doc.materials.len())
            .finish_non_exhaustive()
    }
}

/// Everything about a key besides its identity, persisted as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKeyDoc {
    /// [`KMS_KEY_RECORD_VERSION`].
    pub v: u32,
    pub description: String,
    pub state: KmsKeyState,
    /// When a key pending deletion is deleted (epoch milliseconds).
    #[serde(default)]
    pub deletion_ms: Option<i64>,
    /// The waiting period ScheduleKeyDeletion was given.
    #[serde(default)]
    pub pending_window_days: Option<u32>,
    /// `ENCRYPT_DECRYPT`.
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`.
    pub key_spec: String,
    /// `AWS_KMS`.
    pub origin: String,
    pub manager: KmsKeyManager,
    pub rotation_enabled: bool,
    /// 90 to 2560; 365 unless set.
    pub rotation_period_days: u32,
    /// When automatic rotation is next due (set while rotation is enabled).
    #[serde(default)]
    pub next_rotation_ms: Option<i64>,
    /// The key policy document, as given (or the default one).
    pub policy: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Every version of the key material, oldest first; the last one encrypts.
    pub materials: Vec<KmsKeyMaterial>,
}

/// `KeyState` of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KmsKeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KmsKeyState {
    /// AWS's spelling (`KeyState`).
    pub fn as_str(self) -> &'static str {
        match self {
            KmsKeyState::Enabled => "Enabled",
            KmsKeyState::Disabled => "Disabled",
            KmsKeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// `KeyManager`: keys created by users, or by a service on their behalf (`alias/aws/s3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KmsKeyManager {
    Customer,
    Aws,
}

impl KmsKeyManager {
    /// AWS's spelling (`KeyManager`).
    pub fn as_str(self) -> &'static str {
        match self {
            KmsKeyManager::Customer => "CUSTOMER",
            KmsKeyManager::Aws => "AWS",
        }
    }
}

/// How a material version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KmsRotationType {
    /// The material the key was created with.
    Initial,
    Automatic,
    OnDemand,
}

/// One version of a key's 256-bit material, sealed under the root key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKeyMaterial {
    /// 1, 2, ... in order of creation; ciphertexts name the version that sealed them.
    pub version: u32,
    #[serde(with = "base64_bytes")]
    pub sealed: Vec<u8>,
    pub created_ms: i64,
    pub rotation: KmsRotationType,
}

impl std::fmt::Debug for KmsKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyMaterial")
            .field("version", &self.version)
            .field("sealed", &"..")
            .field("created_ms", &self.created_ms)
            .field("rotation", &self.rotation)
            .finish()
    }
}

/// An alias of a key in the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAlias {
    pub account_id: AccountId,
    /// `alias/NAME` (case-sensitive).
    pub name: String,
    pub target_key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Why a KMS write did nothing. The KMS layer maps each to AWS's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsRefused {
    NoSuchKey,
    NoSuchAlias,
    AlreadyExists,
    /// The key changed since it was read (its revision moved on); read it again.
    Stale,
}

/// The result of a KMS write: done, or refused with the reason.
pub type KmsOutcome<T> = std::result::Result<T, KmsRefused>;

/// KMS storage. `account` is the account id. Every method is atomic; refusals
/// are values ([`KmsOutcome`]), `Err` is only a store failure.
#[async_trait::async_trait]
pub trait KmsStore: Send + Sync + 'static {
    /// Stores a new key (its `revision` is stored as 0) and, when given, an
    /// alias of it in the same transaction. Refused: AlreadyExists (the key id
    /// or the alias name is taken; nothing is stored).
    async fn create_kms_key(&self, key: &KmsKeyRecord, alias: Option<&KmsAlias>) -> Result<KmsOutcome<()>>;
    /// A key by id (any account).
    async fn get_kms_key(&self, key_id: &str) -> Result<Option<KmsKeyRecord>>;
    /// Keys of `account` with id greater than `after`, by key id, at most `limit`.
    async fn list_kms_keys(&self, account: &str, after: Option<&str>, limit: usize) -> Result<Vec<KmsKeyRecord>>;
    /// Replaces the key's document if its stored revision is still
    /// `key.revision`; returns the stored record (revision + 1).
    /// Refused: NoSuchKey, Stale.
    async fn update_kms_key(&self, key: &KmsKeyRecord) -> Result<KmsOutcome<KmsKeyRecord>>;
    /// Deletes the key and every alias of it. Refused: NoSuchKey.
    async fn delete_kms_key(&self, key_id: &str) -> Result<KmsOutcome<()>>;

    /// Refused: AlreadyExists, NoSuchKey (no key `target_key_id` in the alias's account).
    async fn create_kms_alias(&self, alias: &KmsAlias) -> Result<KmsOutcome<()>>;
    async fn get_kms_alias(&self, account: &str, name: &str) -> Result<Option<KmsAlias>>;
    /// Aliases of `account` (only those of `target_key_id` when given) with a
    /// name greater than `after`, by name, at most `limit`.
    async fn list_kms_aliases(
        &self,
        account: &str,
        target_key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KmsAlias>>;
    /// Points the alias at another key of the same account.
    /// Refused: NoSuchAlias, NoSuchKey.
    async fn update_kms_alias(
        &self,
        account: &str,
        name: &str,
        target_key_id: &str,
        updated_ms: i64,
    ) -> Result<KmsOutcome<()>>;
    /// Refused: NoSuchAlias.
    async fn delete_kms_alias(&self, account: &str, name: &str) -> Result<KmsOutcome<()>>;
}

/// Sealed bytes as standard base64 in the JSON document.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}
