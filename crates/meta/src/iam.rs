//! IAM records (users, groups, managed policies and their versions, access
//! keys) and the typed outcomes of IAM writes. Names of users, groups and
//! policies compare ASCII case-insensitively within an account, as in AWS;
//! they are stored as given. Ids, ARNs and times come from the caller; the
//! store keeps the records and enforces each call's rules (existence,
//! uniqueness, AWS's default quotas in [`limits`]) inside one transaction.
use crate::records::Credential;
use strongbox_types::AccountId;

/// An IAM user of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    pub account_id: AccountId,
    pub name: String,
    /// `AIDA` + 17 characters, unique across accounts.
    pub user_id: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:user{path}{name}`.
    pub arn: String,
    pub created_ms: i64,
}

/// An IAM group of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamGroup {
    pub account_id: AccountId,
    pub name: String,
    /// `AGPA` + 17 characters.
    pub group_id: String,
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:group{path}{name}`.
    pub arn: String,
    pub created_ms: i64,
}

/// A policy document with the name the audit log uses for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDocument {
    pub name: String,
    pub document: String,
}

/// A customer managed policy. `default_version_id` and `attachment_count`
/// are maintained by the store (ignored when creating).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub account_id: AccountId,
    pub name: String,
    /// `ANPA` + 17 characters.
    pub policy_id: String,
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:policy{path}{name}`.
    pub arn: String,
    pub description: Option<String>,
    /// `v1`, `v2`, ...
    pub default_version_id: String,
    pub attachment_count: u32,
    pub created_ms: i64,
    /// When the default version last changed.
    pub updated_ms: i64,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_ms: i64,
}

/// A managed policy attached to a user or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

/// An access key with its creation time (ListAccessKeys' CreateDate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub credential: Credential,
    pub created_ms: i64,
}

/// What an identity policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity<'a> {
    User(&'a str),
    Group(&'a str),
}

impl Entity<'_> {
    pub fn name(&self) -> &str {
        match self {
            Entity::User(n) | Entity::Group(n) => n,
        }
    }

    /// The stored kind tag. DO NOT CHANGE: persisted.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Entity::User(_) => "user",
            Entity::Group(_) => "group",
        }
    }

    pub(crate) fn missing(&self) -> Refused {
        match self {
            Entity::User(_) => Refused::NoSuchUser,
            Entity::Group(_) => Refused::NoSuchGroup,
        }
    }
}

/// Why an IAM write did nothing. The IAM layer maps each to AWS's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NoSuchUser,
    NoSuchGroup,
    NoSuchPolicy,
    NoSuchPolicyVersion,
    NoSuchInlinePolicy,
    NoSuchAccessKey,
    /// Detaching a policy that is not attached.
    NotAttached,
    /// Removing a user from a group it is not in.
    NotMember,
    AlreadyExists,
    /// A quota passed in by the caller would be exceeded.
    LimitExceeded,
    Conflict(Conflict),
}

/// What blocks a delete (AWS `DeleteConflict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The user still has access keys.
    AccessKeys,
    /// The user or group still has inline policies.
    InlinePolicies,
    /// The user or group still has managed policies attached.
    AttachedPolicies,
    /// The user is still in a group.
    GroupMemberships,
    /// The group still has members.
    GroupMembers,
    /// The managed policy is still attached somewhere.
    PolicyAttached,
    /// The managed policy still has versions besides the default one.
    PolicyVersions,
    /// The default version of a policy cannot be deleted.
    DefaultVersion,
}

/// The result of an IAM write: done (with a value), or refused with the reason.
pub type Outcome<T> = std::result::Result<T, Refused>;

/// AWS's default IAM quotas, enforced by the store inside each write.
pub mod limits {
    /// Access keys per user (and for the account root).
    pub const ACCESS_KEYS_PER_USER: usize = 2;
    /// Managed policies attached to one user or group.
    pub const ATTACHED_POLICIES: usize = 10;
    /// Groups a user can be in.
    pub const GROUPS_PER_USER: usize = 10;
    /// Versions a managed policy can have.
    pub const POLICY_VERSIONS: usize = 5;
    /// Aggregate non-whitespace characters of a user's inline policies.
    pub const USER_INLINE_CHARS: usize = 2_048;
    /// Aggregate non-whitespace characters of a group's inline policies.
    pub const GROUP_INLINE_CHARS: usize = 5_120;
}

/// The size AWS counts for policy quotas: characters other than whitespace.
pub fn policy_chars(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}
