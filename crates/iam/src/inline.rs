//! Inline policies of users and groups: Put/Get/List/Delete{User,Group}Policy.
//! Documents are validated as identity policies; AWS's size quotas (2,048
//! characters for a user's inline policies together, 5,120 for a group's)
//! are enforced by the store. GetXPolicy returns the document URL-encoded.
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::params::{self, EXISTING_NAME_MAX, POLICY_NAME_MAX, Page};
use crate::xml::{Xml, url_encode};
use crate::{IamError, managed};
use strongbox_meta::{Entity, limits, policy_chars};

/// Whose inline policies an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    User,
    Group,
    Role,
}

impl Owner {
    /// The owner-name parameter and its field name in AWS's messages.
    pub fn param(self) -> (&'static str, &'static str) {
        match self {
            Owner::User => ("UserName", "userName"),
            Owner::Group => ("GroupName", "groupName"),
            Owner::Role => ("RoleName", "roleName"),
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Owner::User => "User",
            Owner::Group => "Group",
            Owner::Role => "Role",
        }
    }

    pub fn entity(self, name: &str) -> Entity<'_> {
        match self {
            Owner::User => Entity::User(name),
            Owner::Group => Entity::Group(name),
            Owner::Role => Entity::Role(name),
        }
    }

    pub fn subject<'a>(self, name: &'a str) -> Subject<'a> {
        match self {
            Owner::User => Subject {
                user: Some(name),
                ..Subject::default()
            },
            Owner::Group => Subject {
                group: Some(name),
                ..Subject::default()
            },
            Owner::Role => Subject {
                role: Some(name),
                ..Subject::default()
            },
        }
    }

    /// The owner's name parameter, validated.
    pub fn name(self, cx: &Ctx<'_>) -> Result<String, IamError> {
        let (param, field) = self.param();
        let name = cx.params.required(param, field)?;
        params::name(field, name, EXISTING_NAME_MAX)?;
        Ok(name.to_owned())
    }

    /// The owner's ARN for authorization.
    pub async fn resource(self, cx: &Ctx<'_>, name: &str) -> Result<String, IamError> {
        match self {
            Owner::User => cx.user_resource(name).await,
            Owner::Group => cx.group_resource(name).await,
            Owner::Role => cx.role_resource(name).await,
        }
    }
}

fn policy_name(cx: &Ctx<'_>) -> Result<String, IamError> {
    let name = cx.params.required("PolicyName", "policyName")?;
    params::name("policyName", name, POLICY_NAME_MAX)?;
    Ok(name.to_owned())
}

pub(crate) async fn put(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let policy = policy_name(cx)?;
    let document = cx.params.required("PolicyDocument", "policyDocument")?;
    params::document("policyDocument", document)?;
    cx.authorize(&format!("Put{}Policy", owner.noun()), &owner.resource(cx, &name).await?)?;
    let limit = match owner {
        Owner::User => limits::USER_INLINE_CHARS,
        Owner::Group => limits::GROUP_INLINE_CHARS,
        Owner::Role => limits::ROLE_INLINE_CHARS,
    };
    let subject = owner.subject(&name);
    if policy_chars(document) > limit {
        return Err(refused(strongbox_meta::Refused::LimitExceeded, subject));
    }
    managed::validate_document(document)?;
    cx.meta()
        .put_inline_policy(cx.account(), owner.entity(&name), &policy, document)
        .await?
        .map_err(|r| refused(r, subject))?;
    Ok(None)
}

pub(crate) async fn get(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let policy = policy_name(cx)?;
    cx.authorize(&format!("Get{}Policy", owner.noun()), &owner.resource(cx, &name).await?)?;
    let subject = Subject {
        policy_name: Some(&policy),
        ..owner.subject(&name)
    };
    let found = cx
        .meta()
        .get_inline_policy(cx.account(), owner.entity(&name), &policy)
        .await?
        .map_err(|r| refused(r, subject))?;
    let stored_owner = stored_name(cx, owner, &name).await?;
    let (param, _) = owner.param();
    let mut x = Xml::new();
    x.text(param, &stored_owner)
        .text("PolicyName", &found.name)
        .text("PolicyDocument", &url_encode(&found.document));
    Ok(Some(x.finish()))
}

pub(crate) async fn list(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let page = Page::from(&cx.params)?;
    cx.authorize(
        &format!("List{}Policies", owner.noun()),
        &owner.resource(cx, &name).await?,
    )?;
    let names = cx
        .meta()
        .list_inline_policies(cx.account(), owner.entity(&name))
        .await?
        .map_err(|r| refused(r, owner.subject(&name)))?;
    let (names, next) = page.apply(names, |n| n.to_ascii_lowercase());
    let mut x = Xml::new();
    x.open("PolicyNames");
    for n in &names {
        x.text("member", n);
    }
    x.close("PolicyNames").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn delete(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let policy = policy_name(cx)?;
    cx.authorize(
        &format!("Delete{}Policy", owner.noun()),
        &owner.resource(cx, &name).await?,
    )?;
    let subject = Subject {
        policy_name: Some(&policy),
        ..owner.subject(&name)
    };
    cx.meta()
        .delete_inline_policy(cx.account(), owner.entity(&name), &policy)
        .await?
        .map_err(|r| refused(r, subject))?;
    Ok(None)
}

/// The owner's name as stored (names match case-insensitively).
async fn stored_name(cx: &Ctx<'_>, owner: Owner, name: &str) -> Result<String, IamError> {
    let stored = match owner {
        Owner::User => cx.meta().get_user(cx.account(), name).await?.map(|u| u.name),
        Owner::Group => cx.meta().get_group(cx.account(), name).await?.map(|g| g.name),
        Owner::Role => cx.meta().get_role(cx.account(), name).await?.map(|r| r.name),
    };
    Ok(stored.unwrap_or_else(|| name.to_owned()))
}
