//! Users and their access keys: CreateUser, GetUser, ListUsers, DeleteUser,
//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.
//! Without `UserName`, the key actions and GetUser act on the caller itself
//! (the root's own keys for the account root), as in AWS.
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::params::{self, EXISTING_NAME_MAX, Page, USER_NAME_MAX};
use crate::xml::Xml;
use crate::{CREDENTIAL_PURPOSE, IamError, ids};
use strongbox_meta::{AccessKey, Credential, IamUser, Refused};

pub(crate) async fn create_user(cx: &Ctx<'_>) -> Reply {
    let name = cx.params.required("UserName", "userName")?;
    params::name("userName", name, USER_NAME_MAX)?;
    let path = cx.params.get("Path").unwrap_or("/");
    params::path("path", path)?;
    let arn = cx.user_arn(path, name);
    cx.authorize("CreateUser", &arn)?;
    let user = IamUser {
        account_id: cx.caller.account_id().clone(),
        name: name.to_owned(),
        user_id: ids::unique_id(ids::USER_PREFIX)?,
        path: path.to_owned(),
        arn,
        created_ms: cx.now_ms,
    };
    cx.meta().create_user(&user).await?.map_err(|r| {
        refused(
            r,
            Subject {
                user: Some(name),
                ..Subject::default()
            },
        )
    })?;
    let mut x = Xml::new();
    x.user("User", &user);
    Ok(Some(x.finish()))
}

pub(crate) async fn get_user(cx: &Ctx<'_>) -> Reply {
    let Some(name) = cx.user_or_self()? else {
        return get_root(cx).await;
    };
    cx.authorize("GetUser", &cx.user_resource(&name).await?)?;
    let user = existing_user(cx, &name).await?;
    let boundary = cx
        .meta()
        .permissions_boundary(cx.account(), strongbox_meta::Entity::User(&user.name))
        .await?
        .map(|(arn, _)| arn);
    let mut x = Xml::new();
    x.user_with_boundary("User", &user, boundary.as_deref());
    Ok(Some(x.finish()))
}

/// AWS answers GetUser for the root with the account id as UserId and the root ARN.
async fn get_root(cx: &Ctx<'_>) -> Reply {
    let arn = cx.caller.arn();
    cx.authorize("GetUser", &arn)?;
    let account = cx.meta().get_account(cx.account()).await?;
    let mut x = Xml::new();
    x.open("User")
        .text("UserId", cx.account())
        .text("Arn", &arn)
        .date("CreateDate", account.map_or(0, |a| a.created_ms))
        .close("User");
    Ok(Some(x.finish()))
}

pub(crate) async fn list_users(cx: &Ctx<'_>) -> Reply {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    params::path_prefix("pathPrefix", prefix)?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListUsers", &format!("{}*", cx.user_arn(prefix, "")))?;
    let users = cx.meta().list_users(cx.account(), prefix).await?;
    let (users, next) = page.apply(users, |u| u.name.to_ascii_lowercase());
    let mut x = Xml::new();
    x.open("Users");
    for u in &users {
        x.user("member", u);
    }
    x.close("Users").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn delete_user(cx: &Ctx<'_>) -> Reply {
    let name = cx.params.required("UserName", "userName")?;
    params::name("userName", name, EXISTING_NAME_MAX)?;
    cx.authorize("DeleteUser", &cx.user_resource(name).await?)?;
    cx.meta().delete_user(cx.account(), name).await?.map_err(|r| {
        refused(
            r,
            Subject {
                user: Some(name),
                ..Subject::default()
            },
        )
    })?;
    Ok(None)
}

pub(crate) async fn create_access_key(cx: &Ctx<'_>) -> Reply {
    let user = cx.user_or_self()?;
    let resource = key_owner_resource(cx, user.as_deref()).await?;
    cx.authorize("CreateAccessKey", &resource)?;
    let secret = ids::secret_access_key()?;
    let sealed = strongbox_crypto::seal_secret(&cx.svc.root_key, CREDENTIAL_PURPOSE, secret.as_bytes())
        .map_err(IamError::internal)?;
    // `access_key` marks the subject as keys, for the AccessKeysPerUser quota message.
    let subject = Subject {
        user: user.as_deref(),
        access_key: Some(""),
        ..Subject::default()
    };
    // A fresh id colliding with a stored one is astronomically unlikely; retry once anyway.
    for _ in 0..2 {
        let key = AccessKey {
            credential: Credential {
                access_key: ids::access_key_id()?,
                account_id: cx.caller.account_id().clone(),
                secret_sealed: sealed.clone(),
                is_root: user.is_none(),
                active: true,
                user_name: user.clone(),
            },
            created_ms: cx.now_ms,
        };
        match cx.meta().create_access_key(&key).await? {
            Ok(()) => return Ok(Some(access_key_xml(cx, &key, user.as_deref(), &secret).await?)),
            Err(Refused::AlreadyExists) => continue,
            Err(r) => return Err(refused(r, subject)),
        }
    }
    Err(IamError::internal("could not allocate a unique access key id"))
}

async fn access_key_xml(cx: &Ctx<'_>, key: &AccessKey, user: Option<&str>, secret: &str) -> Result<String, IamError> {
    // The stored spelling of the user's name, as AWS returns it.
    let user_name = match user {
        Some(name) => Some(existing_user(cx, name).await?.name),
        None => None,
    };
    let mut x = Xml::new();
    x.open("AccessKey")
        .opt("UserName", user_name.as_deref())
        .text("AccessKeyId", &key.credential.access_key)
        .text("Status", "Active")
        .text("SecretAccessKey", secret)
        .date("CreateDate", key.created_ms)
        .close("AccessKey");
    Ok(x.finish())
}

pub(crate) async fn list_access_keys(cx: &Ctx<'_>) -> Reply {
    let user = cx.user_or_self()?;
    let page = Page::from(&cx.params)?;
    cx.authorize("ListAccessKeys", &key_owner_resource(cx, user.as_deref()).await?)?;
    let user_name = match &user {
        Some(name) => Some(existing_user(cx, name).await?.name),
        None => None,
    };
    let keys = cx.meta().list_credentials(cx.account(), user_name.as_deref()).await?;
    let (keys, next) = page.apply(keys, |k| k.credential.access_key.clone());
    let mut x = Xml::new();
    x.opt("UserName", user_name.as_deref()).open("AccessKeyMetadata");
    for k in &keys {
        x.open("member")
            .opt("UserName", k.credential.user_name.as_deref())
            .text("AccessKeyId", &k.credential.access_key)
            .text("Status", status(k.credential.active))
            .date("CreateDate", k.created_ms)
            .close("member");
    }
    x.close("AccessKeyMetadata").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn update_access_key(cx: &Ctx<'_>) -> Reply {
    let key_id = cx.params.required("AccessKeyId", "accessKeyId")?;
    params::access_key_id("accessKeyId", key_id)?;
    let active = match cx.params.required("Status", "status")? {
        "Active" => true,
        "Inactive" => false,
        other => {
            return Err(IamError::invalid(
                "status",
                Some(other),
                "Member must satisfy enum value set: [Active, Inactive]",
            ));
        }
    };
    let user = cx.user_or_self()?;
    cx.authorize("UpdateAccessKey", &key_owner_resource(cx, user.as_deref()).await?)?;
    owned_key(cx, key_id, user.as_deref()).await?;
    if !cx.meta().set_credential_active(key_id, active).await? {
        return Err(no_such_key(key_id));
    }
    Ok(None)
}

pub(crate) async fn delete_access_key(cx: &Ctx<'_>) -> Reply {
    let key_id = cx.params.required("AccessKeyId", "accessKeyId")?;
    params::access_key_id("accessKeyId", key_id)?;
    let user = cx.user_or_self()?;
    cx.authorize("DeleteAccessKey", &key_owner_resource(cx, user.as_deref()).await?)?;
    owned_key(cx, key_id, user.as_deref()).await?;
    if !cx.meta().delete_credential(key_id).await? {
        return Err(no_such_key(key_id));
    }
    Ok(None)
}

/// The key must belong to this account and to `user` (`None`: the root).
async fn owned_key(cx: &Ctx<'_>, key_id: &str, user: Option<&str>) -> Result<(), IamError> {
    if let Some(name) = user {
        existing_user(cx, name).await?;
    }
    let cred = cx.meta().get_credential(key_id).await?;
    let owned = cred.is_some_and(|c| {
        c.account_id.as_str() == cx.account()
            && match (c.user_name.as_deref(), user) {
                (Some(owner), Some(name)) => owner.eq_ignore_ascii_case(name),
                (None, None) => true,
                _ => false,
            }
    });
    if owned { Ok(()) } else { Err(no_such_key(key_id)) }
}

fn no_such_key(key_id: &str) -> IamError {
    refused(
        Refused::NoSuchAccessKey,
        Subject {
            access_key: Some(key_id),
            ..Subject::default()
        },
    )
}

/// The resource of an access-key action: the user, or the root for its own keys.
async fn key_owner_resource(cx: &Ctx<'_>, user: Option<&str>) -> Result<String, IamError> {
    match user {
        Some(name) => cx.user_resource(name).await,
        None => Ok(cx.caller.arn()),
    }
}

pub(crate) async fn existing_user(cx: &Ctx<'_>, name: &str) -> Result<IamUser, IamError> {
    cx.meta().get_user(cx.account(), name).await?.ok_or_else(|| {
        refused(
            Refused::NoSuchUser,
            Subject {
                user: Some(name),
                ..Subject::default()
            },
        )
    })
}

fn status(active: bool) -> &'static str {
    if active { "Active" } else { "Inactive" }
}
