//! IAM records (users, groups, managed policies and their versions, access
//! keys) and the typed outcomes of IAM writes. Names of users, groups and
//! policies compare ASCII case-insensitively within an account, as in AWS;
//! they are stored as given. Ids, ARNs and times come from the caller; the
//! store keeps the records and enforces each call's rules (existence,
//! uniqueness, AWS's default quotas in [`limits`]) inside one transaction.
use crate::Result;
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

/// An IAM role: who may assume it (the trust policy) and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRole {
    pub account_id: AccountId,
    pub name: String,
    /// `AROA` + 17 characters, unique across accounts.
    pub role_id: String,
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:role{path}{name}`.
    pub arn: String,
    /// The trust policy (AssumeRolePolicyDocument), as given.
    pub trust_policy: String,
    pub description: Option<String>,
    /// 3600..=43200 seconds.
    pub max_session_s: u32,
    pub tags: Vec<crate::records::Tag>,
    pub created_ms: i64,
}

/// Who a virtual MFA device is enabled for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaOwner {
    User(String),
    /// The account root (serial `arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device`).
    Root,
}

/// A virtual (TOTP) MFA device. The seed is sealed under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    pub account_id: AccountId,
    /// `arn:aws:iam::ACCOUNT:mfa{path}{name}`, unique.
    pub serial: String,
    pub name: String,
    pub path: String,
    pub seed_sealed: Vec<u8>,
    /// `None` until EnableMFADevice.
    pub owner: Option<MfaOwner>,
    pub enabled_ms: Option<i64>,
    pub created_ms: i64,
    /// The last TOTP time step accepted (codes of this step or earlier are replays).
    pub last_step: i64,
}

/// What an identity policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity<'a> {
    User(&'a str),
    Group(&'a str),
    Role(&'a str),
}

impl Entity<'_> {
    pub fn name(&self) -> &str {
        match self {
            Entity::User(n) | Entity::Group(n) | Entity::Role(n) => n,
        }
    }

    /// The stored kind tag. DO NOT CHANGE: persisted.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Entity::User(_) => "user",
            Entity::Group(_) => "group",
            Entity::Role(_) => "role",
        }
    }

    pub(crate) fn missing(&self) -> Refused {
        match self {
            Entity::User(_) => Refused::NoSuchUser,
            Entity::Group(_) => Refused::NoSuchGroup,
            Entity::Role(_) => Refused::NoSuchRole,
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
    NoSuchRole,
    NoSuchMfaDevice,
    /// Enabling a device that is already enabled, or for an owner that has one.
    MfaInUse,
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
    /// The user still has MFA devices enabled.
    MfaDevices,
    /// A virtual MFA device that is still enabled cannot be deleted.
    MfaEnabled,
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
    /// Aggregate non-whitespace characters of a role's inline policies.
    pub const ROLE_INLINE_CHARS: usize = 10_240;
    /// MFA devices enabled for one user.
    pub const MFA_DEVICES_PER_USER: usize = 8;
    /// Tags on one role.
    pub const ROLE_TAGS: usize = 50;
}

/// The size AWS counts for policy quotas: characters other than whitespace.
pub fn policy_chars(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// IAM storage: users, access keys, groups, inline and managed policies and
/// their attachments. `account` is the account id; names compare ASCII
/// case-insensitively. Refusals are values (`Outcome`), `Err` is only a store
/// failure. Every method is atomic.
#[async_trait::async_trait]
pub trait IamStore: Send + Sync + 'static {
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

    /// Refused: AlreadyExists. `boundary` is stored with it, in the same transaction.
    async fn create_role(&self, role: &IamRole, boundary: Option<&str>) -> Result<Outcome<()>>;
    async fn get_role(&self, account: &str, name: &str) -> Result<Option<IamRole>>;
    /// Roles whose path starts with `path_prefix`, by name.
    async fn list_roles(&self, account: &str, path_prefix: &str) -> Result<Vec<IamRole>>;
    /// Replaces the role's mutable fields (description, max session,
    /// trust policy, tags) with those of `role`. Refused: NoSuchRole.
    async fn update_role(&self, role: &IamRole) -> Result<Outcome<()>>;
    /// Refused: NoSuchRole, Conflict while it has inline or attached policies.
    async fn delete_role(&self, account: &str, name: &str) -> Result<Outcome<()>>;
    /// The role's inline policies and attached managed policies' default
    /// versions (named as [`IamStore::user_policies`]). Empty for an unknown role.
    async fn role_policies(&self, account: &str, role: &str) -> Result<Vec<NamedDocument>>;

    /// Sets (`Some`) or removes the permissions boundary of a user or role.
    /// Refused: NoSuchUser/NoSuchRole, NoSuchPolicy (a customer policy that does not exist).
    async fn set_permissions_boundary(
        &self,
        account: &str,
        entity: Entity<'_>,
        arn: Option<&str>,
    ) -> Result<Outcome<()>>;
    /// The boundary's policy ARN and its default version's document.
    async fn permissions_boundary(&self, account: &str, entity: Entity<'_>) -> Result<Option<(String, NamedDocument)>>;

    /// Refused: AlreadyExists (the serial is taken).
    async fn create_mfa_device(&self, device: &MfaDevice) -> Result<Outcome<()>>;
    async fn get_mfa_device(&self, serial: &str) -> Result<Option<MfaDevice>>;
    /// The account's virtual MFA devices, by serial.
    async fn list_mfa_devices(&self, account: &str) -> Result<Vec<MfaDevice>>;
    /// Assigns the device to `owner` and records `step` as used. Refused:
    /// NoSuchMfaDevice, NoSuchUser, MfaInUse (already enabled, or the root
    /// already has one), LimitExceeded (`limits::MFA_DEVICES_PER_USER`).
    async fn enable_mfa_device(&self, serial: &str, owner: &MfaOwner, step: i64, now_ms: i64) -> Result<Outcome<()>>;
    /// Unassigns the device. Refused: NoSuchMfaDevice (also when not enabled for `owner`).
    async fn deactivate_mfa_device(&self, serial: &str, owner: &MfaOwner) -> Result<Outcome<()>>;
    /// Refused: NoSuchMfaDevice, Conflict(MfaEnabled).
    async fn delete_mfa_device(&self, serial: &str) -> Result<Outcome<()>>;
    /// Records `step` as used if it is later than the last one used: true
    /// then, false for a replayed (or older) code. Atomic across nodes.
    async fn consume_mfa_step(&self, serial: &str, step: i64) -> Result<bool>;
    /// Counts a wrong code for the device within a window starting at the
    /// first failure (reset after `window_ms`); returns the count so far.
    async fn record_mfa_failure(&self, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32>;
    /// Wrong codes in the current window (0 when it has passed).
    async fn mfa_failures(&self, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32>;
}
