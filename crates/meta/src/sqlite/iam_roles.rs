//! IAM roles and permissions boundaries for the SQLite adapter. A role's
//! inline policies and attachments live in the shared policy tables under
//! the entity kind `role`; a boundary is one row per user or role.
use super::iam::{PATH_PREFIX, count, entity_name, immediate};
use super::iam_policies::{entity_documents, managed_document};
use super::{account_id, from_json, to_json};
use crate::Result;
use crate::iam::*;
use crate::records::Tag;
use rusqlite::{Connection, OptionalExtension, Row, params};

const ROLE_COLS: &str =
    "account_id, name, role_id, path, arn, trust_policy, description, max_session_s, tags, created_ms";

fn role_from_row(r: &Row) -> rusqlite::Result<(IamRoleRaw, String)> {
    Ok((
        IamRoleRaw {
            account: r.get(0)?,
            name: r.get(1)?,
            role_id: r.get(2)?,
            path: r.get(3)?,
            arn: r.get(4)?,
            trust_policy: r.get(5)?,
            description: r.get(6)?,
            max_session_s: r.get(7)?,
            created_ms: r.get(9)?,
        },
        r.get(8)?,
    ))
}

struct IamRoleRaw {
    account: String,
    name: String,
    role_id: String,
    path: String,
    arn: String,
    trust_policy: String,
    description: Option<String>,
    max_session_s: u32,
    created_ms: i64,
}

fn role_from_raw((raw, tags): (IamRoleRaw, String)) -> Result<IamRole> {
    Ok(IamRole {
        account_id: account_id(raw.account)?,
        name: raw.name,
        role_id: raw.role_id,
        path: raw.path,
        arn: raw.arn,
        trust_policy: raw.trust_policy,
        description: raw.description,
        max_session_s: raw.max_session_s,
        tags: from_json::<Vec<Tag>>(&tags)?,
        created_ms: raw.created_ms,
    })
}

/// The stored spelling of the role's name, if the role exists.
pub(super) fn role_name(c: &Connection, account: &str, name: &str) -> Result<Option<String>> {
    Ok(c.query_row(
        "SELECT name FROM iam_roles WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

/// A customer managed policy ARN of `account` must exist; AWS managed ones always do.
fn policy_exists(c: &Connection, account: &str, arn: &str) -> Result<bool> {
    Ok(managed_document(c, account, arn)?.is_some())
}

pub(super) fn create_role(c: &mut Connection, role: &IamRole, boundary: Option<&str>) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let account = role.account_id.as_str();
    if role_name(&tx, account, &role.name)?.is_some() {
        return Ok(Err(Refused::AlreadyExists));
    }
    if let Some(arn) = boundary
        && !policy_exists(&tx, account, arn)?
    {
        return Ok(Err(Refused::NoSuchPolicy));
    }
    tx.execute(
        &format!("INSERT INTO iam_roles({ROLE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            account,
            role.name,
            role.role_id,
            role.path,
            role.arn,
            role.trust_policy,
            role.description,
            role.max_session_s,
            to_json(&role.tags)?,
            role.created_ms
        ],
    )?;
    if let Some(arn) = boundary {
        set_boundary_row(&tx, account, "role", &role.name, Some(arn))?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn get_role(c: &Connection, account: &str, name: &str) -> Result<Option<IamRole>> {
    c.query_row(
        &format!("SELECT {ROLE_COLS} FROM iam_roles WHERE account_id = ?1 AND name = ?2"),
        params![account, name],
        role_from_row,
    )
    .optional()?
    .map(role_from_raw)
    .transpose()
}

pub(super) fn list_roles(c: &Connection, account: &str, path_prefix: &str) -> Result<Vec<IamRole>> {
    let sql = format!("SELECT {ROLE_COLS} FROM iam_roles WHERE account_id = ?1 AND {PATH_PREFIX} ORDER BY name");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account, path_prefix], role_from_row)?;
    rows.map(|r| role_from_raw(r?)).collect()
}

pub(super) fn update_role(c: &mut Connection, role: &IamRole) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let n = tx.execute(
        "UPDATE iam_roles SET trust_policy = ?3, description = ?4, max_session_s = ?5, tags = ?6 \
         WHERE account_id = ?1 AND name = ?2",
        params![
            role.account_id.as_str(),
            role.name,
            role.trust_policy,
            role.description,
            role.max_session_s,
            to_json(&role.tags)?
        ],
    )?;
    if n == 0 {
        return Ok(Err(Refused::NoSuchRole));
    }
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn delete_role(c: &mut Connection, account: &str, name: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(name) = role_name(&tx, account, name)? else {
        return Ok(Err(Refused::NoSuchRole));
    };
    let blockers = [
        (
            "SELECT count(*) FROM iam_inline_policies WHERE account_id = ?1 AND entity_kind = 'role' AND entity_name = ?2",
            Conflict::InlinePolicies,
        ),
        (
            "SELECT count(*) FROM iam_attachments WHERE account_id = ?1 AND entity_kind = 'role' AND entity_name = ?2",
            Conflict::AttachedPolicies,
        ),
    ];
    for (sql, conflict) in blockers {
        if count(&tx, sql, params![account, name])? > 0 {
            return Ok(Err(Refused::Conflict(conflict)));
        }
    }
    tx.execute(
        "DELETE FROM iam_roles WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )?;
    set_boundary_row(&tx, account, "role", &name, None)?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn role_policies(c: &Connection, account: &str, role: &str) -> Result<Vec<NamedDocument>> {
    let tx = c.unchecked_transaction()?;
    let Some(role) = role_name(&tx, account, role)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    entity_documents(&tx, account, Entity::Role(&role), &mut out)?;
    Ok(out)
}

fn set_boundary_row(c: &Connection, account: &str, kind: &str, name: &str, arn: Option<&str>) -> Result<()> {
    match arn {
        Some(arn) => c.execute(
            "INSERT INTO iam_boundaries(account_id, entity_kind, entity_name, policy_arn) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(account_id, entity_kind, entity_name) DO UPDATE SET policy_arn = excluded.policy_arn",
            params![account, kind, name, arn],
        )?,
        None => c.execute(
            "DELETE FROM iam_boundaries WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3",
            params![account, kind, name],
        )?,
    };
    Ok(())
}

pub(super) fn set_permissions_boundary(
    c: &mut Connection,
    account: &str,
    entity: Entity<'_>,
    arn: Option<&str>,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let name = match entity_name(&tx, account, entity)? {
        Ok(name) => name,
        Err(refused) => return Ok(Err(refused)),
    };
    if let Some(arn) = arn
        && !policy_exists(&tx, account, arn)?
    {
        return Ok(Err(Refused::NoSuchPolicy));
    }
    set_boundary_row(&tx, account, entity.kind(), &name, arn)?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn permissions_boundary(
    c: &Connection,
    account: &str,
    entity: Entity<'_>,
) -> Result<Option<(String, NamedDocument)>> {
    let tx = c.unchecked_transaction()?;
    let arn: Option<String> = tx
        .query_row(
            "SELECT policy_arn FROM iam_boundaries WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3",
            params![account, entity.kind(), entity.name()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(arn) = arn else {
        return Ok(None);
    };
    // DeletePolicy refuses a policy in use as a boundary, so a missing one is
    // corruption or a race: fail closed with a boundary that allows nothing.
    let document = managed_document(&tx, account, &arn)?.unwrap_or_else(|| {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#.to_owned()
    });
    let name = format!("{}/{}/boundary/{arn}", entity.kind(), entity.name());
    Ok(Some((arn, NamedDocument { name, document })))
}
