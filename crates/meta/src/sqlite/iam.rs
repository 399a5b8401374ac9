//! The IAM tables of the SQLite adapter, and its users, access keys and
//! groups: one function per [`IamStore`] method, each running on the
//! connection (and, for writes, inside the transaction) the adapter hands it;
//! policies are in the sibling modules. Name columns are `COLLATE NOCASE`, so
//! equality, uniqueness and ordering are ASCII case-insensitive as in AWS.
//!
//! [`IamStore`]: crate::IamStore
use super::account_id;
use crate::Result;
use crate::iam::*;
use crate::records::Credential;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS iam_users(
  account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL COLLATE NOCASE,
  user_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, arn TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(account_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_groups(
  account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL COLLATE NOCASE,
  group_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, arn TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(account_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_group_members(
  account_id TEXT NOT NULL, group_name TEXT NOT NULL COLLATE NOCASE, user_name TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY(account_id, group_name, user_name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS iam_group_members_by_user ON iam_group_members(account_id, user_name);
CREATE TABLE IF NOT EXISTS iam_inline_policies(
  account_id TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_name TEXT NOT NULL COLLATE NOCASE,
  policy_name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,
  PRIMARY KEY(account_id, entity_kind, entity_name, policy_name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_policies(
  account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL COLLATE NOCASE,
  policy_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, arn TEXT NOT NULL COLLATE NOCASE UNIQUE,
  description TEXT, default_version INTEGER NOT NULL, next_version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY(account_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_policy_versions(
  policy_id TEXT NOT NULL REFERENCES iam_policies(policy_id) ON DELETE CASCADE, version INTEGER NOT NULL,
  document TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(policy_id, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_attachments(
  account_id TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_name TEXT NOT NULL COLLATE NOCASE,
  policy_arn TEXT NOT NULL COLLATE NOCASE, policy_name TEXT NOT NULL,
  PRIMARY KEY(account_id, entity_kind, entity_name, policy_arn)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS iam_attachments_by_policy ON iam_attachments(account_id, policy_arn);
CREATE TABLE IF NOT EXISTS iam_roles(
  account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL COLLATE NOCASE,
  role_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, arn TEXT NOT NULL, trust_policy TEXT NOT NULL,
  description TEXT, max_session_s INTEGER NOT NULL, tags TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(account_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_boundaries(
  account_id TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_name TEXT NOT NULL COLLATE NOCASE,
  policy_arn TEXT NOT NULL,
  PRIMARY KEY(account_id, entity_kind, entity_name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_mfa_devices(
  serial TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
  path TEXT NOT NULL, seed_sealed BLOB NOT NULL, owner_kind TEXT, owner_user TEXT COLLATE NOCASE,
  enabled_ms INTEGER, created_ms INTEGER NOT NULL, last_step INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0, failures_since_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS iam_mfa_devices_by_owner ON iam_mfa_devices(account_id, owner_user);
";

pub(super) fn immediate(c: &mut Connection) -> Result<Transaction<'_>> {
    Ok(c.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

pub(super) fn count(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
    let n: i64 = c.query_row(sql, p, |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// `path` starts with parameter 2 (substr/length count characters on TEXT).
pub(super) const PATH_PREFIX: &str = "substr(path, 1, length(?2)) = ?2";

// ---- users --------------------------------------------------------------

const USER_COLS: &str = "account_id, name, user_id, path, arn, created_ms";

type RawEntity = (String, String, String, String, String, i64);

fn raw_entity(r: &Row) -> rusqlite::Result<RawEntity> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn user_from_raw((account, name, user_id, path, arn, created_ms): RawEntity) -> Result<IamUser> {
    Ok(IamUser {
        account_id: account_id(account)?,
        name,
        user_id,
        path,
        arn,
        created_ms,
    })
}

fn group_from_raw((account, name, group_id, path, arn, created_ms): RawEntity) -> Result<IamGroup> {
    Ok(IamGroup {
        account_id: account_id(account)?,
        name,
        group_id,
        path,
        arn,
        created_ms,
    })
}

/// The stored spelling of the user's name, if the user exists.
pub(super) fn user_name(c: &Connection, account: &str, name: &str) -> Result<Option<String>> {
    Ok(c.query_row(
        "SELECT name FROM iam_users WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

fn group_name(c: &Connection, account: &str, name: &str) -> Result<Option<String>> {
    Ok(c.query_row(
        "SELECT name FROM iam_groups WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

pub(super) fn entity_name(c: &Connection, account: &str, entity: Entity<'_>) -> Result<Outcome<String>> {
    let found = match entity {
        Entity::User(n) => user_name(c, account, n)?,
        Entity::Group(n) => group_name(c, account, n)?,
        Entity::Role(n) => super::iam_roles::role_name(c, account, n)?,
    };
    Ok(found.ok_or(entity.missing()))
}

pub(super) fn create_user(c: &mut Connection, u: &IamUser) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    if user_name(&tx, u.account_id.as_str(), &u.name)?.is_some() {
        return Ok(Err(Refused::AlreadyExists));
    }
    tx.execute(
        &format!("INSERT INTO iam_users({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![u.account_id.as_str(), u.name, u.user_id, u.path, u.arn, u.created_ms],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn get_user(c: &Connection, account: &str, name: &str) -> Result<Option<IamUser>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM iam_users WHERE account_id = ?1 AND name = ?2"),
        params![account, name],
        raw_entity,
    )
    .optional()?
    .map(user_from_raw)
    .transpose()
}

pub(super) fn list_users(c: &Connection, account: &str, path_prefix: &str) -> Result<Vec<IamUser>> {
    let sql = format!("SELECT {USER_COLS} FROM iam_users WHERE account_id = ?1 AND {PATH_PREFIX} ORDER BY name");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account, path_prefix], raw_entity)?;
    rows.map(|r| user_from_raw(r?)).collect()
}

pub(super) fn delete_user(c: &mut Connection, account: &str, name: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(name) = user_name(&tx, account, name)? else {
        return Ok(Err(Refused::NoSuchUser));
    };
    let blockers = [
        (
            "SELECT count(*) FROM credentials WHERE account_id = ?1 AND user_name = ?2 COLLATE NOCASE",
            Conflict::AccessKeys,
        ),
        (
            "SELECT count(*) FROM iam_inline_policies WHERE account_id = ?1 AND entity_kind = 'user' AND entity_name = ?2",
            Conflict::InlinePolicies,
        ),
        (
            "SELECT count(*) FROM iam_attachments WHERE account_id = ?1 AND entity_kind = 'user' AND entity_name = ?2",
            Conflict::AttachedPolicies,
        ),
        (
            "SELECT count(*) FROM iam_group_members WHERE account_id = ?1 AND user_name = ?2",
            Conflict::GroupMemberships,
        ),
        (
            "SELECT count(*) FROM iam_mfa_devices WHERE account_id = ?1 AND owner_user = ?2",
            Conflict::MfaDevices,
        ),
    ];
    for (sql, conflict) in blockers {
        if count(&tx, sql, params![account, name])? > 0 {
            return Ok(Err(Refused::Conflict(conflict)));
        }
    }
    tx.execute(
        "DELETE FROM iam_users WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )?;
    tx.execute(
        "DELETE FROM iam_boundaries WHERE account_id = ?1 AND entity_kind = 'user' AND entity_name = ?2",
        params![account, name],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

// ---- access keys --------------------------------------------------------

pub(super) fn create_access_key(c: &mut Connection, key: &AccessKey) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let cred = &key.credential;
    let account = cred.account_id.as_str();
    let owner = match &cred.user_name {
        Some(name) => match user_name(&tx, account, name)? {
            Some(stored) => Some(stored),
            None => return Ok(Err(Refused::NoSuchUser)),
        },
        None => None,
    };
    if count(
        &tx,
        "SELECT count(*) FROM credentials WHERE access_key = ?1",
        params![cred.access_key],
    )? > 0
    {
        return Ok(Err(Refused::AlreadyExists));
    }
    let existing = count(
        &tx,
        "SELECT count(*) FROM credentials WHERE account_id = ?1 AND user_name IS ?2 COLLATE NOCASE",
        params![account, owner],
    )?;
    if existing >= limits::ACCESS_KEYS_PER_USER {
        return Ok(Err(Refused::LimitExceeded));
    }
    tx.execute(
        "INSERT INTO credentials(access_key, account_id, secret_sealed, is_root, active, user_name, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            cred.access_key,
            account,
            cred.secret_sealed,
            cred.is_root,
            cred.active,
            owner,
            key.created_ms
        ],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn list_credentials(c: &Connection, account: &str, user: Option<&str>) -> Result<Vec<AccessKey>> {
    let mut stmt = c.prepare_cached(
        "SELECT access_key, secret_sealed, is_root, active, user_name, created_ms FROM credentials \
         WHERE account_id = ?1 AND user_name IS ?2 COLLATE NOCASE ORDER BY access_key",
    )?;
    let rows = stmt.query_map(params![account, user], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    rows.map(|r| {
        let (access_key, secret_sealed, is_root, active, user_name, created_ms) = r?;
        Ok(AccessKey {
            credential: Credential {
                access_key,
                account_id: account_id(account.to_owned())?,
                secret_sealed,
                is_root,
                active,
                user_name,
            },
            created_ms,
        })
    })
    .collect()
}

// ---- groups -------------------------------------------------------------

const GROUP_COLS: &str = "account_id, name, group_id, path, arn, created_ms";

pub(super) fn create_group(c: &mut Connection, g: &IamGroup) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    if group_name(&tx, g.account_id.as_str(), &g.name)?.is_some() {
        return Ok(Err(Refused::AlreadyExists));
    }
    tx.execute(
        &format!("INSERT INTO iam_groups({GROUP_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![g.account_id.as_str(), g.name, g.group_id, g.path, g.arn, g.created_ms],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn get_group(c: &Connection, account: &str, name: &str) -> Result<Option<IamGroup>> {
    c.query_row(
        &format!("SELECT {GROUP_COLS} FROM iam_groups WHERE account_id = ?1 AND name = ?2"),
        params![account, name],
        raw_entity,
    )
    .optional()?
    .map(group_from_raw)
    .transpose()
}

pub(super) fn list_groups(c: &Connection, account: &str, path_prefix: &str) -> Result<Vec<IamGroup>> {
    let sql = format!("SELECT {GROUP_COLS} FROM iam_groups WHERE account_id = ?1 AND {PATH_PREFIX} ORDER BY name");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account, path_prefix], raw_entity)?;
    rows.map(|r| group_from_raw(r?)).collect()
}

pub(super) fn delete_group(c: &mut Connection, account: &str, name: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(name) = group_name(&tx, account, name)? else {
        return Ok(Err(Refused::NoSuchGroup));
    };
    let blockers = [
        (
            "SELECT count(*) FROM iam_group_members WHERE account_id = ?1 AND group_name = ?2",
            Conflict::GroupMembers,
        ),
        (
            "SELECT count(*) FROM iam_inline_policies WHERE account_id = ?1 AND entity_kind = 'group' AND entity_name = ?2",
            Conflict::InlinePolicies,
        ),
        (
            "SELECT count(*) FROM iam_attachments WHERE account_id = ?1 AND entity_kind = 'group' AND entity_name = ?2",
            Conflict::AttachedPolicies,
        ),
    ];
    for (sql, conflict) in blockers {
        if count(&tx, sql, params![account, name])? > 0 {
            return Ok(Err(Refused::Conflict(conflict)));
        }
    }
    tx.execute(
        "DELETE FROM iam_groups WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// The stored spellings of both names, or which one is missing.
fn member_names(c: &Connection, account: &str, group: &str, user: &str) -> Result<Outcome<(String, String)>> {
    let Some(group) = group_name(c, account, group)? else {
        return Ok(Err(Refused::NoSuchGroup));
    };
    let Some(user) = user_name(c, account, user)? else {
        return Ok(Err(Refused::NoSuchUser));
    };
    Ok(Ok((group, user)))
}

pub(super) fn add_user_to_group(c: &mut Connection, account: &str, group: &str, user: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let (group, user) = match member_names(&tx, account, group, user)? {
        Ok(names) => names,
        Err(refused) => return Ok(Err(refused)),
    };
    let member = count(
        &tx,
        "SELECT count(*) FROM iam_group_members WHERE account_id = ?1 AND group_name = ?2 AND user_name = ?3",
        params![account, group, user],
    )? > 0;
    if member {
        return Ok(Ok(()));
    }
    let groups = count(
        &tx,
        "SELECT count(*) FROM iam_group_members WHERE account_id = ?1 AND user_name = ?2",
        params![account, user],
    )?;
    if groups >= limits::GROUPS_PER_USER {
        return Ok(Err(Refused::LimitExceeded));
    }
    tx.execute(
        "INSERT INTO iam_group_members(account_id, group_name, user_name) VALUES (?1, ?2, ?3)",
        params![account, group, user],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn remove_user_from_group(
    c: &mut Connection,
    account: &str,
    group: &str,
    user: &str,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let (group, user) = match member_names(&tx, account, group, user)? {
        Ok(names) => names,
        Err(refused) => return Ok(Err(refused)),
    };
    let removed = tx.execute(
        "DELETE FROM iam_group_members WHERE account_id = ?1 AND group_name = ?2 AND user_name = ?3",
        params![account, group, user],
    )?;
    if removed == 0 {
        return Ok(Err(Refused::NotMember));
    }
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn group_members(c: &Connection, account: &str, group: &str) -> Result<Outcome<Vec<IamUser>>> {
    let tx = c.unchecked_transaction()?;
    let Some(group) = group_name(&tx, account, group)? else {
        return Ok(Err(Refused::NoSuchGroup));
    };
    let cols = USER_COLS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {cols} FROM iam_group_members m JOIN iam_users u \
         ON u.account_id = m.account_id AND u.name = m.user_name \
         WHERE m.account_id = ?1 AND m.group_name = ?2 ORDER BY u.name"
    ))?;
    let rows = stmt.query_map(params![account, group], raw_entity)?;
    Ok(Ok(rows.map(|r| user_from_raw(r?)).collect::<Result<Vec<_>>>()?))
}

pub(super) fn groups_for_user(c: &Connection, account: &str, user: &str) -> Result<Outcome<Vec<IamGroup>>> {
    let tx = c.unchecked_transaction()?;
    let Some(user) = user_name(&tx, account, user)? else {
        return Ok(Err(Refused::NoSuchUser));
    };
    Ok(Ok(groups_of(&tx, account, &user)?))
}

pub(super) fn groups_of(c: &Connection, account: &str, user: &str) -> Result<Vec<IamGroup>> {
    let cols = GROUP_COLS
        .split(", ")
        .map(|c| format!("g.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {cols} FROM iam_group_members m JOIN iam_groups g \
         ON g.account_id = m.account_id AND g.name = m.group_name \
         WHERE m.account_id = ?1 AND m.user_name = ?2 ORDER BY g.name"
    ))?;
    let rows = stmt.query_map(params![account, user], raw_entity)?;
    rows.map(|r| group_from_raw(r?)).collect()
}
