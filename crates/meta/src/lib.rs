//! Metadata store: accounts, credentials, buckets, objects, multipart
//! uploads and IAM entities (users, groups, policies), behind the [`MetaStore`] trait so the embedded SQLite adapter can
//! be swapped for a PostgreSQL one without touching S3 semantics.
//!
//! This crate owns persistence of records and the atomicity of each call
//! (e.g. completing an upload swaps the object and drops the upload in one
//! transaction). It does not know about object bytes, encryption or HTTP.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod aws_managed;
pub mod contract;
mod iam;
mod records;
mod sqlite;

pub use aws_managed::{AWS_POLICY_ARN_PREFIX, AwsManagedPolicy, aws_managed_policies, aws_managed_policy};
pub use iam::*;
pub use records::*;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteBucket {
    Deleted,
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

/// The metadata operations Strongbox needs. Every method is atomic.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    async fn create_account(&self, account: &Account) -> Result<bool>;
    async fn get_account(&self, id: &str) -> Result<Option<Account>>;
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    async fn put_credential(&self, credential: &Credential) -> Result<()>;
    async fn get_credential(&self, access_key: &str) -> Result<Option<Credential>>;

    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<CreateBucket>;
    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>>;
    async fn list_buckets(&self, owner: &str) -> Result<Vec<BucketRecord>>;
    /// Deletes only an empty bucket (no objects and no multipart uploads).
    async fn delete_bucket(&self, name: &str) -> Result<DeleteBucket>;
    /// Returns false when the bucket does not exist.
    async fn set_bucket_tags(&self, name: &str, tags: Option<&[Tag]>) -> Result<bool>;
    /// Sets or (with `None`) removes the bucket policy; false when the bucket does not exist.
    async fn set_bucket_policy(&self, name: &str, policy: Option<&str>) -> Result<bool>;

    /// Inserts or replaces the object if `expect` holds; returns the record it replaced.
    async fn put_object(&self, object: &ObjectRecord, expect: &Expect) -> Result<Written<Option<ObjectRecord>>>;
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>>;
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>>;
    /// Returns false when the object does not exist.
    async fn set_object_tags(&self, bucket: &str, key: &str, tags: &[Tag]) -> Result<bool>;
    /// Objects of `bucket` in byte order of the key within `range`, at most `limit`.
    async fn scan_objects(&self, bucket: &str, range: &KeyRange, limit: usize) -> Result<Vec<ObjectSummary>>;

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

    // IAM. `account` is the account id; names compare ASCII case-insensitively.
    // Refusals are values (`Outcome`), `Err` is only a store failure.

    /// Refused: AlreadyExists.
    async fn create_user(&self, user: &IamUser) -> Result<Outcome<()>>;
    async fn get_user(&self, account: &str, name: &str) -> Result<Option<IamUser>>;
    /// Users whose path starts with `path_prefix`, by name.
    async fn list_users(&self, account: &str, path_prefix: &str) -> Result<Vec<IamUser>>;
    /// Refused: NoSuchUser, or Conflict while the user has access keys,
    /// inline policies, attached policies or group memberships.
    async fn delete_user(&self, account: &str, name: &str) -> Result<Outcome<()>>;
    /// Every identity policy that applies to the user: its inline policies, the
    /// default version of each managed policy attached to it, and the inline and
    /// attached policies of every group it belongs to. `name` is for audit
    /// ("user/alice/inline/p1", "group/devs/attached/arn:..."). Empty for an unknown user.
    async fn user_policies(&self, account: &str, user: &str) -> Result<Vec<NamedDocument>>;

    /// Stores a new access key for `credential.user_name` (`None`: the account
    /// root), under the user's stored spelling. Refused: NoSuchUser,
    /// LimitExceeded (`limits::ACCESS_KEYS_PER_USER`), AlreadyExists (the id is taken).
    async fn create_access_key(&self, key: &AccessKey) -> Result<Outcome<()>>;
    /// The access keys of `user` (`None`: the account root's), by access key id.
    async fn list_credentials(&self, account: &str, user: Option<&str>) -> Result<Vec<AccessKey>>;
    /// False when the key does not exist.
    async fn delete_credential(&self, access_key: &str) -> Result<bool>;
    /// False when the key does not exist.
    async fn set_credential_active(&self, access_key: &str, active: bool) -> Result<bool>;

    /// Refused: AlreadyExists.
    async fn create_group(&self, group: &IamGroup) -> Result<Outcome<()>>;
    async fn get_group(&self, account: &str, name: &str) -> Result<Option<IamGroup>>;
    /// Groups whose path starts with `path_prefix`, by name.
    async fn list_groups(&self, account: &str, path_prefix: &str) -> Result<Vec<IamGroup>>;
    /// Refused: NoSuchGroup, or Conflict while it has members, inline or attached policies.
    async fn delete_group(&self, account: &str, name: &str) -> Result<Outcome<()>>;
    /// Adding a member again is a no-op. Refused: NoSuchGroup, NoSuchUser,
    /// LimitExceeded (`limits::GROUPS_PER_USER`).
    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<Outcome<()>>;
    /// Refused: NoSuchGroup, NoSuchUser, NotMember.
    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<Outcome<()>>;
    /// The group's users by name. Refused: NoSuchGroup.
    async fn group_members(&self, account: &str, group: &str) -> Result<Outcome<Vec<IamUser>>>;
    /// The user's groups by name. Refused: NoSuchUser.
    async fn groups_for_user(&self, account: &str, user: &str) -> Result<Outcome<Vec<IamGroup>>>;

    /// Creates or replaces an inline policy. Refused: NoSuchUser/NoSuchGroup,
    /// LimitExceeded when the entity's inline policies together would exceed
    /// `limits::USER_INLINE_CHARS` / `GROUP_INLINE_CHARS`.
    async fn put_inline_policy(
        &self,
        account: &str,
        entity: Entity<'_>,
        policy_name: &str,
        document: &str,
    ) -> Result<Outcome<()>>;
    /// The document under its stored name. Refused: NoSuchUser/NoSuchGroup, NoSuchInlinePolicy.
    async fn get_inline_policy(
        &self,
        account: &str,
        entity: Entity<'_>,
        policy_name: &str,
    ) -> Result<Outcome<NamedDocument>>;
    /// Policy names, sorted. Refused: NoSuchUser/NoSuchGroup.
    async fn list_inline_policies(&self, account: &str, entity: Entity<'_>) -> Result<Outcome<Vec<String>>>;
    /// Refused: NoSuchUser/NoSuchGroup, NoSuchInlinePolicy.
    async fn delete_inline_policy(&self, account: &str, entity: Entity<'_>, policy_name: &str) -> Result<Outcome<()>>;

    /// Stores `policy` with `document` as its default version `v1`; returns
    /// the stored record. Refused: AlreadyExists (name or ARN).
    async fn create_policy(&self, policy: &ManagedPolicy, document: &str) -> Result<Outcome<ManagedPolicy>>;
    /// A customer managed policy of `account` (built-in AWS policies are not stored).
    async fn get_policy(&self, account: &str, arn: &str) -> Result<Option<ManagedPolicy>>;
    /// Policies whose path starts with `path_prefix`, by name.
    async fn list_policies(&self, account: &str, path_prefix: &str, only_attached: bool) -> Result<Vec<ManagedPolicy>>;
    /// Refused: NoSuchPolicy, Conflict while attached or while it has
    /// non-default versions (AWS's order of DeletePolicy).
    async fn delete_policy(&self, account: &str, arn: &str) -> Result<Outcome<()>>;
    /// Adds the next version (`v<n>`, never reused). Refused: NoSuchPolicy,
    /// LimitExceeded (`limits::POLICY_VERSIONS`).
    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
        created_ms: i64,
    ) -> Result<Outcome<PolicyVersion>>;
    /// Refused: NoSuchPolicy, NoSuchPolicyVersion.
    async fn get_policy_version(&self, account: &str, arn: &str, version_id: &str) -> Result<Outcome<PolicyVersion>>;
    /// Newest first. Refused: NoSuchPolicy.
    async fn list_policy_versions(&self, account: &str, arn: &str) -> Result<Outcome<Vec<PolicyVersion>>>;
    /// Refused: NoSuchPolicy, NoSuchPolicyVersion, Conflict(DefaultVersion).
    async fn delete_policy_version(&self, account: &str, arn: &str, version_id: &str) -> Result<Outcome<()>>;
    /// Refused: NoSuchPolicy, NoSuchPolicyVersion.
    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
        updated_ms: i64,
    ) -> Result<Outcome<()>>;

    /// Attaches a managed policy of `account` or a built-in AWS managed policy;
    /// attaching again is a no-op. Refused: NoSuchUser/NoSuchGroup,
    /// NoSuchPolicy, LimitExceeded (`limits::ATTACHED_POLICIES`).
    async fn attach_policy(&self, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>>;
    /// Refused: NoSuchUser/NoSuchGroup, NotAttached.
    async fn detach_policy(&self, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>>;
    /// By policy name. Refused: NoSuchUser/NoSuchGroup.
    async fn attached_policies(&self, account: &str, entity: Entity<'_>) -> Result<Outcome<Vec<AttachedPolicy>>>;
    /// How many users and groups of `account` have the policy `arn` attached
    /// (also for built-in AWS policies).
    async fn attachment_count(&self, account: &str, arn: &str) -> Result<u32>;
}
