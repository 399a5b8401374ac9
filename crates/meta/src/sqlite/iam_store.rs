//! [`IamStore`] for the SQLite adapter: each method moves its arguments into
//! a blocking task and runs the function of `iam`, `iam_managed` or
//! `iam_policies` on a reader or (for writes) the writer connection.
use super::{SqliteStore, iam, iam_managed, iam_mfa, iam_policies, iam_roles};
use crate::Result;
use crate::iam::{
    AccessKey, AttachedPolicy, Entity, IamGroup, IamRole, IamStore, IamUser, ManagedPolicy, MfaDevice, MfaOwner,
    NamedDocument, Outcome, PolicyVersion,
};
use async_trait::async_trait;
use rusqlite::params;

#[async_trait]
impl IamStore for SqliteStore {
    async fn create_user(&self, user: &IamUser) -> Result<Outcome<()>> {
        let user = user.clone();
        self.write(move |c| iam::create_user(c, &user)).await
    }

    async fn get_user(&self, account: &str, name: &str) -> Result<Option<IamUser>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.read(move |c| iam::get_user(c, &account, &name)).await
    }

    async fn list_users(&self, account: &str, path_prefix: &str) -> Result<Vec<IamUser>> {
        let (account, prefix) = (account.to_owned(), path_prefix.to_owned());
        self.read(move |c| iam::list_users(c, &account, &prefix)).await
    }

    async fn delete_user(&self, account: &str, name: &str) -> Result<Outcome<()>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.write(move |c| iam::delete_user(c, &account, &name)).await
    }

    async fn user_policies(&self, account: &str, user: &str) -> Result<Vec<NamedDocument>> {
        let (account, user) = (account.to_owned(), user.to_owned());
        self.read(move |c| iam_policies::user_policies(c, &account, &user))
            .await
    }

    async fn create_access_key(&self, key: &AccessKey) -> Result<Outcome<()>> {
        let key = key.clone();
        self.write(move |c| iam::create_access_key(c, &key)).await
    }

    async fn list_credentials(&self, account: &str, user: Option<&str>) -> Result<Vec<AccessKey>> {
        let (account, user) = (account.to_owned(), user.map(str::to_owned));
        self.read(move |c| iam::list_credentials(c, &account, user.as_deref()))
            .await
    }

    async fn delete_credential(&self, access_key: &str) -> Result<bool> {
        let ak = access_key.to_owned();
        self.write(move |c| Ok(c.execute("DELETE FROM credentials WHERE access_key = ?1", params![ak])? == 1))
            .await
    }

    async fn set_credential_active(&self, access_key: &str, active: bool) -> Result<bool> {
        let ak = access_key.to_owned();
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE credentials SET active = ?2 WHERE access_key = ?1",
                params![ak, active],
            )? == 1)
        })
        .await
    }

    async fn create_group(&self, group: &IamGroup) -> Result<Outcome<()>> {
        let group = group.clone();
        self.write(move |c| iam::create_group(c, &group)).await
    }

    async fn get_group(&self, account: &str, name: &str) -> Result<Option<IamGroup>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.read(move |c| iam::get_group(c, &account, &name)).await
    }

    async fn list_groups(&self, account: &str, path_prefix: &str) -> Result<Vec<IamGroup>> {
        let (account, prefix) = (account.to_owned(), path_prefix.to_owned());
        self.read(move |c| iam::list_groups(c, &account, &prefix)).await
    }

    async fn delete_group(&self, account: &str, name: &str) -> Result<Outcome<()>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.write(move |c| iam::delete_group(c, &account, &name)).await
    }

    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<Outcome<()>> {
        let (account, group, user) = (account.to_owned(), group.to_owned(), user.to_owned());
        self.write(move |c| iam::add_user_to_group(c, &account, &group, &user))
            .await
    }

    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<Outcome<()>> {
        let (account, group, user) = (account.to_owned(), group.to_owned(), user.to_owned());
        self.write(move |c| iam::remove_user_from_group(c, &account, &group, &user))
            .await
    }

    async fn group_members(&self, account: &str, group: &str) -> Result<Outcome<Vec<IamUser>>> {
        let (account, group) = (account.to_owned(), group.to_owned());
        self.read(move |c| iam::group_members(c, &account, &group)).await
    }

    async fn groups_for_user(&self, account: &str, user: &str) -> Result<Outcome<Vec<IamGroup>>> {
        let (account, user) = (account.to_owned(), user.to_owned());
        self.read(move |c| iam::groups_for_user(c, &account, &user)).await
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        entity: Entity<'_>,
        policy_name: &str,
        document: &str,
    ) -> Result<Outcome<()>> {
        let (account, owned, policy, document) = owned_args(account, entity, policy_name, document);
        self.write(move |c| iam_policies::put_inline_policy(c, &account, owned.entity(), &policy, &document))
            .await
    }

    async fn get_inline_policy(
        &self,
        account: &str,
        entity: Entity<'_>,
        policy_name: &str,
    ) -> Result<Outcome<NamedDocument>> {
        let (account, owned, policy, _) = owned_args(account, entity, policy_name, "");
        self.read(move |c| iam_policies::get_inline_policy(c, &account, owned.entity(), &policy))
            .await
    }

    async fn list_inline_policies(&self, account: &str, entity: Entity<'_>) -> Result<Outcome<Vec<String>>> {
        let (account, owned, _, _) = owned_args(account, entity, "", "");
        self.read(move |c| iam_policies::list_inline_policies(c, &account, owned.entity()))
            .await
    }

    async fn delete_inline_policy(&self, account: &str, entity: Entity<'_>, policy_name: &str) -> Result<Outcome<()>> {
        let (account, owned, policy, _) = owned_args(account, entity, policy_name, "");
        self.write(move |c| iam_policies::delete_inline_policy(c, &account, owned.entity(), &policy))
            .await
    }

    async fn create_policy(&self, policy: &ManagedPolicy, document: &str) -> Result<Outcome<ManagedPolicy>> {
        let (policy, document) = (policy.clone(), document.to_owned());
        self.write(move |c| iam_managed::create_policy(c, &policy, &document))
            .await
    }

    async fn get_policy(&self, account: &str, arn: &str) -> Result<Option<ManagedPolicy>> {
        let (account, arn) = (account.to_owned(), arn.to_owned());
        self.read(move |c| iam_managed::get_policy(c, &account, &arn)).await
    }

    async fn list_policies(&self, account: &str, path_prefix: &str, only_attached: bool) -> Result<Vec<ManagedPolicy>> {
        let (account, prefix) = (account.to_owned(), path_prefix.to_owned());
        self.read(move |c| iam_managed::list_policies(c, &account, &prefix, only_attached))
            .await
    }

    async fn delete_policy(&self, account: &str, arn: &str) -> Result<Outcome<()>> {
        let (account, arn) = (account.to_owned(), arn.to_owned());
        self.write(move |c| iam_managed::delete_policy(c, &account, &arn)).await
    }

    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
        created_ms: i64,
    ) -> Result<Outcome<PolicyVersion>> {
        let (account, arn, document) = (account.to_owned(), arn.to_owned(), document.to_owned());
        self.write(move |c| {
            iam_managed::create_policy_version(c, &account, &arn, &document, set_as_default, created_ms)
        })
        .await
    }

    async fn get_policy_version(&self, account: &str, arn: &str, version_id: &str) -> Result<Outcome<PolicyVersion>> {
        let (account, arn, id) = (account.to_owned(), arn.to_owned(), version_id.to_owned());
        self.read(move |c| iam_managed::get_policy_version(c, &account, &arn, &id))
            .await
    }

    async fn list_policy_versions(&self, account: &str, arn: &str) -> Result<Outcome<Vec<PolicyVersion>>> {
        let (account, arn) = (account.to_owned(), arn.to_owned());
        self.read(move |c| iam_managed::list_policy_versions(c, &account, &arn))
            .await
    }

    async fn delete_policy_version(&self, account: &str, arn: &str, version_id: &str) -> Result<Outcome<()>> {
        let (account, arn, id) = (account.to_owned(), arn.to_owned(), version_id.to_owned());
        self.write(move |c| iam_managed::delete_policy_version(c, &account, &arn, &id))
            .await
    }

    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
        updated_ms: i64,
    ) -> Result<Outcome<()>> {
        let (account, arn, id) = (account.to_owned(), arn.to_owned(), version_id.to_owned());
        self.write(move |c| iam_managed::set_default_policy_version(c, &account, &arn, &id, updated_ms))
            .await
    }

    async fn attach_policy(&self, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>> {
        let (account, owned, arn, _) = owned_args(account, entity, arn, "");
        self.write(move |c| iam_policies::attach_policy(c, &account, owned.entity(), &arn))
            .await
    }

    async fn detach_policy(&self, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>> {
        let (account, owned, arn, _) = owned_args(account, entity, arn, "");
        self.write(move |c| iam_policies::detach_policy(c, &account, owned.entity(), &arn))
            .await
    }

    async fn attached_policies(&self, account: &str, entity: Entity<'_>) -> Result<Outcome<Vec<AttachedPolicy>>> {
        let (account, owned, _, _) = owned_args(account, entity, "", "");
        self.read(move |c| iam_policies::attached_policies(c, &account, owned.entity()))
            .await
    }

    async fn attachment_count(&self, account: &str, arn: &str) -> Result<u32> {
        let (account, arn) = (account.to_owned(), arn.to_owned());
        self.read(move |c| iam_policies::attachment_count(c, &account, &arn))
            .await
    }

    async fn create_role(&self, role: &IamRole, boundary: Option<&str>) -> Result<Outcome<()>> {
        let (role, boundary) = (role.clone(), boundary.map(str::to_owned));
        self.write(move |c| iam_roles::create_role(c, &role, boundary.as_deref()))
            .await
    }

    async fn get_role(&self, account: &str, name: &str) -> Result<Option<IamRole>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.read(move |c| iam_roles::get_role(c, &account, &name)).await
    }

    async fn list_roles(&self, account: &str, path_prefix: &str) -> Result<Vec<IamRole>> {
        let (account, prefix) = (account.to_owned(), path_prefix.to_owned());
        self.read(move |c| iam_roles::list_roles(c, &account, &prefix)).await
    }

    async fn update_role(&self, role: &IamRole) -> Result<Outcome<()>> {
        let role = role.clone();
        self.write(move |c| iam_roles::update_role(c, &role)).await
    }

    async fn delete_role(&self, account: &str, name: &str) -> Result<Outcome<()>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.write(move |c| iam_roles::delete_role(c, &account, &name)).await
    }

    async fn role_policies(&self, account: &str, role: &str) -> Result<Vec<NamedDocument>> {
        let (account, role) = (account.to_owned(), role.to_owned());
        self.read(move |c| iam_roles::role_policies(c, &account, &role)).await
    }

    async fn set_permissions_boundary(
        &self,
        account: &str,
        entity: Entity<'_>,
        arn: Option<&str>,
    ) -> Result<Outcome<()>> {
        let (account, entity, arn) = (account.to_owned(), OwnedEntity::from(entity), arn.map(str::to_owned));
        self.write(move |c| iam_roles::set_permissions_boundary(c, &account, entity.entity(), arn.as_deref()))
            .await
    }

    async fn permissions_boundary(&self, account: &str, entity: Entity<'_>) -> Result<Option<(String, NamedDocument)>> {
        let (account, entity) = (account.to_owned(), OwnedEntity::from(entity));
        self.read(move |c| iam_roles::permissions_boundary(c, &account, entity.entity()))
            .await
    }

    async fn create_mfa_device(&self, device: &MfaDevice) -> Result<Outcome<()>> {
        let device = device.clone();
        self.write(move |c| iam_mfa::create(c, &device)).await
    }

    async fn get_mfa_device(&self, serial: &str) -> Result<Option<MfaDevice>> {
        let serial = serial.to_owned();
        self.read(move |c| iam_mfa::get(c, &serial)).await
    }

    async fn list_mfa_devices(&self, account: &str) -> Result<Vec<MfaDevice>> {
        let account = account.to_owned();
        self.read(move |c| iam_mfa::list(c, &account)).await
    }

    async fn enable_mfa_device(&self, serial: &str, owner: &MfaOwner, step: i64, now_ms: i64) -> Result<Outcome<()>> {
        let (serial, owner) = (serial.to_owned(), owner.clone());
        self.write(move |c| iam_mfa::enable(c, &serial, &owner, step, now_ms))
            .await
    }

    async fn deactivate_mfa_device(&self, serial: &str, owner: &MfaOwner) -> Result<Outcome<()>> {
        let (serial, owner) = (serial.to_owned(), owner.clone());
        self.write(move |c| iam_mfa::deactivate(c, &serial, &owner)).await
    }

    async fn delete_mfa_device(&self, serial: &str) -> Result<Outcome<()>> {
        let serial = serial.to_owned();
        self.write(move |c| iam_mfa::delete(c, &serial)).await
    }

    async fn consume_mfa_step(&self, serial: &str, step: i64) -> Result<bool> {
        let serial = serial.to_owned();
        self.write(move |c| iam_mfa::consume_step(c, &serial, step)).await
    }

    async fn record_mfa_failure(&self, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32> {
        let serial = serial.to_owned();
        self.write(move |c| iam_mfa::record_failure(c, &serial, now_ms, window_ms))
            .await
    }

    async fn mfa_failures(&self, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32> {
        let serial = serial.to_owned();
        self.read(move |c| iam_mfa::failures_in(c, &serial, now_ms, window_ms))
            .await
    }
}

/// An [`Entity`] that can move into a blocking task.
pub(super) enum OwnedEntity {
    User(String),
    Group(String),
    Role(String),
}

impl OwnedEntity {
    pub(super) fn entity(&self) -> Entity<'_> {
        match self {
            OwnedEntity::User(n) => Entity::User(n),
            OwnedEntity::Group(n) => Entity::Group(n),
            OwnedEntity::Role(n) => Entity::Role(n),
        }
    }

    pub(super) fn from(entity: Entity<'_>) -> Self {
        match entity {
            Entity::User(n) => OwnedEntity::User(n.to_owned()),
            Entity::Group(n) => OwnedEntity::Group(n.to_owned()),
            Entity::Role(n) => OwnedEntity::Role(n.to_owned()),
        }
    }
}

fn owned_args(account: &str, entity: Entity<'_>, a: &str, b: &str) -> (String, OwnedEntity, String, String) {
    let owned = OwnedEntity::from(entity);
    (account.to_owned(), owned, a.to_owned(), b.to_owned())
}
