//! IAM roles (CreateRole, GetRole, ListRoles, UpdateRole,
//! UpdateRoleDescription, UpdateAssumeRolePolicy, DeleteRole, tags) and
//! permissions boundaries of users and roles. A trust policy is validated as
//! AWS does: it names principals, has no Resource, and only STS actions.
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::inline::Owner;
use crate::params::{self, EXISTING_NAME_MAX, Page, Params};
use crate::xml::{Xml, url_encode};
use crate::{IamError, ids};
use strongbox_meta::{IamRole, Tag, limits, policy_chars};
use strongbox_policy::{Policy, PolicyKind};

const ROLE_NAME_MAX: usize = 64;
/// AWS's default ACLSizePerRole quota, in non-whitespace characters.
const TRUST_POLICY_CHARS: usize = 2_048;
const DEFAULT_MAX_SESSION: u32 = 3_600;

fn role_subject(name: &str) -> Subject<'_> {
    Subject {
        role: Some(name),
        ..Subject::default()
    }
}

/// A trust policy: AWS's size quota, then the trust grammar.
pub(crate) fn validate_trust_policy(document: &str) -> Result<(), IamError> {
    params::document("assumeRolePolicyDocument", document)?;
    if policy_chars(document) > TRUST_POLICY_CHARS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_CHARS}"
        )));
    }
    Policy::parse(document, &PolicyKind::Trust)
        .map(|_| ())
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

fn max_session(cx: &Ctx<'_>) -> Result<Option<u32>, IamError> {
    let Some(v) = cx.params.get("MaxSessionDuration") else {
        return Ok(None);
    };
    match v.parse::<u32>() {
        Ok(n) if (3_600..=43_200).contains(&n) => Ok(Some(n)),
        _ => Err(IamError::invalid(
            "maxSessionDuration",
            Some(v),
            "Member must have value between 3600 and 43200",
        )),
    }
}

fn description(cx: &Ctx<'_>) -> Result<Option<String>, IamError> {
    let d = cx.params.get("Description");
    if let Some(d) = d {
        params::description("description", d)?;
    }
    Ok(d.map(str::to_owned))
}

/// `Tags.member.N.Key` / `.Value` (or `prefix`), in order, validated as AWS
/// (IAM's tagging calls and STS session tags share these rules); callers apply their quota.
pub(crate) fn tags_param(params: &Params, prefix: &str) -> Result<Vec<Tag>, IamError> {
    let mut tags: Vec<Tag> = Vec::new();
    for n in 1.. {
        let Some(key) = params.get(&format!("{prefix}.member.{n}.Key")) else {
            break;
        };
        let value = params.get(&format!("{prefix}.member.{n}.Value")).unwrap_or("");
        if key.is_empty() || key.chars().count() > 128 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(IamError::invalid(
                &format!("tags.{n}.member.key"),
                Some(key),
                "Member must have length less than or equal to 128 and must not begin with aws:",
            ));
        }
        if value.chars().count() > 256 {
            return Err(IamError::invalid(
                &format!("tags.{n}.member.value"),
                Some(value),
                "Member must have length less than or equal to 256",
            ));
        }
        if tags.iter().any(|t| t.key.eq_ignore_ascii_case(key)) {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
        tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(tags)
}

/// A role's tags: [`tags_param`] within the role quota.
fn role_tags(cx: &Ctx<'_>) -> Result<Vec<Tag>, IamError> {
    let tags = tags_param(&cx.params, "Tags")?;
    if tags.len() > limits::ROLE_TAGS {
        return Err(IamError::LimitExceeded(
            "The number of tags has reached the maximum limit.".into(),
        ));
    }
    Ok(tags)
}

fn boundary_param(cx: &Ctx<'_>) -> Result<Option<String>, IamError> {
    let Some(arn) = cx.params.get("PermissionsBoundary") else {
        return Ok(None);
    };
    params::arn("permissionsBoundary", arn)?;
    if !arn.starts_with("arn:aws:iam::") || !arn.contains(":policy/") {
        return Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")));
    }
    Ok(Some(arn.to_owned()))
}

fn no_such_boundary(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Scope ARN: {arn} does not exist or is not attachable."))
}

pub(crate) async fn create_role(cx: &Ctx<'_>) -> Reply {
    let name = cx.params.required("RoleName", "roleName")?;
    params::name("roleName", name, ROLE_NAME_MAX)?;
    let path = cx.params.get("Path").unwrap_or("/");
    params::path("path", path)?;
    let trust = cx
        .params
        .required("AssumeRolePolicyDocument", "assumeRolePolicyDocument")?;
    let boundary = boundary_param(cx)?;
    let arn = cx.role_arn(path, name);
    let tags = role_tags(cx)?;
    let request_tags: Vec<(String, String)> = tags
        .iter()
        .map(|t| (format!("aws:RequestTag/{}", t.key), t.value.clone()))
        .collect();
    let mut keys: Vec<(&str, &str)> = request_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if let Some(b) = &boundary {
        keys.push(("iam:PermissionsBoundary", b.as_str()));
    }
    let tag_keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    cx.authorize_tagged("CreateRole", &arn, &keys, &tag_keys)?;
    validate_trust_policy(trust)?;
    let role = IamRole {
        account_id: cx.caller.account_id().clone(),
        name: name.to_owned(),
        role_id: ids::unique_id(ids::ROLE_PREFIX)?,
        path: path.to_owned(),
        arn,
        trust_policy: trust.to_owned(),
        description: description(cx)?,
        max_session_s: max_session(cx)?.unwrap_or(DEFAULT_MAX_SESSION),
        tags,
        created_ms: cx.now_ms,
    };
    cx.meta()
        .create_role(&role, boundary.as_deref())
        .await?
        .map_err(|r| match r {
            strongbox_meta::Refused::NoSuchPolicy => no_such_boundary(boundary.as_deref().unwrap_or_default()),
            r => refused(r, role_subject(name)),
        })?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &role, boundary.as_deref());
    Ok(Some(x.finish()))
}

fn role_xml(x: &mut Xml, tag: &str, r: &IamRole, boundary: Option<&str>) {
    x.open(tag)
        .text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.role_id)
        .text("Arn", &r.arn)
        .date("CreateDate", r.created_ms)
        .text("AssumeRolePolicyDocument", &url_encode(&r.trust_policy))
        .opt("Description", r.description.as_deref())
        .number("MaxSessionDuration", u64::from(r.max_session_s));
    x.boundary(boundary);
    if !r.tags.is_empty() {
        tags_xml(x, &r.tags);
    }
    x.close(tag);
}

fn tags_xml(x: &mut Xml, tags: &[Tag]) {
    x.open("Tags");
    for t in tags {
        x.open("member")
            .text("Key", &t.key)
            .text("Value", &t.value)
            .close("member");
    }
    x.close("Tags");
}

async fn existing_role(cx: &Ctx<'_>, name: &str) -> Result<IamRole, IamError> {
    cx.meta()
        .get_role(cx.account(), name)
        .await?
        .ok_or_else(|| refused(strongbox_meta::Refused::NoSuchRole, role_subject(name)))
}

fn role_name<'a>(cx: &'a Ctx<'_>) -> Result<&'a str, IamError> {
    let name = cx.params.required("RoleName", "roleName")?;
    params::name("roleName", name, EXISTING_NAME_MAX)?;
    Ok(name)
}

async fn boundary_of(cx: &Ctx<'_>, name: &str) -> Result<Option<String>, IamError> {
    Ok(cx
        .meta()
        .permissions_boundary(cx.account(), strongbox_meta::Entity::Role(name))
        .await?
        .map(|(arn, _)| arn))
}

pub(crate) async fn get_role(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    cx.authorize("GetRole", &cx.role_resource(name).await?)?;
    let role = existing_role(cx, name).await?;
    let boundary = boundary_of(cx, &role.name).await?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &role, boundary.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn list_roles(cx: &Ctx<'_>) -> Reply {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    params::path_prefix("pathPrefix", prefix)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListRoles", &format!("{}*", cx.role_arn(prefix, "")))?;
    let roles = cx.meta().list_roles(cx.account(), prefix).await?;
    let (roles, next) = page.apply(roles, |r| r.name.to_ascii_lowercase());
    let mut x = Xml::new();
    x.open("Roles");
    for r in &roles {
        // ListRoles leaves out tags and boundaries, as AWS.
        let bare = IamRole {
            tags: Vec::new(),
            ..r.clone()
        };
        role_xml(&mut x, "member", &bare, None);
    }
    x.close("Roles").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

/// UpdateRole (Description, MaxSessionDuration; no result) and
/// UpdateRoleDescription (Description; returns the role).
pub(crate) async fn update_role(cx: &Ctx<'_>) -> Reply {
    let action = cx.params.get("Action").unwrap_or("UpdateRole").to_owned();
    let name = role_name(cx)?;
    cx.authorize(&action, &cx.role_resource(name).await?)?;
    let mut role = existing_role(cx, name).await?;
    let description = description(cx)?;
    if action == "UpdateRoleDescription" && description.is_none() {
        return Err(IamError::invalid("description", None, "Member must not be null"));
    }
    if description.is_some() {
        role.description = description;
    }
    if let Some(max) = max_session(cx)? {
        role.max_session_s = max;
    }
    cx.meta()
        .update_role(&role)
        .await?
        .map_err(|r| refused(r, role_subject(name)))?;
    if action != "UpdateRoleDescription" {
        // UpdateRole's output shape is empty, but botocore expects its element.
        return Ok(Some(String::new()));
    }
    let boundary = boundary_of(cx, &role.name).await?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &role, boundary.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn update_assume_role_policy(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    let document = cx.params.required("PolicyDocument", "policyDocument")?;
    cx.authorize("UpdateAssumeRolePolicy", &cx.role_resource(name).await?)?;
    validate_trust_policy(document)?;
    let mut role = existing_role(cx, name).await?;
    role.trust_policy = document.to_owned();
    cx.meta()
        .update_role(&role)
        .await?
        .map_err(|r| refused(r, role_subject(name)))?;
    Ok(None)
}

pub(crate) async fn delete_role(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    cx.authorize("DeleteRole", &cx.role_resource(name).await?)?;
    cx.meta()
        .delete_role(cx.account(), name)
        .await?
        .map_err(|r| refused(r, role_subject(name)))?;
    Ok(None)
}

pub(crate) async fn tag_role(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    let tags = role_tags(cx)?;
    let keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    let request_tags: Vec<(String, String)> = tags
        .iter()
        .map(|t| (format!("aws:RequestTag/{}", t.key), t.value.clone()))
        .collect();
    let pairs: Vec<(&str, &str)> = request_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    cx.authorize_tagged("TagRole", &cx.role_resource(name).await?, &pairs, &keys)?;
    let mut role = existing_role(cx, name).await?;
    for tag in tags {
        match role.tags.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            Some(t) => t.value = tag.value,
            None => role.tags.push(tag),
        }
    }
    if role.tags.len() > limits::ROLE_TAGS {
        return Err(IamError::LimitExceeded(
            "The number of tags has reached the maximum limit.".into(),
        ));
    }
    cx.meta()
        .update_role(&role)
        .await?
        .map_err(|r| refused(r, role_subject(name)))?;
    Ok(None)
}

pub(crate) async fn untag_role(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    let keys: Vec<String> = (1..)
        .map_while(|n| cx.params.get(&format!("TagKeys.member.{n}")).map(str::to_owned))
        .collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    cx.authorize_tagged("UntagRole", &cx.role_resource(name).await?, &[], &key_refs)?;
    let mut role = existing_role(cx, name).await?;
    role.tags
        .retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
    cx.meta()
        .update_role(&role)
        .await?
        .map_err(|r| refused(r, role_subject(name)))?;
    Ok(None)
}

pub(crate) async fn list_role_tags(cx: &Ctx<'_>) -> Reply {
    let name = role_name(cx)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListRoleTags", &cx.role_resource(name).await?)?;
    let role = existing_role(cx, name).await?;
    let (tags, next) = page.apply(role.tags, |t| t.key.clone());
    let mut x = Xml::new();
    tags_xml(&mut x, &tags);
    x.truncation(next.as_deref());
    Ok(Some(x.finish()))
}

/// Put{User,Role}PermissionsBoundary.
pub(crate) async fn put_boundary(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let arn =
        boundary_param(cx)?.ok_or_else(|| IamError::invalid("permissionsBoundary", None, "Member must not be null"))?;
    let resource = owner.resource(cx, &name).await?;
    cx.authorize_with(
        &format!("Put{}PermissionsBoundary", owner.noun()),
        &resource,
        &[("iam:PermissionsBoundary", &arn)],
    )?;
    cx.meta()
        .set_permissions_boundary(cx.account(), owner.entity(&name), Some(&arn))
        .await?
        .map_err(|r| match r {
            strongbox_meta::Refused::NoSuchPolicy => no_such_boundary(&arn),
            r => refused(r, owner.subject(&name)),
        })?;
    Ok(None)
}

/// Delete{User,Role}PermissionsBoundary.
pub(crate) async fn delete_boundary(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let resource = owner.resource(cx, &name).await?;
    cx.authorize(&format!("Delete{}PermissionsBoundary", owner.noun()), &resource)?;
    cx.meta()
        .set_permissions_boundary(cx.account(), owner.entity(&name), None)
        .await?
        .map_err(|r| refused(r, owner.subject(&name)))?;
    Ok(None)
}
