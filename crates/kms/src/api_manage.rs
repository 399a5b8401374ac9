//! A key's rotation (EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations), policy
//! (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies) and tags (TagResource,
//! UntagResource, ListResourceTags).
use crate::KmsError;
use crate::api::{Input, date, in_range, page};
use crate::api_keys::{Ctx, validate_tags};
use crate::audit::Trail;
use crate::keys::{self, DAY_MS, Scope};
use serde_json::{Value, json};
use strongbox_meta::{KmsKeyState, KmsRotationType};

/// On-demand rotations AWS allows per key.
const MAX_ON_DEMAND_ROTATIONS: usize = 10;
/// Tags per key (AWS's quota).
const MAX_TAGS: usize = 50;

pub(crate) async fn run(ctx: &Ctx<'_>, op: &str, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    match op {
        "EnableKeyRotation" => enable_rotation(ctx, input, trail).await,
        "DisableKeyRotation" => disable_rotation(ctx, input, trail).await,
        "GetKeyRotationStatus" => rotation_status(ctx, input, trail).await,
        "RotateKeyOnDemand" => rotate_now(ctx, input, trail).await,
        "ListKeyRotations" => list_rotations(ctx, input, trail).await,
        "GetKeyPolicy" => get_policy(ctx, input, trail).await,
        "PutKeyPolicy" => put_policy(ctx, input, trail).await,
        "ListKeyPolicies" => {
            ctx.key(input, trail, Scope::Key, "kms:ListKeyPolicies", Vec::new())
                .await?;
            Ok(json!({"PolicyNames": ["default"], "Truncated": false}))
        }
        "TagResource" => tag(ctx, input, trail).await,
        "UntagResource" => untag(ctx, input, trail).await,
        "ListResourceTags" => list_tags(ctx, input, trail).await,
        other => Err(KmsError::UnknownOperation(format!("{other} is not supported."))),
    }
}

async fn enable_rotation(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let period = match input.int("RotationPeriodInDays")? {
        Some(d) => in_range("RotationPeriodInDays", d, 90, 2560)?,
        None => i64::from(keys::DEFAULT_ROTATION_DAYS),
    };
    trail.param("rotationPeriodInDays", period);
    let extra = vec![("kms:RotationPeriodInDays".to_owned(), vec![period.to_string()])];
    let key = ctx
        .key(input, trail, Scope::Key, "kms:EnableKeyRotation", extra)
        .await?;
    keys::require_enabled(&key)?;
    let now = ctx.kms.now_ms();
    let period_u32 = u32::try_from(period).unwrap_or(keys::DEFAULT_ROTATION_DAYS);
    ctx.kms
        .update(key, |k| {
            k.doc.rotation_enabled = true;
            k.doc.rotation_period_days = period_u32;
            k.doc.next_rotation_ms = Some(now + period * DAY_MS);
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn disable_rotation(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let key = ctx
        .key(input, trail, Scope::Key, "kms:DisableKeyRotation", Vec::new())
        .await?;
    keys::require_enabled(&key)?;
    ctx.kms
        .update(key, |k| {
            k.doc.rotation_enabled = false;
            k.doc.next_rotation_ms = None;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn rotation_status(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let key = ctx
        .key(
            input,
            trail,
            Scope::KeyAnyAccount,
            "kms:GetKeyRotationStatus",
            Vec::new(),
        )
        .await?;
    let mut out = json!({"KeyRotationEnabled": key.doc.rotation_enabled, "KeyId": key.arn});
    if let (true, Some(map)) = (key.doc.rotation_enabled, out.as_object_mut()) {
        map.insert("RotationPeriodInDays".into(), key.doc.rotation_period_days.into());
        if let Some(next) = key.doc.next_rotation_ms {
            map.insert("NextRotationDate".into(), date(next));
        }
    }
    Ok(out)
}

async fn rotate_now(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let key = ctx
        .key(input, trail, Scope::Key, "kms:RotateKeyOnDemand", Vec::new())
        .await?;
    keys::require_enabled(&key)?;
    let now = ctx.kms.now_ms();
    let key = ctx
        .kms
        .update(key, |k| {
            let done = k
                .doc
                .materials
                .iter()
                .filter(|m| m.rotation == KmsRotationType::OnDemand)
                .count();
            if done >= MAX_ON_DEMAND_ROTATIONS {
                return Err(KmsError::LimitExceeded(format!(
                    "The on-demand rotation limit has been reached for {}: a key can be rotated on demand at most {MAX_ON_DEMAND_ROTATIONS} times.",
                    k.arn
                )));
            }
            // On-demand rotation does not move the automatic schedule.
            let next = k.doc.next_rotation_ms;
            ctx.kms.add_material(k, KmsRotationType::OnDemand, now)?;
            k.doc.next_rotation_ms = next;
            Ok(())
        })
        .await?;
    Ok(json!({ "KeyId": key.arn }))
}

async fn list_rotations(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let (limit, marker) = input.page(100, 1000)?;
    let after = match marker {
        None => 0,
        Some(m) => m
            .parse::<u32>()
            .map_err(|_| KmsError::InvalidMarker("Invalid marker".into()))?,
    };
    let key = ctx
        .key(input, trail, Scope::Key, "kms:ListKeyRotations", Vec::new())
        .await?;
    let rotations: Vec<_> = key
        .doc
        .materials
        .iter()
        .filter(|m| m.rotation != KmsRotationType::Initial && m.version > after)
        .collect();
    let truncated = rotations.len() > limit;
    let shown: Vec<_> = rotations.into_iter().take(limit).collect();
    let next = if truncated {
        shown.last().map(|m| m.version.to_string())
    } else {
        None
    };
    let items = shown
        .iter()
        .map(|m| {
            let kind = if m.rotation == KmsRotationType::OnDemand {
                "ON_DEMAND"
            } else {
                "AUTOMATIC"
            };
            json!({"KeyId": key.arn, "RotationDate": date(m.created_ms), "RotationType": kind})
        })
        .collect();
    Ok(page("Rotations", items, next))
}

fn policy_name(input: &Input, trail: &mut Trail) -> Result<String, KmsError> {
    let name = input.str("PolicyName")?.unwrap_or("default").to_owned();
    trail.param("policyName", name.as_str());
    Ok(name)
}

async fn get_policy(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let name = policy_name(input, trail)?;
    let key = ctx
        .key(input, trail, Scope::Key, "kms:GetKeyPolicy", Vec::new())
        .await?;
    if name != "default" {
        return Err(KmsError::NotFound("No such policy exists".into()));
    }
    Ok(json!({"Policy": key.doc.policy, "PolicyName": "default"}))
}

async fn put_policy(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let name = policy_name(input, trail)?;
    let policy = input.required_str("Policy")?.to_owned();
    let bypass = input.bool("BypassPolicyLockoutSafetyCheck")?.unwrap_or(false);
    trail.param("policy", policy.as_str());
    trail.param("bypassPolicyLockoutSafetyCheck", bypass);
    let key = ctx
        .key(input, trail, Scope::Key, "kms:PutKeyPolicy", Vec::new())
        .await?;
    if name != "default" {
        return Err(KmsError::UnsupportedOperation(
            "Only default policy is supported".into(),
        ));
    }
    if key.doc.state == KmsKeyState::PendingDeletion {
        return Err(keys::pending_deletion(&key));
    }
    ctx.check_policy(&key, &policy, bypass)?;
    ctx.kms
        .update(key, |k| {
            k.doc.policy = policy.clone();
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn tag(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let tags = validate_tags(&input.tags("Tags")?)?;
    let shown: Vec<Value> = tags
        .iter()
        .map(|t| json!({"tagKey": t.key, "tagValue": t.value}))
        .collect();
    trail.param("tags", shown);
    let key = ctx.key(input, trail, Scope::Key, "kms:TagResource", Vec::new()).await?;
    if key.doc.state == KmsKeyState::PendingDeletion {
        return Err(keys::pending_deletion(&key));
    }
    ctx.kms
        .update(key, |k| {
            for t in &tags {
                match k.doc.tags.iter_mut().find(|e| e.key == t.key) {
                    Some(existing) => existing.value = t.value.clone(),
                    None => k.doc.tags.push(t.clone()),
                }
            }
            if k.doc.tags.len() > MAX_TAGS {
                return Err(KmsError::Tag(format!("A KMS key can have at most {MAX_TAGS} tags.")));
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn untag(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let names = input.strings("TagKeys")?;
    trail.param("tagKeys", names.clone());
    let key = ctx
        .key(input, trail, Scope::Key, "kms:UntagResource", Vec::new())
        .await?;
    if key.doc.state == KmsKeyState::PendingDeletion {
        return Err(keys::pending_deletion(&key));
    }
    ctx.kms
        .update(key, |k| {
            k.doc.tags.retain(|t| !names.contains(&t.key));
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn list_tags(ctx: &Ctx<'_>, input: &Input, trail: &mut Trail) -> Result<Value, KmsError> {
    let (limit, marker) = input.page(50, 50)?;
    let key = ctx
        .key(input, trail, Scope::Key, "kms:ListResourceTags", Vec::new())
        .await?;
    let mut tags = key.doc.tags.clone();
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    let rest: Vec<_> = tags
        .into_iter()
        .filter(|t| marker.is_none_or(|m| t.key.as_str() > m))
        .collect();
    let truncated = rest.len() > limit;
    let shown: Vec<_> = rest.into_iter().take(limit).collect();
    let next = if truncated {
        shown.last().map(|t| t.key.clone())
    } else {
        None
    };
    let items = shown
        .iter()
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
        .collect();
    Ok(page("Tags", items, next))
}
