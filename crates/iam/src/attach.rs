//! Managed policies attached to users and groups: Attach/Detach/ListAttached
//! {User,Group}Policies. Customer managed policies of the account and the
//! built-in AWS managed ones can be attached; `iam:PolicyARN` is set for the
//! authorization of attach and detach, as in AWS.
use crate::IamError;
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::inline::Owner;
use crate::params::{self, Page};
use crate::xml::Xml;

fn policy_arn(cx: &Ctx<'_>) -> Result<String, IamError> {
    let arn = cx.params.required("PolicyArn", "policyArn")?;
    params::arn("policyArn", arn)?;
    Ok(arn.to_owned())
}

/// AttachUserPolicy / AttachGroupPolicy (`attach`) and their Detach twins.
pub(crate) async fn attach(cx: &Ctx<'_>, owner: Owner, attach: bool) -> Reply {
    let name = owner.name(cx)?;
    let arn = policy_arn(cx)?;
    let resource = owner.resource(cx, &name).await?;
    let verb = if attach { "Attach" } else { "Detach" };
    cx.authorize_with(
        &format!("{verb}{}Policy", owner.noun()),
        &resource,
        &[("iam:PolicyARN", &arn)],
    )?;
    let subject = Subject {
        policy: Some(&arn),
        ..owner.subject(&name)
    };
    let entity = owner.entity(&name);
    let outcome = if attach {
        cx.meta().attach_policy(cx.account(), entity, &arn).await?
    } else {
        cx.meta().detach_policy(cx.account(), entity, &arn).await?
    };
    outcome.map_err(|r| refused(r, subject))?;
    Ok(None)
}

pub(crate) async fn list(cx: &Ctx<'_>, owner: Owner) -> Reply {
    let name = owner.name(cx)?;
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    params::path_prefix("pathPrefix", prefix)?;
    let page = Page::from(&cx.params)?;
    let resource = owner.resource(cx, &name).await?;
    cx.authorize(&format!("ListAttached{}Policies", owner.noun()), &resource)?;
    let attached = cx
        .meta()
        .attached_policies(cx.account(), owner.entity(&name))
        .await?
        .map_err(|r| refused(r, owner.subject(&name)))?;
    let attached: Vec<_> = attached
        .into_iter()
        .filter(|a| arn_path(&a.arn).starts_with(prefix))
        .collect();
    let (attached, next) = page.apply(attached, |a| {
        format!("{}\u{0}{}", a.name.to_ascii_lowercase(), a.arn.to_ascii_lowercase())
    });
    let mut x = Xml::new();
    x.open("AttachedPolicies");
    for a in &attached {
        x.open("member")
            .text("PolicyName", &a.name)
            .text("PolicyArn", &a.arn)
            .close("member");
    }
    x.close("AttachedPolicies").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

/// The path of a policy ARN: `arn:aws:iam::123:policy/a/b/Name` -> `/a/b/`.
fn arn_path(arn: &str) -> &str {
    let Some((_, rest)) = arn.split_once(":policy") else {
        return "/";
    };
    match rest.rfind('/') {
        Some(end) => rest.get(..=end).unwrap_or("/"),
        None => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::arn_path;

    #[test]
    fn paths_come_from_arns() {
        assert_eq!(arn_path("arn:aws:iam::aws:policy/AdministratorAccess"), "/");
        assert_eq!(arn_path("arn:aws:iam::123456789012:policy/a/b/P"), "/a/b/");
        assert_eq!(arn_path("nonsense"), "/");
    }
}
