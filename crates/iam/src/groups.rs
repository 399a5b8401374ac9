//! Groups and membership: CreateGroup, GetGroup (with its users), ListGroups,
//! DeleteGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::params::{self, EXISTING_NAME_MAX, GROUP_NAME_MAX, Page};
use crate::xml::Xml;
use crate::{IamError, ids};
use strongbox_meta::{IamGroup, Refused};

fn group_subject(name: &str) -> Subject<'_> {
    Subject {
        group: Some(name),
        ..Subject::default()
    }
}

fn group_name(cx: &Ctx<'_>) -> Result<String, IamError> {
    let name = cx.params.required("GroupName", "groupName")?;
    params::name("groupName", name, GROUP_NAME_MAX)?;
    Ok(name.to_owned())
}

fn user_name(cx: &Ctx<'_>) -> Result<String, IamError> {
    let name = cx.params.required("UserName", "userName")?;
    params::name("userName", name, EXISTING_NAME_MAX)?;
    Ok(name.to_owned())
}

pub(crate) async fn create_group(cx: &Ctx<'_>) -> Reply {
    let name = group_name(cx)?;
    let path = cx.params.get("Path").unwrap_or("/");
    params::path("path", path)?;
    let arn = cx.group_arn(path, &name);
    cx.authorize("CreateGroup", &arn)?;
    let group = IamGroup {
        account_id: cx.caller.account_id().clone(),
        name: name.clone(),
        group_id: ids::unique_id(ids::GROUP_PREFIX)?,
        path: path.to_owned(),
        arn,
        created_ms: cx.now_ms,
    };
    cx.meta()
        .create_group(&group)
        .await?
        .map_err(|r| refused(r, group_subject(&name)))?;
    let mut x = Xml::new();
    x.group("Group", &group);
    Ok(Some(x.finish()))
}

pub(crate) async fn get_group(cx: &Ctx<'_>) -> Reply {
    let name = group_name(cx)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("GetGroup", &cx.group_resource(&name).await?)?;
    let group = cx
        .meta()
        .get_group(cx.account(), &name)
        .await?
        .ok_or_else(|| refused(Refused::NoSuchGroup, group_subject(&name)))?;
    let members = cx
        .meta()
        .group_members(cx.account(), &name)
        .await?
        .map_err(|r| refused(r, group_subject(&name)))?;
    let (members, next) = page.apply(members, |u| u.name.to_ascii_lowercase());
    let mut x = Xml::new();
    x.group("Group", &group).open("Users");
    for u in &members {
        x.user("member", u);
    }
    x.close("Users").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn list_groups(cx: &Ctx<'_>) -> Reply {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    params::path_prefix("pathPrefix", prefix)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListGroups", &format!("{}*", cx.group_arn(prefix, "")))?;
    let groups = cx.meta().list_groups(cx.account(), prefix).await?;
    groups_page(groups, page)
}

pub(crate) async fn delete_group(cx: &Ctx<'_>) -> Reply {
    let name = group_name(cx)?;
    cx.authorize("DeleteGroup", &cx.group_resource(&name).await?)?;
    cx.meta()
        .delete_group(cx.account(), &name)
        .await?
        .map_err(|r| refused(r, group_subject(&name)))?;
    Ok(None)
}

/// AddUserToGroup (`add`) and RemoveUserFromGroup.
pub(crate) async fn membership(cx: &Ctx<'_>, add: bool) -> Reply {
    let group = group_name(cx)?;
    let user = user_name(cx)?;
    let action = if add { "AddUserToGroup" } else { "RemoveUserFromGroup" };
    cx.authorize(action, &cx.group_resource(&group).await?)?;
    let subject = Subject {
        user: Some(&user),
        group: Some(&group),
        ..Subject::default()
    };
    let outcome = if add {
        cx.meta().add_user_to_group(cx.account(), &group, &user).await?
    } else {
        cx.meta().remove_user_from_group(cx.account(), &group, &user).await?
    };
    outcome.map_err(|r| refused(r, subject))?;
    Ok(None)
}

pub(crate) async fn list_groups_for_user(cx: &Ctx<'_>) -> Reply {
    let user = user_name(cx)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListGroupsForUser", &cx.user_resource(&user).await?)?;
    let groups = cx.meta().groups_for_user(cx.account(), &user).await?.map_err(|r| {
        refused(
            r,
            Subject {
                user: Some(&user),
                ..Subject::default()
            },
        )
    })?;
    groups_page(groups, page)
}

/// One page of `<Groups>` (ListGroups, ListGroupsForUser).
fn groups_page(groups: Vec<IamGroup>, page: Page) -> Reply {
    let (groups, next) = page.apply(groups, |g| g.name.to_ascii_lowercase());
    let mut x = Xml::new();
    x.open("Groups");
    for g in &groups {
        x.group("member", g);
    }
    x.close("Groups").truncation(next.as_deref());
    Ok(Some(x.finish()))
}
