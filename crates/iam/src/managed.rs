//! Customer managed policies and their versions (CreatePolicy, GetPolicy,
//! ListPolicies, DeletePolicy, Create/Get/List/DeletePolicyVersion,
//! SetDefaultPolicyVersion), plus the read side of the built-in AWS managed
//! policies, which behave like AWS's: listed with `Scope=AWS`, one version,
//! attachable, not deletable.
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::params::{self, POLICY_NAME_MAX, Page};
use crate::xml::{Xml, url_encode};
use crate::{IamError, ids};
use strongbox_meta::{
    AwsManagedPolicy, ManagedPolicy, PolicyVersion, Refused, aws_managed_policies, aws_managed_policy, policy_chars,
};
use strongbox_policy::{MAX_IDENTITY_POLICY_CHARS, Policy, PolicyKind};

/// Parses `document` as an identity policy; the parser's message (with line
/// and column) becomes the MalformedPolicyDocument message.
pub(crate) fn validate_document(document: &str) -> Result<(), IamError> {
    Policy::parse(document, &PolicyKind::Identity)
        .map(|_| ())
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

/// A managed policy document: AWS's size quota, then the policy grammar.
fn validate_managed_document(document: &str) -> Result<(), IamError> {
    params::document("policyDocument", document)?;
    if policy_chars(document) > MAX_IDENTITY_POLICY_CHARS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_IDENTITY_POLICY_CHARS}"
        )));
    }
    validate_document(document)
}

fn policy_arn_param(cx: &Ctx<'_>) -> Result<String, IamError> {
    let arn = cx.params.required("PolicyArn", "policyArn")?;
    params::arn("policyArn", arn)?;
    Ok(arn.to_owned())
}

fn subject(arn: &str) -> Subject<'_> {
    Subject {
        policy: Some(arn),
        ..Subject::default()
    }
}

pub(crate) async fn create_policy(cx: &Ctx<'_>) -> Reply {
    let name = cx.params.required("PolicyName", "policyName")?;
    params::name("policyName", name, POLICY_NAME_MAX)?;
    let path = cx.params.get("Path").unwrap_or("/");
    params::path("path", path)?;
    let description = cx.params.get("Description").filter(|d| !d.is_empty());
    if let Some(d) = description {
        params::description("description", d)?;
    }
    let document = cx.params.required("PolicyDocument", "policyDocument")?;
    validate_managed_document(document)?;
    let arn = cx.policy_arn(path, name);
    cx.authorize("CreatePolicy", &arn)?;
    let policy = ManagedPolicy {
        account_id: cx.caller.account_id().clone(),
        name: name.to_owned(),
        policy_id: ids::unique_id(ids::POLICY_PREFIX)?,
        path: path.to_owned(),
        arn,
        description: description.map(str::to_owned),
        default_version_id: "v1".to_owned(),
        attachment_count: 0,
        created_ms: cx.now_ms,
        updated_ms: cx.now_ms,
    };
    let stored = cx.meta().create_policy(&policy, document).await?.map_err(|r| {
        refused(
            r,
            Subject {
                policy_name: Some(name),
                ..Subject::default()
            },
        )
    })?;
    let mut x = Xml::new();
    write_policy(&mut x, "Policy", &View::local(&stored), true);
    Ok(Some(x.finish()))
}

pub(crate) async fn get_policy(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    cx.authorize("GetPolicy", &arn)?;
    let view = match aws_managed_policy(&arn) {
        Some(builtin) => View::aws(builtin, cx.meta().attachment_count(cx.account(), builtin.arn).await?),
        None => View::local(&existing_policy(cx, &arn).await?),
    };
    let mut x = Xml::new();
    write_policy(&mut x, "Policy", &view, true);
    Ok(Some(x.finish()))
}

async fn existing_policy(cx: &Ctx<'_>, arn: &str) -> Result<ManagedPolicy, IamError> {
    cx.meta()
        .get_policy(cx.account(), arn)
        .await?
        .ok_or_else(|| refused(Refused::NoSuchPolicy, subject(arn)))
}

pub(crate) async fn list_policies(cx: &Ctx<'_>) -> Reply {
    let scope = cx.params.get("Scope").unwrap_or("All");
    let (aws, local) = match scope {
        "All" => (true, true),
        "AWS" => (true, false),
        "Local" => (false, true),
        other => {
            return Err(IamError::invalid(
                "scope",
                Some(other),
                "Member must satisfy enum value set: [All, AWS, Local]",
            ));
        }
    };
    let only_attached = cx.params.flag("OnlyAttached")?;
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    params::path_prefix("pathPrefix", prefix)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListPolicies", &format!("{}*", cx.policy_arn(prefix, "")))?;
    let mut views = Vec::new();
    if aws && "/".starts_with(prefix) {
        for builtin in aws_managed_policies() {
            let count = cx.meta().attachment_count(cx.account(), builtin.arn).await?;
            if !only_attached || count > 0 {
                views.push(View::aws(builtin, count));
            }
        }
    }
    if local {
        let stored = cx.meta().list_policies(cx.account(), prefix, only_attached).await?;
        views.extend(stored.iter().map(View::local));
    }
    // AWS's policies first, then the account's, each by name.
    let (views, next) = page.apply(views, |v| {
        format!("{}{}", if v.aws { "0" } else { "1" }, v.name.to_ascii_lowercase())
    });
    let mut x = Xml::new();
    x.open("Policies");
    for v in &views {
        write_policy(&mut x, "member", v, false);
    }
    x.close("Policies").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn delete_policy(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    cx.authorize("DeletePolicy", &arn)?;
    cx.meta()
        .delete_policy(cx.account(), &arn)
        .await?
        .map_err(|r| refused(r, subject(&arn)))?;
    Ok(None)
}

pub(crate) async fn create_policy_version(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    let document = cx.params.required("PolicyDocument", "policyDocument")?;
    validate_managed_document(document)?;
    let set_as_default = cx.params.flag("SetAsDefault")?;
    cx.authorize("CreatePolicyVersion", &arn)?;
    let version = cx
        .meta()
        .create_policy_version(cx.account(), &arn, document, set_as_default, cx.now_ms)
        .await?
        .map_err(|r| refused(r, subject(&arn)))?;
    let mut x = Xml::new();
    write_version(&mut x, "PolicyVersion", &version, false);
    Ok(Some(x.finish()))
}

fn version_param(cx: &Ctx<'_>) -> Result<String, IamError> {
    let id = cx.params.required("VersionId", "versionId")?;
    params::version_id("versionId", id)?;
    Ok(id.to_owned())
}

pub(crate) async fn get_policy_version(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    let id = version_param(cx)?;
    cx.authorize("GetPolicyVersion", &arn)?;
    let missing = || {
        refused(
            Refused::NoSuchPolicyVersion,
            Subject {
                version: Some(&id),
                ..subject(&arn)
            },
        )
    };
    let version = match aws_managed_policy(&arn) {
        Some(builtin) if builtin.version_id == id => aws_version(builtin),
        Some(_) => return Err(missing()),
        None => cx
            .meta()
            .get_policy_version(cx.account(), &arn, &id)
            .await?
            .map_err(|r| match r {
                Refused::NoSuchPolicyVersion => missing(),
                other => refused(other, subject(&arn)),
            })?,
    };
    let mut x = Xml::new();
    write_version(&mut x, "PolicyVersion", &version, true);
    Ok(Some(x.finish()))
}

pub(crate) async fn list_policy_versions(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListPolicyVersions", &arn)?;
    let versions = match aws_managed_policy(&arn) {
        Some(builtin) => vec![aws_version(builtin)],
        None => cx
            .meta()
            .list_policy_versions(cx.account(), &arn)
            .await?
            .map_err(|r| refused(r, subject(&arn)))?,
    };
    // Newest first, so the marker orders by descending version number.
    let (versions, next) = page.apply(versions, |v| version_order_key(&v.version_id));
    let mut x = Xml::new();
    x.open("Versions");
    for v in &versions {
        write_version(&mut x, "member", v, false);
    }
    x.close("Versions").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

/// Sorts `v10` before `v9` (descending) as a string.
fn version_order_key(id: &str) -> String {
    let n: u64 = id.trim_start_matches('v').parse().unwrap_or(0);
    format!("{:020}", u64::MAX - n)
}

pub(crate) async fn delete_policy_version(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    let id = version_param(cx)?;
    cx.authorize("DeletePolicyVersion", &arn)?;
    let subject = Subject {
        version: Some(&id),
        ..subject(&arn)
    };
    cx.meta()
        .delete_policy_version(cx.account(), &arn, &id)
        .await?
        .map_err(|r| refused(r, subject))?;
    Ok(None)
}

pub(crate) async fn set_default_policy_version(cx: &Ctx<'_>) -> Reply {
    let arn = policy_arn_param(cx)?;
    let id = version_param(cx)?;
    cx.authorize("SetDefaultPolicyVersion", &arn)?;
    let subject = Subject {
        version: Some(&id),
        ..subject(&arn)
    };
    cx.meta()
        .set_default_policy_version(cx.account(), &arn, &id, cx.now_ms)
        .await?
        .map_err(|r| refused(r, subject))?;
    Ok(None)
}

fn aws_version(builtin: &AwsManagedPolicy) -> PolicyVersion {
    PolicyVersion {
        version_id: builtin.version_id.to_owned(),
        document: builtin.document.to_owned(),
        is_default: true,
        created_ms: builtin.updated_ms,
    }
}

/// What the `Policy` shape shows, for stored and built-in policies alike.
struct View {
    aws: bool,
    name: String,
    policy_id: String,
    arn: String,
    path: String,
    default_version_id: String,
    attachment_count: u32,
    description: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

impl View {
    fn local(p: &ManagedPolicy) -> View {
        View {
            aws: false,
            name: p.name.clone(),
            policy_id: p.policy_id.clone(),
            arn: p.arn.clone(),
            path: p.path.clone(),
            default_version_id: p.default_version_id.clone(),
            attachment_count: p.attachment_count,
            description: p.description.clone(),
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }

    fn aws(p: &AwsManagedPolicy, attachment_count: u32) -> View {
        View {
            aws: true,
            name: p.name.to_owned(),
            policy_id: p.policy_id.to_owned(),
            arn: p.arn.to_owned(),
            path: "/".to_owned(),
            default_version_id: p.version_id.to_owned(),
            attachment_count,
            description: Some(p.description.to_owned()),
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }
}

/// ListPolicies leaves the description out, as AWS does.
fn write_policy(x: &mut Xml, tag: &str, v: &View, with_description: bool) {
    x.open(tag)
        .text("PolicyName", &v.name)
        .text("PolicyId", &v.policy_id)
        .text("Arn", &v.arn)
        .text("Path", &v.path)
        .text("DefaultVersionId", &v.default_version_id)
        .number("AttachmentCount", u64::from(v.attachment_count))
        .number("PermissionsBoundaryUsageCount", 0)
        .boolean("IsAttachable", true);
    if with_description {
        x.opt("Description", v.description.as_deref());
    }
    x.date("CreateDate", v.created_ms)
        .date("UpdateDate", v.updated_ms)
        .close(tag);
}

fn write_version(x: &mut Xml, tag: &str, v: &PolicyVersion, with_document: bool) {
    x.open(tag);
    if with_document {
        x.text("Document", &url_encode(&v.document));
    }
    x.text("VersionId", &v.version_id)
        .boolean("IsDefaultVersion", v.is_default)
        .date("CreateDate", v.created_ms)
        .close(tag);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_aws_policies_are_valid_identity_policies() {
        for p in aws_managed_policies() {
            assert_eq!(validate_managed_document(p.document), Ok(()), "{}", p.name);
        }
    }

    #[test]
    fn versions_order_newest_first() {
        let mut ids = vec!["v2", "v10", "v9", "v1"];
        ids.sort_by_key(|id| version_order_key(id));
        assert_eq!(ids, ["v10", "v9", "v2", "v1"]);
    }
}
