//! Key management operations: CreateKey, DescribeKey, ListKeys,
//! UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion,
//! CancelKeyDeletion; the key's policy, rotation and tags are in `api_manage`.
use crate::api::{Input, date, in_range, page};
use crate::audit::Trail;
use crate::authz::{self, Extra, Identity};
use crate::keys::{self, DAY_MS, Scope};
use crate::{Kms, KmsCaller, KmsError, api_manage, policies};
use serde_json::{Value, json};
use strongbox_meta::{KmsKeyManager, KmsKeyRecord, KmsKeyState};
use strongbox_policy::{Policy, PolicyKind};

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
        "CreateKey" => create_key(&ctx, input, trail).await,
        "DescribeKey" => describe_key(&ctx, input, trail).await,
        "ListKeys" => list_keys(&ctx, input).await,
        "UpdateKeyDescription" => update_description(&ctx, input, trail).await,
        "EnableKey" => set_enabled(&ctx, input, trail, true).await,
        "DisableKey" => set_enabled(&ctx, input, trail, false).await,
        "ScheduleKeyDeletion" => schedule_deletion(&ctx, input, trail).await,
        "CancelKeyDeletion" => cancel_deletion(&ctx, input, trail).await,
        _ => api_manage::run(&ctx, op, input, trail).await,
    }
}

/// What every management operation works with.
pub(crate) struct Ctx<'a> {
    pub kms: &'a Kms,
    pub caller: &'a KmsCaller,
    pub identity: &'a Identity,
}

impl Ctx<'_> {
    /// The key `KeyId` names, after authorizing `action` on it (any state).
    pub async fn key(
        &self,
        input: &Input,
        trail: &mut Trail,
        scope: Scope,
        action: &str,
        extra: Extra,
    ) -> Result<KmsKeyRecord, KmsError> {
        let key_id = input.required_str("KeyId")?;
        trail.param("keyId", key_id);
        let found = self
            .kms
            .authorized_key(self.caller, self.identity, key_id, scope, action, extra, trail)
            .await?;
        Ok(found.key)
    }

    /// Checks a new key policy: valid, and (unless the caller bypasses the
    /// check) still letting the caller change it later, as AWS does.
    pub fn check_policy(&self, key: &KmsKeyRecord, policy: &str, bypass: bool) -> Result<(), KmsError> {
        Policy::parse(policy, &PolicyKind::Key).map_err(|e| KmsError::MalformedPolicyDocument(e.to_string()))?;
        if bypass {
            return Ok(());
        }
        let mut proposed = key.clone();
        proposed.doc.policy = policy.to_owned();
        let context = authz::context(self.caller, self.kms.region(), Some(&proposed), &Vec::new());
        match authz::authorize_key(self.caller, self.identity, &proposed, "kms:PutKeyPolicy", &context) {
            Ok(()) => Ok(()),
            Err(KmsError::AccessDenied(_)) => Err(KmsError::MalformedPolicyDocument(
                "The new key policy will not allow you to update the key policy in the future.".into(),
            )),
            Err(e) => Err(e),
        }
    }
}

/// `KeyMetadata` as CreateKey and DescribeKey return it.
pub(crate) fn key_metadata(key: &KmsKeyRecord) -> Value {
    let d = &key.doc;
    let mut m = json!({
        "AWSAccountId": key.account_id.as_str(),
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": date(key.created_ms),
        "Enabled": d.state == KmsKeyState::Enabled,
        "Description": d.description,
        "KeyUsage": d.key_usage,
        "KeyState": d.state.as_str(),
        "Origin": d.origin,
        "KeyManager": d.manager.as_str(),
        "CustomerMasterKeySpec": d.key_spec,
        "KeySpec": d.key_spec,
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": false,
    });
    if let (Some(deletion), Some(map)) = (d.deletion_ms, m.as_object_mut()) {
        map.insert("DeletionDate".into(), date(deletion));
    }
    m
}

pub(crate) const KEY_SPECS: [&str; 17] = [
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
];
pub(crate) const KEY_USAGES: [&str; 4] = ["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"];
pub(crate) const ORIGINS: [&str; 4] = ["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];

/// An enum parameter: AWS's ValidationException for an unknown value,
/// UnsupportedOperationException for a known one other than `supported`.
pub(crate) fn only(input: &Input, name: &str, values: &[&str], supported: &str) -> Result<(), KmsError> {
    let Some(value) = input.str(name)? else {
        return Ok(());
    };
    if !values.contains(&value) {
        return Err(KmsError::invalid(
            &crate::api::field(name),
            Some(value),
            &format!("Member must satisfy enum value set: [{}]", values.join(", ")),
        ));
    }
    if value != supported {
        return Err(KmsError::UnsupportedOperation(format!(
            "{name} {value} is not supported by this KMS; it supports {supported} only."
        )));
    }
    Ok(())
}

pub(crate) fn validate_tags(tags: &[(String, String)]) -> Result<Vec<strongbox_meta::Tag>, KmsError> {
    for (i, (k, v)) in tags.iter().enumerate() {
        let n = i + 1;
        if k.is_empty() || k.chars().count() > 128 {
            return Err(KmsError::invalid(
                &format!("tags.{n}.member.tagKey"),
                Some(k),
                "Member must have length less than or equal to 128",
            ));
        }
        if v.chars().count() > 256 {
            return Err(KmsError::invalid(
                &format!("tags.{n}.member.tagValue"),
                Some(v),
                "Member must have length less than or equal to 256",
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(KmsError::Tag("Tags beginning with aws: are reserved".into()));
        }
    }
    Ok(tags
        .iter()
        .map(|(key, value)| strongbox_meta::Tag {
            key: key.clone(),
            value: value.clone(),
        })
        .collect())
}

async fn create_key(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let description = input.str("Description")?.unwrap_or_default();
    if description.chars().count() > 8192 {
        return Err(KmsError::invalid(
            "description",
            Some(description),
            "Member must have length less than or equal to 8192",
        ));
    }
    only(input, "KeyUsage", &KEY_USAGES, "ENCRYPT_DECRYPT")?;
    only(input, "KeySpec", &KEY_SPECS, "SYMMETRIC_DEFAULT")?;
    only(input, "CustomerMasterKeySpec", &KEY_SPECS, "SYMMETRIC_DEFAULT")?;
    only(input, "Origin", &ORIGINS, "AWS_KMS")?;
    if input.str("CustomKeyStoreId")?.is_some() || input.bool("MultiRegion")? == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Custom key stores and multi-Region keys are not supported by this KMS.".into(),
        ));
    }
    let tags = validate_tags(&input.tags("Tags")?)?;
    trail.param("description", description);
    trail.param("keyUsage", "ENCRYPT_DECRYPT");
    trail.param("keySpec", "SYMMETRIC_DEFAULT");
    trail.param("origin", "AWS_KMS");
    let account = &ctx.caller.account;
    let context = authz::context(ctx.caller, ctx.kms.region(), None, &Vec::new());
    authz::authorize_account(ctx.caller, ctx.identity, "kms:CreateKey", "*", &context)?;
    let given = input.str("Policy")?;
    let policy = given.map_or_else(|| policies::default_key_policy(account.as_str()), str::to_owned);
    let key = ctx
        .kms
        .new_key(account, description, policy.clone(), tags, KmsKeyManager::Customer)?;
    if given.is_some() {
        let bypass = input.bool("BypassPolicyLockoutSafetyCheck")?.unwrap_or(false);
        trail.param("bypassPolicyLockoutSafetyCheck", bypass);
        ctx.check_policy(&key, &policy, bypass)?;
    }
    match ctx.kms.inner.meta.create_kms_key(&key, None).await? {
        Ok(()) => {}
        Err(r) => return Err(KmsError::internal(format!("storing a new key: {r:?}"))),
    }
    trail.resource(&key.arn);
    let metadata = key_metadata(&key);
    trail.response_elements = Some(json!({"keyMetadata": {
        "keyId": key.key_id, "arn": key.arn, "keyState": "Enabled", "keyManager": key.doc.manager.as_str(),
    }}));
    Ok(json!({ "KeyMetadata": metadata }))
}

async fn describe_key(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let key = ctx
        .key(input, trail, Scope::Crypto, "kms:DescribeKey", Vec::new())
        .await?;
    Ok(json!({ "KeyMetadata": key_metadata(&key) }))
}

async fn list_keys(ctx: &Ctx<'_>, input: &Input) -> Result<Value, KmsError> {
    let (limit, marker) = input.page(100, 1000)?;
    if marker.is_some_and(|m| crate::ids::parse_uuid(m).is_none()) {
        return Err(KmsError::InvalidMarker("Invalid marker".into()));
    }
    let context = authz::context(ctx.caller, ctx.kms.region(), None, &Vec::new());
    authz::authorize_account(ctx.caller, ctx.identity, "kms:ListKeys", "*", &context)?;
    let meta = &ctx.kms.inner.meta;
    let rows = meta
        .list_kms_keys(ctx.caller.account.as_str(), marker, limit.saturating_add(1))
        .await?;
    let truncated = rows.len() > limit;
    let mut items = Vec::new();
    let mut last = None;
    for key in rows.into_iter().take(limit) {
        last = Some(key.key_id.clone());
        // Keys past their deletion date are deleted on the way.
        match ctx.kms.maintain(key).await {
            Ok(key) => items.push(json!({"KeyId": key.key_id, "KeyArn": key.arn})),
            Err(KmsError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(page("Keys", items, if truncated { last } else { None }))
}

async fn update_description(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let description = input.required_str("Description")?.to_owned();
    trail.param("description", description.as_str());
    let key = ctx
        .key(input, trail, Scope::Key, "kms:UpdateKeyDescription", Vec::new())
        .await?;
    if key.doc.state == KmsKeyState::PendingDeletion {
        return Err(keys::pending_deletion(&key));
    }
    ctx.kms
        .update(key, |k| {
            k.doc.description = description.clone();
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn set_enabled(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail, enable: bool) -> Result<Value, KmsError> {
    let action = if enable { "kms:EnableKey" } else { "kms:DisableKey" };
    let key = ctx.key(input, trail, Scope::Key, action, Vec::new()).await?;
    let state = if enable {
        KmsKeyState::Enabled
    } else {
        KmsKeyState::Disabled
    };
    ctx.kms
        .update(key, |k| {
            if k.doc.state == KmsKeyState::PendingDeletion {
                return Err(keys::pending_deletion(k));
            }
            k.doc.state = state;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn schedule_deletion(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let days = match input.int("PendingWindowInDays")? {
        Some(d) => in_range("PendingWindowInDays", d, 7, 30)?,
        None => 30,
    };
    trail.param("pendingWindowInDays", days);
    let extra = vec![(
        "kms:ScheduleKeyDeletionPendingWindowInDays".to_owned(),
        vec![days.to_string()],
    )];
    let key = ctx
        .key(input, trail, Scope::Key, "kms:ScheduleKeyDeletion", extra)
        .await?;
    let deletion = ctx.kms.now_ms() + days * DAY_MS;
    let days_u32 = u32::try_from(days).unwrap_or(30);
    let key = ctx
        .kms
        .update(key, |k| {
            if k.doc.state == KmsKeyState::PendingDeletion {
                return Err(keys::pending_deletion(k));
            }
            k.doc.state = KmsKeyState::PendingDeletion;
            k.doc.deletion_ms = Some(deletion);
            k.doc.pending_window_days = Some(days_u32);
            Ok(())
        })
        .await?;
    trail.response_elements = Some(json!({"keyId": key.arn, "keyState": "PendingDeletion"}));
    Ok(json!({
        "KeyId": key.arn,
        "DeletionDate": date(deletion),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

async fn cancel_deletion(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let key = ctx
        .key(input, trail, Scope::Key, "kms:CancelKeyDeletion", Vec::new())
        .await?;
    let key = ctx
        .kms
        .update(key, |k| {
            if k.doc.state != KmsKeyState::PendingDeletion {
                return Err(KmsError::InvalidState(format!("{} is not pending deletion.", k.arn)));
            }
            k.doc.state = KmsKeyState::Disabled;
            k.doc.deletion_ms = None;
            k.doc.pending_window_days = None;
            Ok(())
        })
        .await?;
    Ok(json!({ "KeyId": key.arn }))
}
