//! Alias operations: CreateAlias, ListAliases, DeleteAlias, UpdateAlias. An
//! alias operation needs `kms:<Op>` on the alias (identity policies) and on
//! each key it touches (key policies), as in AWS; `alias/aws/` names are
//! reserved for AWS managed keys.
use crate::api::{Input, date, page};
use crate::api_keys::Ctx;
use crate::audit::Trail;
use crate::authz::{self, Identity};
use crate::ids::{self, KeyRef};
use crate::keys::{self, Scope};
use crate::{Kms, KmsCaller, KmsError};
use serde_json::{Value, json};
use strongbox_meta::{KmsAlias, KmsKeyRecord, KmsKeyState, KmsRefused};

pub(crate) async fn run(
    kms: &Kms,
    caller: &KmsCaller,
    op: &str,
    input: &Input,
    trail: &mut Trail,
) -> Result<Value, KmsError> {
    let identity = Identity::load(kms, caller).await?;
    let ctx = Ctx {
        kms,
        caller,
        identity: &identity,
    };
    match op {
        "CreateAlias" => create(&ctx, input, trail).await,
        "ListAliases" => list(&ctx, input, trail).await,
        "DeleteAlias" => delete(&ctx, input, trail).await,
        "UpdateAlias" => update(&ctx, input, trail).await,
        other => Err(KmsError::UnknownOperation(format!("{other} is not supported."))),
    }
}

/// Checks an alias name a caller may create or change, with AWS's errors.
fn check_name(name: &str) -> Result<(), KmsError> {
    if !name.starts_with("alias/") {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .into(),
        ));
    }
    if name.len() > 256 {
        return Err(KmsError::invalid(
            "aliasName",
            Some(name),
            "Member must have length less than or equal to 256",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
    {
        return Err(KmsError::invalid(
            "aliasName",
            Some(name),
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ));
    }
    if name.contains(':') || name == "alias/" || name.ends_with('/') {
        return Err(KmsError::InvalidAliasName(format!("Alias name {name} is not valid.")));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(format!(
            "{name}: the alias/aws/ prefix is reserved for AWS managed keys."
        )));
    }
    Ok(())
}

fn alias_json(kms: &Kms, a: &KmsAlias) -> Value {
    json!({
        "AliasName": a.name,
        "AliasArn": ids::alias_arn(kms.region(), a.account_id.as_str(), &a.name),
        "TargetKeyId": a.target_key_id,
        "CreationDate": date(a.created_ms),
        "LastUpdatedDate": date(a.updated_ms),
    })
}

impl Ctx<'_> {
    /// Authorizes `action` on the alias `name` by identity policies alone.
    fn authorize_alias(&self, action: &str, name: &str) -> Result<String, KmsError> {
        let arn = ids::alias_arn(self.kms.region(), self.caller.account.as_str(), name);
        let context = authz::context(self.caller, self.kms.region(), None, &Vec::new());
        authz::authorize_account(self.caller, self.identity, action, &arn, &context)?;
        Ok(arn)
    }

    /// The key an alias is to point at: named by key id or key ARN of the
    /// caller's account, not pending deletion, `action` allowed on it.
    async fn target(&self, input: &Input, trail: &mut Trail, action: &str) -> Result<KmsKeyRecord, KmsError> {
        let target = input.required_str("TargetKeyId")?;
        trail.param("targetKeyId", target);
        if KeyRef::parse(target, self.kms.region())?.alias().is_some() {
            return Err(KmsError::Validation("Aliases must refer to keys. Not aliases".into()));
        }
        let found = self
            .kms
            .authorized_key(
                self.caller,
                self.identity,
                target,
                Scope::Key,
                action,
                Vec::new(),
                trail,
            )
            .await?;
        if found.key.doc.state == KmsKeyState::PendingDeletion {
            return Err(keys::pending_deletion(&found.key));
        }
        Ok(found.key)
    }

    /// The stored alias `name` of the caller's account.
    async fn existing(&self, name: &str) -> Result<KmsAlias, KmsError> {
        let account = self.caller.account.as_str();
        self.kms
            .inner
            .meta
            .get_kms_alias(account, name)
            .await?
            .ok_or_else(|| not_found(self.kms, account, name))
    }
}

fn not_found(kms: &Kms, account: &str, name: &str) -> KmsError {
    KmsError::NotFound(format!(
        "Alias {} is not found.",
        ids::alias_arn(kms.region(), account, name)
    ))
}

async fn create(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let name = input.required_str("AliasName")?;
    trail.param("aliasName", name);
    check_name(name)?;
    let alias_arn = ctx.authorize_alias("kms:CreateAlias", name)?;
    let key = ctx.target(input, trail, "kms:CreateAlias").await?;
    let now = ctx.kms.now_ms();
    let alias = KmsAlias {
        account_id: ctx.caller.account.clone(),
        name: name.to_owned(),
        target_key_id: key.key_id.clone(),
        created_ms: now,
        updated_ms: now,
    };
    match ctx.kms.inner.meta.create_kms_alias(&alias).await? {
        Ok(()) => Ok(json!({})),
        Err(KmsRefused::AlreadyExists) => Err(KmsError::AlreadyExists(format!(
            "An alias with the name {alias_arn} already exists"
        ))),
        Err(_) => Err(keys::no_such_key(&key.arn)),
    }
}

async fn list(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let (limit, marker) = input.page(100, 100)?;
    let context = authz::context(ctx.caller, ctx.kms.region(), None, &Vec::new());
    authz::authorize_account(ctx.caller, ctx.identity, "kms:ListAliases", "*", &context)?;
    let target = match input.str("KeyId")? {
        None => None,
        Some(key_id) => {
            trail.param("keyId", key_id);
            let found = ctx.kms.find_key(&ctx.caller.account, key_id, Scope::Key).await?;
            Some(found.key.key_id)
        }
    };
    let meta = &ctx.kms.inner.meta;
    let rows = meta
        .list_kms_aliases(
            ctx.caller.account.as_str(),
            target.as_deref(),
            marker,
            limit.saturating_add(1),
        )
        .await?;
    let truncated = rows.len() > limit;
    let shown: Vec<_> = rows.into_iter().take(limit).collect();
    let next = if truncated {
        shown.last().map(|a| a.name.clone())
    } else {
        None
    };
    let items = shown.iter().map(|a| alias_json(ctx.kms, a)).collect();
    Ok(page("Aliases", items, next))
}

async fn delete(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let name = input.required_str("AliasName")?;
    trail.param("aliasName", name);
    check_name(name)?;
    let alias = ctx.existing(name).await?;
    ctx.authorize_alias("kms:DeleteAlias", name)?;
    if let Some(key) = ctx.kms.key_by_id(&alias.target_key_id).await? {
        trail.resource(&key.arn);
        ctx.kms
            .authorize(ctx.caller, ctx.identity, &key, "kms:DeleteAlias", &Vec::new())?;
    }
    match ctx
        .kms
        .inner
        .meta
        .delete_kms_alias(ctx.caller.account.as_str(), name)
        .await?
    {
        Ok(()) => Ok(json!({})),
        Err(_) => Err(not_found(ctx.kms, ctx.caller.account.as_str(), name)),
    }
}

async fn update(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let name = input.required_str("AliasName")?;
    trail.param("aliasName", name);
    check_name(name)?;
    let alias = ctx.existing(name).await?;
    ctx.authorize_alias("kms:UpdateAlias", name)?;
    if let Some(old) = ctx.kms.key_by_id(&alias.target_key_id).await? {
        trail.resource(&old.arn);
        ctx.kms
            .authorize(ctx.caller, ctx.identity, &old, "kms:UpdateAlias", &Vec::new())?;
    }
    let key = ctx.target(input, trail, "kms:UpdateAlias").await?;
    let account = ctx.caller.account.as_str();
    let meta = &ctx.kms.inner.meta;
    match meta
        .update_kms_alias(account, name, &key.key_id, ctx.kms.now_ms())
        .await?
    {
        Ok(()) => Ok(json!({})),
        Err(KmsRefused::NoSuchAlias) => Err(not_found(ctx.kms, account, name)),
        Err(_) => Err(keys::no_such_key(&key.arn)),
    }
}
