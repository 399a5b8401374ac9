//! One request, start to end: authenticate, read the parameters, pick the
//! action, and run it with a [`Ctx`] that knows the caller and authorizes.
use crate::auth::{self, Caller};
use crate::params::Params;
use crate::{IamError, IamRequest, IamService, attach, groups, inline, managed, mfa, roles, users, xml};
use strongbox_meta::MetaStore;
use strongbox_policy::ContextKeys;

/// The only API version IAM has.
pub(crate) const VERSION: &str = "2010-05-08";

/// What an action returns: the inner XML of its `<ActionResult>`, if any.
pub(crate) type Reply = Result<Option<String>, IamError>;

pub(crate) async fn run(svc: &IamService, req: &IamRequest<'_>) -> Result<String, IamError> {
    let caller = auth::authenticate_for(svc, req, "iam").await?;
    if caller
        .session()
        .is_some_and(|s| s.mfa_ms.is_none() && !matches!(s.of, crate::identity::SessionOf::Role { .. }))
    {
        // AWS: GetSessionToken credentials call IAM only when made with MFA.
        return Err(IamError::AccessDenied(
            "Cannot call IAM APIs with session credentials obtained without MFA.".into(),
        ));
    }
    let params = Params::parse(req.uri.query(), req.body)?;
    let action = params.get("Action").ok_or(IamError::MissingAction)?.to_owned();
    if let Some(version) = params.get("Version").filter(|v| *v != VERSION) {
        return Err(unknown(&action, version));
    }
    let identity = auth::identity(svc, &caller).await?;
    let mut context = req.context.clone();
    caller.add_context(&mut context);
    let cx = Ctx {
        svc,
        caller,
        params,
        identity,
        context,
        now_ms: now_ms(),
    };
    let result = dispatch(&action, &cx).await?;
    Ok(xml::success(&action, result.as_deref(), req.request_id))
}

fn unknown(action: &str, version: &str) -> IamError {
    IamError::InvalidAction(format!("Could not find operation {action} for version {version}"))
}

async fn dispatch(action: &str, cx: &Ctx<'_>) -> Reply {
    use crate::inline::Owner::{Group, Role, User};
    match action {
        "CreateUser" => users::create_user(cx).await,
        "GetUser" => users::get_user(cx).await,
        "ListUsers" => users::list_users(cx).await,
        "DeleteUser" => users::delete_user(cx).await,
        "CreateAccessKey" => users::create_access_key(cx).await,
        "ListAccessKeys" => users::list_access_keys(cx).await,
        "UpdateAccessKey" => users::update_access_key(cx).await,
        "DeleteAccessKey" => users::delete_access_key(cx).await,
        "PutUserPolicy" => inline::put(cx, User).await,
        "GetUserPolicy" => inline::get(cx, User).await,
        "ListUserPolicies" => inline::list(cx, User).await,
        "DeleteUserPolicy" => inline::delete(cx, User).await,
        "PutGroupPolicy" => inline::put(cx, Group).await,
        "GetGroupPolicy" => inline::get(cx, Group).await,
        "ListGroupPolicies" => inline::list(cx, Group).await,
        "DeleteGroupPolicy" => inline::delete(cx, Group).await,
        "CreatePolicy" => managed::create_policy(cx).await,
        "GetPolicy" => managed::get_policy(cx).await,
        "ListPolicies" => managed::list_policies(cx).await,
        "DeletePolicy" => managed::delete_policy(cx).await,
        "CreatePolicyVersion" => managed::create_policy_version(cx).await,
        "GetPolicyVersion" => managed::get_policy_version(cx).await,
        "ListPolicyVersions" => managed::list_policy_versions(cx).await,
        "DeletePolicyVersion" => managed::delete_policy_version(cx).await,
        "SetDefaultPolicyVersion" => managed::set_default_policy_version(cx).await,
        "AttachUserPolicy" => attach::attach(cx, User, true).await,
        "DetachUserPolicy" => attach::attach(cx, User, false).await,
        "ListAttachedUserPolicies" => attach::list(cx, User).await,
        "AttachGroupPolicy" => attach::attach(cx, Group, true).await,
        "DetachGroupPolicy" => attach::attach(cx, Group, false).await,
        "ListAttachedGroupPolicies" => attach::list(cx, Group).await,
        "CreateGroup" => groups::create_group(cx).await,
        "GetGroup" => groups::get_group(cx).await,
        "ListGroups" => groups::list_groups(cx).await,
        "DeleteGroup" => groups::delete_group(cx).await,
        "AddUserToGroup" => groups::membership(cx, true).await,
        "RemoveUserFromGroup" => groups::membership(cx, false).await,
        "ListGroupsForUser" => groups::list_groups_for_user(cx).await,
        "CreateRole" => roles::create_role(cx).await,
        "GetRole" => roles::get_role(cx).await,
        "ListRoles" => roles::list_roles(cx).await,
        "UpdateRole" => roles::update_role(cx).await,
        "UpdateRoleDescription" => roles::update_role(cx).await,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(cx).await,
        "DeleteRole" => roles::delete_role(cx).await,
        "TagRole" => roles::tag_role(cx).await,
        "UntagRole" => roles::untag_role(cx).await,
        "ListRoleTags" => roles::list_role_tags(cx).await,
        "PutRolePolicy" => inline::put(cx, Role).await,
        "GetRolePolicy" => inline::get(cx, Role).await,
        "ListRolePolicies" => inline::list(cx, Role).await,
        "DeleteRolePolicy" => inline::delete(cx, Role).await,
        "AttachRolePolicy" => attach::attach(cx, Role, true).await,
        "DetachRolePolicy" => attach::attach(cx, Role, false).await,
        "ListAttachedRolePolicies" => attach::list(cx, Role).await,
        "PutUserPermissionsBoundary" => roles::put_boundary(cx, User).await,
        "DeleteUserPermissionsBoundary" => roles::delete_boundary(cx, User).await,
        "PutRolePermissionsBoundary" => roles::put_boundary(cx, Role).await,
        "DeleteRolePermissionsBoundary" => roles::delete_boundary(cx, Role).await,
        "CreateVirtualMFADevice" => mfa::create_virtual_mfa_device(cx).await,
        "EnableMFADevice" => mfa::enable_mfa_device(cx).await,
        "ResyncMFADevice" => mfa::resync_mfa_device(cx).await,
        "DeactivateMFADevice" => mfa::deactivate_mfa_device(cx).await,
        "DeleteVirtualMFADevice" => mfa::delete_virtual_mfa_device(cx).await,
        "ListMFADevices" => mfa::list_mfa_devices(cx).await,
        "ListVirtualMFADevices" => mfa::list_virtual_mfa_devices(cx).await,
        other => Err(unknown(other, VERSION)),
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Everything an action needs: the store, the caller, its parameters.
pub(crate) struct Ctx<'a> {
    pub svc: &'a IamService,
    pub caller: Caller,
    pub params: Params,
    identity: auth::ParsedPolicies,
    context: ContextKeys,
    pub now_ms: i64,
}

impl Ctx<'_> {
    pub fn meta(&self) -> &dyn MetaStore {
        self.svc.meta.as_ref()
    }

    pub fn account(&self) -> &str {
        self.caller.account()
    }

    /// Allows `iam:<action>` on `resource`, or answers AccessDenied.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), IamError> {
        self.authorize_with(action, resource, &[])
    }

    /// [`Ctx::authorize`] with extra condition keys (e.g. `iam:PolicyARN`).
    pub fn authorize_with(&self, action: &str, resource: &str, keys: &[(&str, &str)]) -> Result<(), IamError> {
        self.authorize_tagged(action, resource, keys, &[])
    }

    /// [`Ctx::authorize_with`] plus `aws:TagKeys` (when tags are given), for
    /// actions that tag (or untag) what they create or change.
    pub fn authorize_tagged(
        &self,
        action: &str,
        resource: &str,
        keys: &[(&str, &str)],
        tag_keys: &[&str],
    ) -> Result<(), IamError> {
        let action = format!("iam:{action}");
        if keys.is_empty() && tag_keys.is_empty() {
            return auth::authorize(&self.caller, &self.identity, &action, resource, &self.context);
        }
        let mut context = self.context.clone();
        for (k, v) in keys {
            context.insert(k, v);
        }
        if !tag_keys.is_empty() {
            context.insert_multi("aws:TagKeys", tag_keys);
        }
        auth::authorize(&self.caller, &self.identity, &action, resource, &context)
    }

    pub fn svc_root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account())
    }

    pub fn user_arn(&self, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:user{path}{name}", self.account())
    }

    pub fn group_arn(&self, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:group{path}{name}", self.account())
    }

    pub fn policy_arn(&self, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:policy{path}{name}", self.account())
    }

    /// The ARN authorization uses for the user `name`: its own when it
    /// exists (with its path), else the default-path ARN it would have.
    pub async fn user_resource(&self, name: &str) -> Result<String, IamError> {
        let user = self.meta().get_user(self.account(), name).await?;
        Ok(user.map_or_else(|| self.user_arn("/", name), |u| u.arn))
    }

    pub fn role_arn(&self, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:role{path}{name}", self.account())
    }

    pub async fn role_resource(&self, name: &str) -> Result<String, IamError> {
        let role = self.meta().get_role(self.account(), name).await?;
        Ok(role.map_or_else(|| self.role_arn("/", name), |r| r.arn))
    }

    pub async fn group_resource(&self, name: &str) -> Result<String, IamError> {
        let group = self.meta().get_group(self.account(), name).await?;
        Ok(group.map_or_else(|| self.group_arn("/", name), |g| g.arn))
    }

    /// `UserName`, or the calling user when absent (`None` for the root).
    pub fn user_or_self(&self) -> Result<Option<String>, IamError> {
        match self.params.get("UserName") {
            Some(name) => {
                crate::params::name("userName", name, crate::params::EXISTING_NAME_MAX)?;
                Ok(Some(name.to_owned()))
            }
            None => Ok(self.caller.user().map(|u| u.name.to_owned())),
        }
    }
}
