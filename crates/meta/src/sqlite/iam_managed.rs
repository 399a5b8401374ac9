//! Customer managed policies and their versions, for the SQLite adapter.
//! Version numbers come from a per-policy counter, so ids are never reused.
use super::account_id;
use super::iam::{PATH_PREFIX, count, immediate};
use crate::iam::*;
use crate::{MetaError, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

// ---- managed policies ---------------------------------------------------

const POLICY_COLS: &str = "p.account_id, p.name, p.policy_id, p.path, p.arn, p.description, p.default_version, \
     p.created_ms, p.updated_ms, \
     (SELECT count(*) FROM iam_attachments a WHERE a.account_id = p.account_id AND a.policy_arn = p.arn)";

fn policy_from_row(r: &Row) -> rusqlite::Result<(ManagedPolicyRaw, i64)> {
    Ok((
        ManagedPolicyRaw {
            account: r.get(0)?,
            name: r.get(1)?,
            policy_id: r.get(2)?,
            path: r.get(3)?,
            arn: r.get(4)?,
            description: r.get(5)?,
            default_version: r.get(6)?,
            created_ms: r.get(7)?,
            updated_ms: r.get(8)?,
        },
        r.get(9)?,
    ))
}

struct ManagedPolicyRaw {
    account: String,
    name: String,
    policy_id: String,
    path: String,
    arn: String,
    description: Option<String>,
    default_version: i64,
    created_ms: i64,
    updated_ms: i64,
}

fn policy_from_raw((raw, attachments): (ManagedPolicyRaw, i64)) -> Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        account_id: account_id(raw.account)?,
        name: raw.name,
        policy_id: raw.policy_id,
        path: raw.path,
        arn: raw.arn,
        description: raw.description,
        default_version_id: version_id(raw.default_version),
        attachment_count: u32::try_from(attachments).unwrap_or(0),
        created_ms: raw.created_ms,
        updated_ms: raw.updated_ms,
    })
}

fn version_id(n: i64) -> String {
    format!("v{n}")
}

/// `v3` -> 3; anything else names no version.
fn version_number(id: &str) -> Option<i64> {
    let digits = id.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn find_policy(c: &Connection, account: &str, arn: &str) -> Result<Option<ManagedPolicy>> {
    c.query_row(
        &format!("SELECT {POLICY_COLS} FROM iam_policies p WHERE p.account_id = ?1 AND p.arn = ?2"),
        params![account, arn],
        policy_from_row,
    )
    .optional()?
    .map(policy_from_raw)
    .transpose()
}

pub(super) fn create_policy(c: &mut Connection, p: &ManagedPolicy, document: &str) -> Result<Outcome<ManagedPolicy>> {
    let tx = immediate(c)?;
    let taken = count(
        &tx,
        "SELECT count(*) FROM iam_policies WHERE (account_id = ?1 AND name = ?2) OR arn = ?3",
        params![p.account_id.as_str(), p.name, p.arn],
    )? > 0;
    if taken {
        return Ok(Err(Refused::AlreadyExists));
    }
    tx.execute(
        "INSERT INTO iam_policies(account_id, name, policy_id, path, arn, description, default_version, next_version, \
         created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 2, ?7, ?7)",
        params![
            p.account_id.as_str(),
            p.name,
            p.policy_id,
            p.path,
            p.arn,
            p.description,
            p.created_ms
        ],
    )?;
    tx.execute(
        "INSERT INTO iam_policy_versions(policy_id, version, document, created_ms) VALUES (?1, 1, ?2, ?3)",
        params![p.policy_id, document, p.created_ms],
    )?;
    let stored = find_policy(&tx, p.account_id.as_str(), &p.arn)?
        .ok_or_else(|| MetaError::Corrupt("policy vanished inside its transaction".into()))?;
    tx.commit()?;
    Ok(Ok(stored))
}

pub(super) fn get_policy(c: &Connection, account: &str, arn: &str) -> Result<Option<ManagedPolicy>> {
    find_policy(c, account, arn)
}

pub(super) fn list_policies(
    c: &Connection,
    account: &str,
    path_prefix: &str,
    only_attached: bool,
) -> Result<Vec<ManagedPolicy>> {
    let sql =
        format!("SELECT {POLICY_COLS} FROM iam_policies p WHERE p.account_id = ?1 AND {PATH_PREFIX} ORDER BY p.name");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account, path_prefix], policy_from_row)?;
    let all = rows.map(|r| policy_from_raw(r?)).collect::<Result<Vec<_>>>()?;
    Ok(all
        .into_iter()
        .filter(|p| !only_attached || p.attachment_count > 0)
        .collect())
}

pub(super) fn delete_policy(c: &mut Connection, account: &str, arn: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(policy) = find_policy(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let as_boundary = count(
        &tx,
        "SELECT count(*) FROM iam_boundaries WHERE account_id = ?1 AND policy_arn = ?2 COLLATE NOCASE",
        params![account, policy.arn],
    )?;
    if policy.attachment_count > 0 || as_boundary > 0 {
        return Ok(Err(Refused::Conflict(Conflict::PolicyAttached)));
    }
    let versions = count(
        &tx,
        "SELECT count(*) FROM iam_policy_versions WHERE policy_id = ?1",
        params![policy.policy_id],
    )?;
    if versions > 1 {
        return Ok(Err(Refused::Conflict(Conflict::PolicyVersions)));
    }
    tx.execute(
        "DELETE FROM iam_policies WHERE policy_id = ?1",
        params![policy.policy_id],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// The policy's id, default version and next version number.
fn policy_versions_head(c: &Connection, account: &str, arn: &str) -> Result<Option<(String, i64, i64)>> {
    Ok(c.query_row(
        "SELECT policy_id, default_version, next_version FROM iam_policies WHERE account_id = ?1 AND arn = ?2",
        params![account, arn],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?)
}

pub(super) fn create_policy_version(
    c: &mut Connection,
    account: &str,
    arn: &str,
    document: &str,
    set_as_default: bool,
    created_ms: i64,
) -> Result<Outcome<PolicyVersion>> {
    let tx = immediate(c)?;
    let Some((policy_id, _, next)) = policy_versions_head(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let versions = count(
        &tx,
        "SELECT count(*) FROM iam_policy_versions WHERE policy_id = ?1",
        params![policy_id],
    )?;
    if versions >= limits::POLICY_VERSIONS {
        return Ok(Err(Refused::LimitExceeded));
    }
    tx.execute(
        "INSERT INTO iam_policy_versions(policy_id, version, document, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![policy_id, next, document, created_ms],
    )?;
    tx.execute(
        "UPDATE iam_policies SET next_version = ?2 WHERE policy_id = ?1",
        params![policy_id, next + 1],
    )?;
    if set_as_default {
        tx.execute(
            "UPDATE iam_policies SET default_version = ?2, updated_ms = ?3 WHERE policy_id = ?1",
            params![policy_id, next, created_ms],
        )?;
    }
    tx.commit()?;
    Ok(Ok(PolicyVersion {
        version_id: version_id(next),
        document: document.to_owned(),
        is_default: set_as_default,
        created_ms,
    }))
}

fn versions_of(c: &Connection, policy_id: &str, default: i64, only: Option<i64>) -> Result<Vec<PolicyVersion>> {
    let mut stmt = c.prepare_cached(
        "SELECT version, document, created_ms FROM iam_policy_versions \
         WHERE policy_id = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC",
    )?;
    let rows = stmt.query_map(params![policy_id, only], |r| {
        let n: i64 = r.get(0)?;
        Ok(PolicyVersion {
            version_id: version_id(n),
            document: r.get(1)?,
            is_default: n == default,
            created_ms: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn get_policy_version(c: &Connection, account: &str, arn: &str, id: &str) -> Result<Outcome<PolicyVersion>> {
    let tx = c.unchecked_transaction()?;
    let Some((policy_id, default, _)) = policy_versions_head(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let Some(n) = version_number(id) else {
        return Ok(Err(Refused::NoSuchPolicyVersion));
    };
    let found = versions_of(&tx, &policy_id, default, Some(n))?.into_iter().next();
    Ok(found.ok_or(Refused::NoSuchPolicyVersion))
}

pub(super) fn list_policy_versions(c: &Connection, account: &str, arn: &str) -> Result<Outcome<Vec<PolicyVersion>>> {
    let tx = c.unchecked_transaction()?;
    let Some((policy_id, default, _)) = policy_versions_head(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    Ok(Ok(versions_of(&tx, &policy_id, default, None)?))
}

pub(super) fn delete_policy_version(c: &mut Connection, account: &str, arn: &str, id: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some((policy_id, default, _)) = policy_versions_head(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let Some(n) = version_number(id) else {
        return Ok(Err(Refused::NoSuchPolicyVersion));
    };
    if n == default {
        return Ok(Err(Refused::Conflict(Conflict::DefaultVersion)));
    }
    let removed = tx.execute(
        "DELETE FROM iam_policy_versions WHERE policy_id = ?1 AND version = ?2",
        params![policy_id, n],
    )?;
    if removed == 0 {
        return Ok(Err(Refused::NoSuchPolicyVersion));
    }
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn set_default_policy_version(
    c: &mut Connection,
    account: &str,
    arn: &str,
    id: &str,
    updated_ms: i64,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some((policy_id, _, _)) = policy_versions_head(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let exists = match version_number(id) {
        Some(n) => {
            count(
                &tx,
                "SELECT count(*) FROM iam_policy_versions WHERE policy_id = ?1 AND version = ?2",
                params![policy_id, n],
            )? > 0
        }
        None => false,
    };
    let Some(n) = version_number(id).filter(|_| exists) else {
        return Ok(Err(Refused::NoSuchPolicyVersion));
    };
    tx.execute(
        "UPDATE iam_policies SET default_version = ?2, updated_ms = ?3 WHERE policy_id = ?1",
        params![policy_id, n, updated_ms],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}
