//! Metadata store: accounts, credentials, buckets, objects, multipart
//! uploads, IAM entities (users, groups, policies) and KMS keys and aliases, behind the [`MetaStore`] trait so the embedded SQLite adapter can
//! be swapped for a PostgreSQL one without touching S3 semantics.
//!
//! This crate owns persistence of records and the atomicity of each call
//! (e.g. completing an upload swaps the object and drops the upload in one
//! transaction). It does not know about object bytes, encryption or HTTP.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod aws_managed;
pub mod contract;
pub mod fsck;
mod iam;
mod kms;
mod records;
mod rotate;
mod sqlite;

pub use aws_managed::{AWS_POLICY_ARN_PREFIX, AwsManagedPolicy, aws_managed_policies, aws_managed_policy};
pub use iam::*;
pub use kms::*;
pub use records::*;
pub use rotate::*;
pub use sqlite::SqliteStore;

use async_trait::async_trait;

/// Store failures. Callers treat every variant as an internal error: the
/// store reports "not found" and "already exists" through return values.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("metadata database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("corrupt metadata record: {0}")]
    Corrupt(String),
    #[error("metadata task failed: {0}")]
    Task(String),
    /// A [`Resealer`] refused an item; the rewrite changed nothing.
    #[error("re-sealing under the new root key failed: {0}")]
    Reseal(String),
    /// SQLite could not grow its files (SQLITE_FULL): the disk or quota is full.
    #[error("metadata database is full: {0}")]
    StorageFull(String),
}

impl MetaError {
    /// The database could not be written for want of disk space.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::StorageFull(_) => true,
            Self::Database(e) => sqlite_full(e),
            _ => false,
        }
    }
}

/// Whether a SQLite error is SQLITE_FULL (ENOSPC or EDQUOT underneath).
pub(crate) fn sqlite_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// Purpose label for sealing secret access keys under the root key (the
/// `secret_sealed` of credentials). DO NOT CHANGE: existing secrets would no longer open.
pub const CREDENTIAL_PURPOSE: &str = "strongbox/credential-secret/v1";

pub type Result<T> = std::result::Result<T, MetaError>;

/// What creating a bucket did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateBucket {
    Created,
    /// The name is taken; carries the owning account.
    Exists(strongbox_types::AccountId),
}

/// What deleting a bucket did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteBucket {
    /// Deleted, with its in-progress multipart uploads (as S3 does); carries
    /// the blob ids of their parts, now unreferenced, for the caller to free.
    Deleted {
        released: Vec<String>,
    },
    NotFound,
    NotEmpty,
}

/// What must hold of the current object for a write to proceed (S3
/// conditional writes), checked inside the write's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Expect {
    #[default]
    Any,
    /// `If-None-Match: *`: the key must not exist.
    Absent,
    /// `If-Match: "etag"`: the key must exist with this ETag.
    ETag(String),
}

impl Expect {
    pub fn holds(&self, current: Option<&ObjectRecord>) -> bool {
        match (self, current) {
            (Expect::Any, _) => true,
            (Expect::Absent, c) => c.is_none(),
            (Expect::ETag(e), Some(c)) => &c.etag == e,
            (Expect::ETag(_), None) => false,
        }
    }
}

/// The outcome of a conditional object write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// Written; carries what it replaced.
    Done(T),
    /// The [`Expect`] did not hold; nothing changed.
    ConditionFailed,
}

/// What a guarded bucket setting change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketUpdate {
    Done,
    NotFound,
    /// The change's precondition does not hold: suspending versioning under
    /// Object Lock, enabling Object Lock while versioning is not enabled, or
    /// a settings edit that declined.
    Refused,
}

/// An edit of a settings document, run inside the store's transaction on
/// the current document (again, should the transaction be retried);
/// returning false leaves it unchanged ([`BucketUpdate::Refused`]).
pub type SettingsEdit<T> = Box<dyn Fn(&mut T) -> bool + Send>;

/// What a permanent delete of one version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Removed(Box<ObjectRecord>),
    /// No such version (no error in S3).
    Missing,
    /// Object Lock keeps the version; nothing changed.
    Locked(LockBlock),
}

impl Deletion {
    pub fn removed(self) -> Option<ObjectRecord> {
        match self {
            Self::Removed(o) => Some(*o),
            _ => None,
        }
    }
}

/// The metadata operations Strongbox needs. Every method is atomic. The IAM
/// and KMS parts are their own traits ([`IamStore`], [`KmsStore`]) so each
/// adapter keeps them in their own modules.
#[async_trait]
pub trait MetaStore: IamStore + KmsStore + Send + Sync + 'static {
    async fn create_account(&self, account: &Account) -> Result<bool>;
    async fn get_account(&self, id: &str) -> Result<Option<Account>>;
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    async fn put_credential(&self, credential: &Credential) -> Result<()>;
    async fn get_credential(&self, access_key: &str) -> Result<Option<Credential>>;

    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<CreateBucket>;
    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>>;
    async fn list_buckets(&self, owner: &str) -> Result<Vec<BucketRecord>>;
    /// Deletes a bucket without objects, and its multipart uploads with it.
    async fn delete_bucket(&self, name: &str) -> Result<DeleteBucket>;
    /// Returns false when the bucket does not exist.
    async fn set_bucket_tags(&self, name: &str, tags: Option<&[Tag]>) -> Result<bool>;
    /// Sets or (with `None`) removes the bucket policy. A policy the caller
    /// judged `public` is [`BucketUpdate::Refused`] while the bucket's or its
    /// owner account's Block Public Access has BlockPublicPolicy on, checked
    /// in the same transaction as the write.
    async fn set_bucket_policy(&self, name: &str, policy: Option<&str>, public: bool) -> Result<BucketUpdate>;
    /// Sets or (with `None`) resets the default encryption; false when the bucket does not exist.
    async fn set_bucket_encryption(&self, name: &str, encryption: Option<&BucketEncryption>) -> Result<bool>;

    /// Sets the versioning configuration; suspending a bucket with Object
    /// Lock is [`BucketUpdate::Refused`] (checked in the same transaction).
    async fn set_bucket_versioning(&self, name: &str, versioning: &BucketVersioning) -> Result<BucketUpdate>;
    /// Enables Object Lock or replaces its default retention; refused unless
    /// versioning is enabled (checked in the same transaction).
    async fn set_bucket_object_lock(&self, name: &str, lock: &BucketObjectLock) -> Result<BucketUpdate>;

    /// Applies `edit` to the bucket's settings in one transaction.
    async fn update_bucket_settings(&self, name: &str, edit: SettingsEdit<BucketSettings>) -> Result<BucketUpdate>;
    /// An account's settings (the default when it never set any).
    async fn account_settings(&self, account: &str) -> Result<AccountSettings>;
    /// Applies `edit` to an account's settings in one transaction.
    async fn update_account_settings(&self, account: &str, edit: SettingsEdit<AccountSettings>)
    -> Result<BucketUpdate>;

    /// Adds `object` (a version or a delete marker) as the key's latest
    /// version if `expect` holds of the current object. A [`NULL_VERSION`]
    /// record replaces the key's null version wherever it is in the stack
    /// (unversioned and suspended writes); any other id is a new version.
    /// Returns the null version it replaced.
    async fn put_object(&self, object: &ObjectRecord, expect: &Expect) -> Result<Written<Option<ObjectRecord>>>;
    /// The current object: the latest version, unless that is a delete marker.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>>;
    /// One version by id, or (`None`) the latest one, delete markers included.
    async fn get_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Option<ObjectRecord>>;
    /// Removes one version (or delete marker) for good unless its Object
    /// Lock blocks that under `check` ([`ObjectLock::blocks_delete`], judged
    /// in the delete's transaction); the next newest becomes the latest.
    async fn delete_version(&self, bucket: &str, key: &str, version_id: &str, check: &LockCheck) -> Result<Deletion>;
    /// Removes the null version: the whole object of an unversioned bucket.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<Deletion> {
        self.delete_version(bucket, key, NULL_VERSION, &LockCheck::now()).await
    }
    /// Replaces one version's Object Lock state if it is still `expect`
    /// (compare-and-swap: the caller judged the change against `expect`);
    /// false when the version is gone, is a delete marker, or changed meanwhile.
    async fn set_object_lock(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        expect: &ObjectLock,
        lock: &ObjectLock,
    ) -> Result<bool>;
    /// Sets the tags of one version (`None`: the current object); false when
    /// there is no such version, or it is a delete marker.
    async fn set_object_tags(&self, bucket: &str, key: &str, version_id: Option<&str>, tags: &[Tag]) -> Result<bool>;
    /// Current objects of `bucket` (no delete markers) in byte order of the key within `range`, at most `limit`.
    async fn scan_objects(&self, bucket: &str, range: &KeyRange, limit: usize) -> Result<Vec<ObjectSummary>>;
    /// Versions and delete markers of `bucket` within `range`, by key and
    /// newest first within a key, at most `limit`; with `after`, the scan
    /// starts after that version of its key (an unknown version id: after the key).
    async fn scan_versions(
        &self,
        bucket: &str,
        range: &KeyRange,
        after: Option<&VersionCursor>,
        limit: usize,
    ) -> Result<Vec<VersionSummary>>;

    async fn create_upload(&self, upload: &UploadRecord) -> Result<()>;
    async fn get_upload(&self, upload_id: &str) -> Result<Option<UploadRecord>>;
    /// Records a part; returns the part it replaced (same number), if any.
    async fn put_part(&self, part: &PartRecord) -> Result<Option<PartRecord>>;
    /// Parts with number > `after`, ascending, at most `limit`.
    async fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>>;
    /// Uploads of `bucket` whose key starts with `prefix`, ordered by (key, initiated, upload id), after the markers.
    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>>;
    /// Atomically stores `object`, deletes the upload and all its parts.
    /// Returns the replaced object (if any) and all part records of the upload.
    async fn complete_upload(
        &self,
        upload_id: &str,
        object: &ObjectRecord,
        expect: &Expect,
    ) -> Result<Option<Written<(Option<ObjectRecord>, Vec<PartRecord>)>>>;
    /// Deletes the upload; returns its parts, or None if it did not exist.
    async fn abort_upload(&self, upload_id: &str) -> Result<Option<Vec<PartRecord>>>;

    /// Every blob id referenced by an object or a part (for startup garbage collection).
    async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>>;
}
