//! Inline policies, attachments of managed policies, and the resolution of
//! every policy that applies to a user, for the SQLite adapter.
use super::iam::{count, entity_name, groups_of, immediate, user_name};
use crate::Result;
use crate::aws_managed::{AWS_POLICY_ARN_PREFIX, aws_managed_policy};
use crate::iam::*;
use rusqlite::{Connection, OptionalExtension, params};

// ---- inline policies ----------------------------------------------------

fn inline_documents(c: &Connection, account: &str, entity: Entity<'_>) -> Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT policy_name, document FROM iam_inline_policies \
         WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 ORDER BY policy_name",
    )?;
    let rows = stmt.query_map(params![account, entity.kind(), entity.name()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn put_inline_policy(
    c: &mut Connection,
    account: &str,
    entity: Entity<'_>,
    policy: &str,
    document: &str,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let name = match entity_name(&tx, account, entity)? {
        Ok(name) => name,
        Err(refused) => return Ok(Err(refused)),
    };
    let entity = match entity {
        Entity::User(_) => Entity::User(&name),
        Entity::Group(_) => Entity::Group(&name),
        Entity::Role(_) => Entity::Role(&name),
    };
    let others: usize = inline_documents(&tx, account, entity)?
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(policy))
        .map(|(_, d)| policy_chars(d))
        .sum();
    let limit = match entity {
        Entity::User(_) => limits::USER_INLINE_CHARS,
        Entity::Group(_) => limits::GROUP_INLINE_CHARS,
        Entity::Role(_) => limits::ROLE_INLINE_CHARS,
    };
    if others + policy_chars(document) > limit {
        return Ok(Err(Refused::LimitExceeded));
    }
    // Replacing keeps the first spelling of the policy name, as a case-insensitive key must.
    tx.execute(
        "INSERT INTO iam_inline_policies(account_id, entity_kind, entity_name, policy_name, document) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(account_id, entity_kind, entity_name, policy_name) DO UPDATE SET document = excluded.document",
        params![account, entity.kind(), name, policy, document],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn get_inline_policy(
    c: &Connection,
    account: &str,
    entity: Entity<'_>,
    policy: &str,
) -> Result<Outcome<NamedDocument>> {
    let tx = c.unchecked_transaction()?;
    if let Err(refused) = entity_name(&tx, account, entity)? {
        return Ok(Err(refused));
    }
    let found = tx
        .query_row(
            "SELECT policy_name, document FROM iam_inline_policies \
             WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 AND policy_name = ?4",
            params![account, entity.kind(), entity.name(), policy],
            |r| {
                Ok(NamedDocument {
                    name: r.get(0)?,
                    document: r.get(1)?,
                })
            },
        )
        .optional()?;
    Ok(found.ok_or(Refused::NoSuchInlinePolicy))
}

pub(super) fn list_inline_policies(c: &Connection, account: &str, entity: Entity<'_>) -> Result<Outcome<Vec<String>>> {
    let tx = c.unchecked_transaction()?;
    if let Err(refused) = entity_name(&tx, account, entity)? {
        return Ok(Err(refused));
    }
    let names = inline_documents(&tx, account, entity)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    Ok(Ok(names))
}

pub(super) fn delete_inline_policy(
    c: &mut Connection,
    account: &str,
    entity: Entity<'_>,
    policy: &str,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    if let Err(refused) = entity_name(&tx, account, entity)? {
        return Ok(Err(refused));
    }
    let removed = tx.execute(
        "DELETE FROM iam_inline_policies \
         WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 AND policy_name = ?4",
        params![account, entity.kind(), entity.name(), policy],
    )?;
    if removed == 0 {
        return Ok(Err(Refused::NoSuchInlinePolicy));
    }
    tx.commit()?;
    Ok(Ok(()))
}

// ---- attachments --------------------------------------------------------

/// The stored ARN and name of an attachable policy: one of `account`'s, or a built-in AWS one.
fn attachable(c: &Connection, account: &str, arn: &str) -> Result<Option<(String, String)>> {
    if arn
        .get(..AWS_POLICY_ARN_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(AWS_POLICY_ARN_PREFIX))
    {
        return Ok(aws_managed_policy(arn).map(|p| (p.arn.to_owned(), p.name.to_owned())));
    }
    Ok(c.query_row(
        "SELECT arn, name FROM iam_policies WHERE account_id = ?1 AND arn = ?2",
        params![account, arn],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

pub(super) fn attach_policy(c: &mut Connection, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let name = match entity_name(&tx, account, entity)? {
        Ok(name) => name,
        Err(refused) => return Ok(Err(refused)),
    };
    let Some((arn, policy_name)) = attachable(&tx, account, arn)? else {
        return Ok(Err(Refused::NoSuchPolicy));
    };
    let attached: Vec<String> = attached_of(&tx, account, entity.kind(), &name)?
        .into_iter()
        .map(|a| a.arn)
        .collect();
    if attached.iter().any(|a| a.eq_ignore_ascii_case(&arn)) {
        return Ok(Ok(()));
    }
    if attached.len() >= limits::ATTACHED_POLICIES {
        return Ok(Err(Refused::LimitExceeded));
    }
    tx.execute(
        "INSERT INTO iam_attachments(account_id, entity_kind, entity_name, policy_arn, policy_name) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account, entity.kind(), name, arn, policy_name],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn detach_policy(c: &mut Connection, account: &str, entity: Entity<'_>, arn: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    if let Err(refused) = entity_name(&tx, account, entity)? {
        return Ok(Err(refused));
    }
    let removed = tx.execute(
        "DELETE FROM iam_attachments WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 AND policy_arn = ?4",
        params![account, entity.kind(), entity.name(), arn],
    )?;
    if removed == 0 {
        return Ok(Err(Refused::NotAttached));
    }
    tx.commit()?;
    Ok(Ok(()))
}

fn attached_of(c: &Connection, account: &str, kind: &str, name: &str) -> Result<Vec<AttachedPolicy>> {
    let mut stmt = c.prepare_cached(
        "SELECT policy_name, policy_arn FROM iam_attachments \
         WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 ORDER BY policy_name, policy_arn",
    )?;
    let rows = stmt.query_map(params![account, kind, name], |r| {
        Ok(AttachedPolicy {
            name: r.get(0)?,
            arn: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn attached_policies(
    c: &Connection,
    account: &str,
    entity: Entity<'_>,
) -> Result<Outcome<Vec<AttachedPolicy>>> {
    let tx = c.unchecked_transaction()?;
    if let Err(refused) = entity_name(&tx, account, entity)? {
        return Ok(Err(refused));
    }
    Ok(Ok(attached_of(&tx, account, entity.kind(), entity.name())?))
}

pub(super) fn attachment_count(c: &Connection, account: &str, arn: &str) -> Result<u32> {
    let n = count(
        c,
        "SELECT count(*) FROM iam_attachments WHERE account_id = ?1 AND policy_arn = ?2",
        params![account, arn],
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

// ---- the policies that apply to a user ----------------------------------

pub(super) fn user_policies(c: &Connection, account: &str, user: &str) -> Result<Vec<NamedDocument>> {
    // One read transaction: a concurrent detach or group change is seen entirely or not at all.
    let tx = c.unchecked_transaction()?;
    let Some(user) = user_name(&tx, account, user)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    entity_documents(&tx, account, Entity::User(&user), &mut out)?;
    for group in groups_of(&tx, account, &user)? {
        entity_documents(&tx, account, Entity::Group(&group.name), &mut out)?;
    }
    Ok(out)
}

pub(super) fn entity_documents(
    c: &Connection,
    account: &str,
    entity: Entity<'_>,
    out: &mut Vec<NamedDocument>,
) -> Result<()> {
    let prefix = format!("{}/{}", entity.kind(), entity.name());
    for (name, document) in inline_documents(c, account, entity)? {
        out.push(NamedDocument {
            name: format!("{prefix}/inline/{name}"),
            document,
        });
    }
    for attached in attached_of(c, account, entity.kind(), entity.name())? {
        if let Some(document) = managed_document(c, account, &attached.arn)? {
            out.push(NamedDocument {
                name: format!("{prefix}/attached/{}", attached.arn),
                document,
            });
        }
    }
    Ok(())
}

/// The default version's document of a customer or built-in managed policy.
pub(super) fn managed_document(c: &Connection, account: &str, arn: &str) -> Result<Option<String>> {
    if let Some(builtin) = aws_managed_policy(arn) {
        return Ok(Some(builtin.document.to_owned()));
    }
    Ok(c.query_row(
        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v \
         ON v.policy_id = p.policy_id AND v.version = p.default_version \
         WHERE p.account_id = ?1 AND p.arn = ?2",
        params![account, arn],
        |r| r.get(0),
    )
    .optional()?)
}
