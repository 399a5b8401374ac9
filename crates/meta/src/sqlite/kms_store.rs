//! [`KmsStore`] for the SQLite adapter: the KMS tables, and one function per
//! method running on a reader or (for writes) inside a transaction of the
//! writer connection. A key's document is versioned JSON like objects';
//! `revision` makes read-modify-write updates safe without holding a lock.
use super::{SqliteStore, account_id, from_json, to_json};
use crate::kms::*;
use crate::{MetaError, Result};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kms_keys(
  key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), arn TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kms_keys_by_account ON kms_keys(account_id, key_id);
CREATE TABLE IF NOT EXISTS kms_aliases(
  account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
  target_key_id TEXT NOT NULL REFERENCES kms_keys(key_id) ON DELETE CASCADE,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY(account_id, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kms_aliases_by_key ON kms_aliases(target_key_id, name);
";

const KEY_COLS: &str = "key_id, account_id, arn, created_ms, revision, doc";
const ALIAS_COLS: &str = "account_id, name, target_key_id, created_ms, updated_ms";

type RawKey = (String, String, String, i64, i64, String);
type RawAlias = (String, String, String, i64, i64);

fn raw_key(r: &Row) -> rusqlite::Result<RawKey> {
    RawKey::try_from(r)
}

fn raw_alias(r: &Row) -> rusqlite::Result<RawAlias> {
    RawAlias::try_from(r)
}

fn key_from_raw((key_id, account, arn, created_ms, revision, doc): RawKey) -> Result<KmsKeyRecord> {
    let doc: KmsKeyDoc = from_json(&doc)?;
    if doc.v != KMS_KEY_RECORD_VERSION {
        return Err(MetaError::Corrupt(format!("unknown KMS key record version {}", doc.v)));
    }
    Ok(KmsKeyRecord {
        key_id,
        account_id: account_id(account)?,
        arn,
        created_ms,
        revision: u64::try_from(revision).unwrap_or(0),
        doc,
    })
}

fn alias_from_raw((account, name, target_key_id, created_ms, updated_ms): RawAlias) -> Result<KmsAlias> {
    Ok(KmsAlias {
        account_id: account_id(account)?,
        name,
        target_key_id,
        created_ms,
        updated_ms,
    })
}

fn get_key(c: &Connection, key_id: &str) -> Result<Option<KmsKeyRecord>> {
    c.prepare_cached(&format!("SELECT {KEY_COLS} FROM kms_keys WHERE key_id = ?1"))?
        .query_row(params![key_id], raw_key)
        .optional()?
        .map(key_from_raw)
        .transpose()
}

fn key_in_account(c: &Connection, account: &str, key_id: &str) -> Result<bool> {
    let found: Option<i64> = c
        .query_row(
            "SELECT 1 FROM kms_keys WHERE key_id = ?1 AND account_id = ?2",
            params![key_id, account],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

fn alias_exists(c: &Connection, account: &str, name: &str) -> Result<bool> {
    let found: Option<i64> = c
        .query_row(
            "SELECT 1 FROM kms_aliases WHERE account_id = ?1 AND name = ?2",
            params![account, name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

fn insert_alias(c: &Connection, a: &KmsAlias) -> Result<()> {
    c.execute(
        &format!("INSERT INTO kms_aliases({ALIAS_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        params![
            a.account_id.as_str(),
            a.name,
            a.target_key_id,
            a.created_ms,
            a.updated_ms
        ],
    )?;
    Ok(())
}

fn create_key(c: &mut Connection, key: &KmsKeyRecord, alias: Option<&KmsAlias>) -> Result<KmsOutcome<()>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let taken: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM kms_keys WHERE key_id = ?1 OR arn = ?2",
            params![key.key_id, key.arn],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Ok(Err(KmsRefused::AlreadyExists));
    }
    if let Some(a) = alias
        && alias_exists(&tx, a.account_id.as_str(), &a.name)?
    {
        return Ok(Err(KmsRefused::AlreadyExists));
    }
    tx.execute(
        &format!("INSERT INTO kms_keys({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, 0, ?5)"),
        params![
            key.key_id,
            key.account_id.as_str(),
            key.arn,
            key.created_ms,
            to_json(&key.doc)?
        ],
    )?;
    if let Some(a) = alias {
        insert_alias(&tx, a)?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

fn update_key(c: &mut Connection, key: &KmsKeyRecord) -> Result<KmsOutcome<KmsKeyRecord>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(current) = get_key(&tx, &key.key_id)? else {
        return Ok(Err(KmsRefused::NoSuchKey));
    };
    if current.revision != key.revision {
        return Ok(Err(KmsRefused::Stale));
    }
    let revision = key.revision.saturating_add(1);
    tx.execute(
        "UPDATE kms_keys SET revision = ?2, doc = ?3 WHERE key_id = ?1",
        params![
            key.key_id,
            i64::try_from(revision).unwrap_or(i64::MAX),
            to_json(&key.doc)?
        ],
    )?;
    tx.commit()?;
    Ok(Ok(KmsKeyRecord {
        revision,
        ..key.clone()
    }))
}

fn create_alias(c: &mut Connection, a: &KmsAlias) -> Result<KmsOutcome<()>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if alias_exists(&tx, a.account_id.as_str(), &a.name)? {
        return Ok(Err(KmsRefused::AlreadyExists));
    }
    if !key_in_account(&tx, a.account_id.as_str(), &a.target_key_id)? {
        return Ok(Err(KmsRefused::NoSuchKey));
    }
    insert_alias(&tx, a)?;
    tx.commit()?;
    Ok(Ok(()))
}

fn update_alias(
    c: &mut Connection,
    account: &str,
    name: &str,
    target: &str,
    updated_ms: i64,
) -> Result<KmsOutcome<()>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !alias_exists(&tx, account, name)? {
        return Ok(Err(KmsRefused::NoSuchAlias));
    }
    if !key_in_account(&tx, account, target)? {
        return Ok(Err(KmsRefused::NoSuchKey));
    }
    tx.execute(
        "UPDATE kms_aliases SET target_key_id = ?3, updated_ms = ?4 WHERE account_id = ?1 AND name = ?2",
        params![account, name, target, updated_ms],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

fn list_aliases(
    c: &Connection,
    account: &str,
    target: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KmsAlias>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ALIAS_COLS} FROM kms_aliases WHERE account_id = ?1 AND (?2 IS NULL OR target_key_id = ?2) \
         AND (?3 IS NULL OR name > ?3) ORDER BY name LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![account, target, after, limit], raw_alias)?;
    rows.map(|r| alias_from_raw(r?)).collect()
}

#[async_trait]
impl KmsStore for SqliteStore {
    async fn create_kms_key(&self, key: &KmsKeyRecord, alias: Option<&KmsAlias>) -> Result<KmsOutcome<()>> {
        let (key, alias) = (key.clone(), alias.cloned());
        self.write(move |c| create_key(c, &key, alias.as_ref())).await
    }

    async fn get_kms_key(&self, key_id: &str) -> Result<Option<KmsKeyRecord>> {
        let key_id = key_id.to_owned();
        self.read(move |c| get_key(c, &key_id)).await
    }

    async fn list_kms_keys(&self, account: &str, after: Option<&str>, limit: usize) -> Result<Vec<KmsKeyRecord>> {
        let (account, after) = (account.to_owned(), after.map(str::to_owned));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM kms_keys WHERE account_id = ?1 AND (?2 IS NULL OR key_id > ?2) \
                 ORDER BY key_id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![account, after, limit], raw_key)?;
            rows.map(|r| key_from_raw(r?)).collect()
        })
        .await
    }

    async fn update_kms_key(&self, key: &KmsKeyRecord) -> Result<KmsOutcome<KmsKeyRecord>> {
        let key = key.clone();
        self.write(move |c| update_key(c, &key)).await
    }

    async fn delete_kms_key(&self, key_id: &str) -> Result<KmsOutcome<()>> {
        let key_id = key_id.to_owned();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM kms_aliases WHERE target_key_id = ?1", params![key_id])?;
            if tx.execute("DELETE FROM kms_keys WHERE key_id = ?1", params![key_id])? == 0 {
                return Ok(Err(KmsRefused::NoSuchKey));
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await
    }

    async fn create_kms_alias(&self, alias: &KmsAlias) -> Result<KmsOutcome<()>> {
        let alias = alias.clone();
        self.write(move |c| create_alias(c, &alias)).await
    }

    async fn get_kms_alias(&self, account: &str, name: &str) -> Result<Option<KmsAlias>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ALIAS_COLS} FROM kms_aliases WHERE account_id = ?1 AND name = ?2"
            ))?
            .query_row(params![account, name], raw_alias)
            .optional()?
            .map(alias_from_raw)
            .transpose()
        })
        .await
    }

    async fn list_kms_aliases(
        &self,
        account: &str,
        target_key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KmsAlias>> {
        let (account, target, after) = (
            account.to_owned(),
            target_key_id.map(str::to_owned),
            after.map(str::to_owned),
        );
        self.read(move |c| list_aliases(c, &account, target.as_deref(), after.as_deref(), limit))
            .await
    }

    async fn update_kms_alias(
        &self,
        account: &str,
        name: &str,
        target_key_id: &str,
        updated_ms: i64,
    ) -> Result<KmsOutcome<()>> {
        let (account, name, target) = (account.to_owned(), name.to_owned(), target_key_id.to_owned());
        self.write(move |c| update_alias(c, &account, &name, &target, updated_ms))
            .await
    }

    async fn delete_kms_alias(&self, account: &str, name: &str) -> Result<KmsOutcome<()>> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.write(move |c| {
            let n = c.execute(
                "DELETE FROM kms_aliases WHERE account_id = ?1 AND name = ?2",
                params![account, name],
            )?;
            Ok(if n == 1 { Ok(()) } else { Err(KmsRefused::NoSuchAlias) })
        })
        .await
    }
}
