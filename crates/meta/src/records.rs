//! The persisted records. Objects keep listing columns in SQL and the rest as
//! a versioned JSON document (`RECORD_VERSION`), see docs/design/metadata.md.
use serde::{Deserialize, Serialize};
use strongbox_types::AccountId;

/// Version of the JSON documents below. DO NOT CHANGE without a migration.
pub const RECORD_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// 64 hex characters, stable per account (ListBuckets Owner/ID).
    pub canonical_id: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub account_id: AccountId,
    /// The secret access key sealed under the root key (never plaintext).
    pub secret_sealed: Vec<u8>,
    pub is_root: bool,
    pub active: bool,
    /// The IAM user this key belongs to; `None` for the account root's keys.
    pub user_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    pub owner: AccountId,
    pub region: String,
    pub created_ms: i64,
    pub tags: Option<Vec<Tag>>,
    /// The bucket policy document as the owner sent it (validated on PUT).
    pub policy: Option<String>,
    /// Default encryption; `None` means SSE-S3, every bucket's default.
    pub encryption: Option<BucketEncryption>,
    /// `None` until versioning is first configured (a bucket never returns to unversioned).
    pub versioning: Option<BucketVersioning>,
    /// Object Lock: `Some` once enabled, which is for good (and keeps versioning on).
    pub object_lock: Option<BucketObjectLock>,
    /// The bucket's public-access, ownership and browser settings.
    pub settings: BucketSettings,
    /// The owner account's Block Public Access, read with the record (not
    /// stored with the bucket: `create_bucket` ignores it).
    pub account_public_access_block: Option<PublicAccessBlock>,
}

/// The four Block Public Access flags, of a bucket or of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Every flag on: what a new bucket gets, as AWS since April 2023.
    pub const ALL: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// The most restrictive of two settings: a flag is on if either has it on.
    pub fn most_restrictive(self, other: Self) -> Self {
        Self {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// Bucket settings kept as one JSON document (`buckets.settings`, schema
/// v7), each `None` until configured. Changed only through
/// [`crate::MetaStore::update_bucket_settings`], a read-modify-write in one
/// transaction, so concurrent changes to different settings do not undo
/// each other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
}

/// Account-wide settings (`account_settings`, schema v7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The account-level Block Public Access (S3 Control PutPublicAccessBlock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
}

/// A bucket's Object Lock configuration (ObjectLockEnabled is implied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketObjectLock {
    /// The retention new versions get when a write names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_retention: Option<DefaultRetention>,
}

/// A default retention rule: a mode and a period of days or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: LockMode,
    pub period: RetentionPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetentionPeriod {
    Days(u32),
    Years(u32),
}

/// Object Lock retention modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockMode {
    /// Users with s3:BypassGovernanceRetention (and the header) may lift it.
    #[serde(rename = "GOVERNANCE")]
    Governance,
    /// Nobody shortens or lifts it before its date.
    #[serde(rename = "COMPLIANCE")]
    Compliance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Governance => "GOVERNANCE",
            Self::Compliance => "COMPLIANCE",
        }
    }
}

/// A version's retention: its mode and the instant it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: LockMode,
    /// Milliseconds since the epoch, judged against the server clock.
    pub until_ms: i64,
}

/// The Object Lock state of one version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// `None` until a legal hold is first set (GetObjectLegalHold then answers
    /// NoSuchObjectLockConfiguration), then ON or OFF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

/// Why Object Lock refuses to let a version go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockBlock {
    LegalHold,
    Compliance,
    Governance,
}

/// What a permanent delete is judged by: the server clock and whether the
/// caller may bypass governance retention (permission and header both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockCheck {
    pub now_ms: i64,
    pub bypass_governance: bool,
}

impl LockCheck {
    /// Judged now, without bypass.
    pub fn now() -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            now_ms,
            bypass_governance: false,
        }
    }
}

impl ObjectLock {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The retention still in force at `now_ms`.
    pub fn active_retention(&self, now_ms: i64) -> Option<Retention> {
        self.retention.filter(|r| r.until_ms > now_ms)
    }

    /// What keeps the version from being deleted under `check`, if anything.
    /// Every store adapter calls this inside the delete's transaction.
    pub fn blocks_delete(&self, check: &LockCheck) -> Option<LockBlock> {
        if self.legal_hold == Some(true) {
            return Some(LockBlock::LegalHold);
        }
        match self.active_retention(check.now_ms)?.mode {
            LockMode::Compliance => Some(LockBlock::Compliance),
            LockMode::Governance if check.bypass_governance => None,
            LockMode::Governance => Some(LockBlock::Governance),
        }
    }
}

/// A bucket's versioning state (PutBucketVersioning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketVersioning {
    /// Enabled, or Suspended (writes get the null version again).
    pub enabled: bool,
    /// MFA Delete: version deletes and versioning changes need `x-amz-mfa`.
    #[serde(default)]
    pub mfa_delete: bool,
}

/// How a bucket places new versions, from its [`BucketRecord::versioning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningState {
    Unversioned,
    Enabled,
    Suspended,
}

impl BucketRecord {
    /// The Block Public Access enforced on this bucket: the most
    /// restrictive of its own setting and its owner account's.
    pub fn effective_public_access_block(&self) -> PublicAccessBlock {
        self.settings
            .public_access_block
            .unwrap_or_default()
            .most_restrictive(self.account_public_access_block.unwrap_or_default())
    }

    pub fn versioning_state(&self) -> VersioningState {
        match self.versioning {
            None => VersioningState::Unversioned,
            Some(v) if v.enabled => VersioningState::Enabled,
            Some(_) => VersioningState::Suspended,
        }
    }
}

/// A bucket's default encryption rule (S3 allows exactly one rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// KMSMasterKeyID as the owner gave it (key id, alias or ARN).
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
    /// BlockedEncryptionTypes: encryption types writes may not use (`SSE-C`).
    #[serde(default)]
    pub blocked_types: Vec<String>,
}

/// Standard HTTP headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
}

/// A checksum of the whole object as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectChecksum {
    /// CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.
    pub algorithm: String,
    /// Base64 value; for COMPOSITE checksums it carries the `-N` suffix.
    pub value: String,
    /// FULL_OBJECT or COMPOSITE.
    pub kind: String,
}

/// How the object's bytes are encrypted at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRecord {
    /// `AES256` (SSE-S3), `aws:kms` (SSE-KMS), `aws:kms:dsse` (DSSE-KMS) or
    /// `SSE-C` (customer-provided key).
    pub scheme: String,
    /// Which key-encryption key wrapped the data key: the root key id (SSE-S3),
    /// the KMS key ARN (SSE-KMS, DSSE-KMS) or `customer` (SSE-C).
    pub kek_id: String,
    /// The wrapped data key: crypto's WrappedKey bytes (SSE-S3, SSE-C, and
    /// under a bucket key), or the KMS ciphertext blob (SSE-KMS without a bucket key).
    pub wrapped_key: Vec<u8>,
    /// DSSE-KMS: the second layer's KMS ciphertext blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_key: Option<Vec<u8>>,
    /// The encryption context the caller gave (SSE-KMS), as the JSON object
    /// S3 returns base64-encoded in `x-amz-server-side-encryption-context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// SSE-KMS with an S3 Bucket Key: the bucket key's KMS ciphertext blob;
    /// `wrapped_key` is then the data key wrapped under the bucket key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key: Option<Vec<u8>>,
    /// SSE-C: base64 MD5 of the customer key (S3 returns it) and a salted
    /// HMAC-SHA256 of the key to recognise it; the key itself is never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_hmac: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_salt: Option<Vec<u8>>,
}

/// One stored blob of an object: the whole object, or one multipart part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub blob_id: String,
    pub size: u64,
    /// 0 for a simple PUT; the part number for multipart objects.
    pub part_number: u32,
    /// Part ETag (hex MD5, no quotes).
    pub etag: String,
    pub checksum: Option<String>,
    /// The sealed bytes live in the metadata store (small objects), keyed
    /// by `blob_id`, not in a blob file: one commit makes them durable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline: bool,
    /// An inline segment's sealed bytes: given to `put_object`, filled in by
    /// `get_object`; never part of the JSON document.
    #[serde(skip)]
    pub data: Option<bytes::Bytes>,
}

/// The JSON document of an object row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDoc {
    pub v: u32,
    pub content: ContentHeaders,
    pub user_meta: Vec<(String, String)>,
    pub checksum: Option<ObjectChecksum>,
    pub tags: Vec<Tag>,
    pub encryption: EncryptionRecord,
    pub segments: Vec<Segment>,
    /// The multipart upload this object was completed from, so a retried
    /// CompleteMultipartUpload (SDKs retry on a dropped connection) is
    /// answered with this object instead of NoSuchUpload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// The version id the chunks' associated data binds, when it is not the
    /// record's own: a multipart upload's parts are sealed before the object
    /// has a version id (under the null version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_version: Option<String>,
    /// Object Lock retention and legal hold of this version.
    #[serde(default, skip_serializing_if = "ObjectLock::is_empty")]
    pub lock: ObjectLock,
}

/// The version id of objects written while a bucket is unversioned or suspended.
pub const NULL_VERSION: &str = "null";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    /// [`NULL_VERSION`], or the opaque id the engine gave this version.
    pub version_id: String,
    /// A delete marker: no bytes, `size` 0; as the latest version it hides the key.
    pub delete_marker: bool,
    pub size: u64,
    /// Hex MD5 (simple) or `md5-of-md5s-N` (multipart), without quotes.
    pub etag: String,
    pub last_modified_ms: i64,
    pub doc: ObjectDoc,
}

impl ObjectRecord {
    /// The version id the chunks were sealed under (see [`ObjectDoc::sealed_version`]).
    pub fn sealed_version(&self) -> &str {
        self.doc.sealed_version.as_deref().unwrap_or(&self.version_id)
    }

    /// The blob files this object's bytes live in (inline segments have none).
    pub fn blob_ids(&self) -> impl Iterator<Item = &str> {
        self.doc
            .segments
            .iter()
            .filter(|s| !s.inline)
            .map(|s| s.blob_id.as_str())
    }
}

/// The listing columns of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// One version (or delete marker) in ListObjectVersions order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSummary {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified_ms: i64,
}

/// Where a version scan resumes: after `version_id` within `key` (the
/// KeyMarker/VersionIdMarker pair), then the keys after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCursor {
    pub key: String,
    pub version_id: String,
}

/// A key range in UTF-8 byte order: `start` (inclusive or not) up to `end` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyRange {
    pub start: Vec<u8>,
    pub start_inclusive: bool,
    pub end: Option<Vec<u8>>,
}

/// The JSON document of an upload row: what the completed object will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadDoc {
    pub v: u32,
    pub content: ContentHeaders,
    pub user_meta: Vec<(String, String)>,
    pub tags: Vec<Tag>,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    pub encryption: EncryptionRecord,
    /// The Object Lock the completed object gets (the bucket default applies
    /// at completion when this names no retention).
    #[serde(default, skip_serializing_if = "ObjectLock::is_empty")]
    pub lock: ObjectLock,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    pub owner: AccountId,
    pub doc: UploadDoc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub upload_id: String,
    pub part_number: u32,
    pub blob_id: String,
    pub size: u64,
    pub etag: String,
    pub checksum: Option<String>,
    pub last_modified_ms: i64,
}
