//! Bucket and account settings documents (schema v7): each change is a
//! read-modify-write in one `BEGIN IMMEDIATE` transaction, and
//! PutBucketPolicy's BlockPublicPolicy guard reads both documents inside the
//! policy write.
use super::{from_json, to_json};
use crate::records::{AccountSettings, BucketSettings};
use crate::{BucketUpdate, Result, SettingsEdit};
use rusqlite::{Connection, OptionalExtension, params};

/// An account's settings as stored (the default when it never set any).
pub(super) fn account_settings_in(c: &Connection, account: &str) -> Result<AccountSettings> {
    c.query_row(
        "SELECT doc FROM account_settings WHERE account_id = ?1",
        params![account],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|t| from_json::<AccountSettings>(&t))
    .transpose()
    .map(Option::unwrap_or_default)
}

/// A bucket's owner and settings, `None` when there is no such bucket.
fn bucket_settings_in(c: &Connection, name: &str) -> Result<Option<(String, BucketSettings)>> {
    let row: Option<(String, Option<String>)> = c
        .query_row(
            "SELECT owner, settings FROM buckets WHERE name = ?1",
            params![name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(owner, doc)| {
        let settings = doc.map(|t| from_json::<BucketSettings>(&t)).transpose()?;
        Ok((owner, settings.unwrap_or_default()))
    })
    .transpose()
}

pub(super) fn set_bucket_policy_tx(
    c: &mut Connection,
    name: &str,
    policy: Option<&str>,
    public: bool,
) -> Result<BucketUpdate> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some((owner, settings)) = bucket_settings_in(&tx, name)? else {
        return Ok(BucketUpdate::NotFound);
    };
    if public {
        let account = account_settings_in(&tx, &owner)?.public_access_block;
        let effective = settings
            .public_access_block
            .unwrap_or_default()
            .most_restrictive(account.unwrap_or_default());
        if effective.block_public_policy {
            return Ok(BucketUpdate::Refused);
        }
    }
    tx.execute("UPDATE buckets SET policy = ?2 WHERE name = ?1", params![name, policy])?;
    tx.commit()?;
    Ok(BucketUpdate::Done)
}

pub(super) fn update_bucket_settings_tx(
    c: &mut Connection,
    name: &str,
    edit: &SettingsEdit<BucketSettings>,
) -> Result<BucketUpdate> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some((_, mut settings)) = bucket_settings_in(&tx, name)? else {
        return Ok(BucketUpdate::NotFound);
    };
    if !edit(&mut settings) {
        return Ok(BucketUpdate::Refused);
    }
    tx.execute(
        "UPDATE buckets SET settings = ?2 WHERE name = ?1",
        params![name, to_json(&settings)?],
    )?;
    tx.commit()?;
    Ok(BucketUpdate::Done)
}

pub(super) fn update_account_settings_tx(
    c: &mut Connection,
    account: &str,
    edit: &SettingsEdit<AccountSettings>,
) -> Result<BucketUpdate> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let exists = tx
        .query_row("SELECT 1 FROM accounts WHERE id = ?1", params![account], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        return Ok(BucketUpdate::NotFound);
    }
    let mut settings = account_settings_in(&tx, account)?;
    if !edit(&mut settings) {
        return Ok(BucketUpdate::Refused);
    }
    tx.execute(
        "INSERT INTO account_settings(account_id, doc) VALUES (?1, ?2) \
         ON CONFLICT(account_id) DO UPDATE SET doc = excluded.doc",
        params![account, to_json(&settings)?],
    )?;
    tx.commit()?;
    Ok(BucketUpdate::Done)
}
