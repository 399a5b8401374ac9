//! The embedded SQLite adapter. One writer connection (SQLite serializes
//! writers anyway) and a few reader connections, so reads proceed while a
//! commit waits on fsync (WAL mode). `synchronous=FULL`: a commit returns only
//! after the WAL is on disk, which is what "acknowledged means durable" needs.
use crate::records::*;
use crate::{
    BucketUpdate, CreateBucket, DeleteBucket, Deletion, Expect, MetaError, MetaStore, Result, SettingsEdit, Written,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strongbox_types::AccountId;

mod fsck;
mod group;
mod iam;
mod iam_managed;
mod iam_mfa;
mod iam_policies;
mod iam_roles;
mod iam_store;
mod kms_store;
mod objects;
mod rotate;
mod settings;

use objects::{delete_version_tx, get_object_tx, latest_tx, load_inline, put_object_tx, rewrite_doc_tx, version_tx};

const READERS: usize = 4;

/// Schema version stored in `PRAGMA user_version`. DO NOT CHANGE without a migration.
const SCHEMA_VERSION: i64 = 7;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, canonical_id TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credentials(
  access_key TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
  secret_sealed BLOB NOT NULL, is_root INTEGER NOT NULL, active INTEGER NOT NULL, user_name TEXT,
  created_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials(account_id, user_name);
CREATE TABLE IF NOT EXISTS buckets(
  name TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES accounts(id), region TEXT NOT NULL,
  created_ms INTEGER NOT NULL, tags TEXT, policy TEXT, encryption TEXT);
CREATE INDEX IF NOT EXISTS buckets_by_owner ON buckets(owner, name);
CREATE TABLE IF NOT EXISTS account_settings(
  account_id TEXT PRIMARY KEY REFERENCES accounts(id), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects(
  bucket TEXT NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL, version_id TEXT NOT NULL,
  latest INTEGER NOT NULL, marker INTEGER NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY(bucket, key, seq DESC)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_version ON objects(bucket, key, version_id);
CREATE INDEX IF NOT EXISTS objects_current ON objects(bucket, key, size, etag, last_modified_ms)
  WHERE latest = 1 AND marker = 0;
CREATE TABLE IF NOT EXISTS object_data(id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS uploads(
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated_ms INTEGER NOT NULL,
  owner TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, initiated_ms, upload_id);
CREATE TABLE IF NOT EXISTS parts(
  upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE, part_number INTEGER NOT NULL,
  blob_id TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, checksum TEXT,
  last_modified_ms INTEGER NOT NULL, PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;
";

pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    /// Object writes waiting for the next group commit.
    queue: group::Queue,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let writer = open_connection(path)?;
        let version: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(MetaError::Corrupt(format!(
                "database schema version {version} is newer than this binary ({SCHEMA_VERSION})"
            )));
        }
        if version == 1 {
            // v1 -> v2: bucket policies and IAM users' access keys.
            writer.execute_batch(
                "BEGIN IMMEDIATE;
                 ALTER TABLE buckets ADD COLUMN policy TEXT;
                 ALTER TABLE credentials ADD COLUMN user_name TEXT;
                 COMMIT;",
            )?;
        }
        // v4 -> v5: versions. The objects table's key becomes (bucket, key,
        // seq): rebuilt in one transaction, every row the latest null version.
        let rebuild = (1..5).contains(&version)
            && has_column(&writer, "objects", "bucket")?
            && !has_column(&writer, "objects", "seq")?;
        if rebuild {
            writer.execute_batch("BEGIN IMMEDIATE; ALTER TABLE objects RENAME TO objects_v4;")?;
        }
        writer.execute_batch(SCHEMA)?;
        if rebuild {
            writer.execute_batch(
                "INSERT INTO objects(bucket, key, seq, version_id, latest, marker, size, etag, last_modified_ms, doc) \
                   SELECT bucket, key, 1, version_id, 1, 0, size, etag, last_modified_ms, doc FROM objects_v4;
                 DROP TABLE objects_v4;
                 COMMIT;",
            )?;
        }
        writer.execute_batch(iam::SCHEMA)?;
        writer.execute_batch(kms_store::SCHEMA)?;
        // Added during v2's development, before its release: databases created
        // by an earlier v2 build (and migrated v1 ones) lack it.
        ensure_column(&writer, "credentials", "created_ms", "INTEGER NOT NULL DEFAULT 0")?;
        // v2 -> v3: bucket default encryption.
        ensure_column(&writer, "buckets", "encryption", "TEXT")?;
        // v3 -> v4: the object_data table (inline small objects), created by SCHEMA.
        ensure_column(&writer, "buckets", "versioning", "TEXT")?;
        // v5 -> v6: Object Lock (bucket column; version locks live in the doc).
        // A v5 binary would ignore locks and delete protected versions, so the
        // version bump makes it refuse the database.
        ensure_column(&writer, "buckets", "object_lock", "TEXT")?;
        // v6 -> v7: Block Public Access and the other bucket settings (one
        // JSON document), and account_settings (created by SCHEMA). A v6
        // binary would ignore Block Public Access, so it must refuse the database.
        ensure_column(&writer, "buckets", "settings", "TEXT")?;
        writer.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
            queue: Arc::default(),
        })
    }

    async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: Fn(&mut Connection) -> Result<R> + Send + 'static,
    {
        let conn = Arc::clone(&self.writer);
        run_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| MetaError::Task("writer lock poisoned".into()))?;
            retry_busy(|| f(&mut guard))
        })
        .await
    }

    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        run_blocking(move || with_reader(&readers, start, f)).await
    }

    /// A point lookup (one row by primary key, from the page cache in the
    /// common case) run on the calling thread: a hop to the blocking pool
    /// and back costs more than the query, and hot paths make several.
    fn lookup<R, F>(&self, f: F) -> Result<R>
    where
        F: Fn(&Connection) -> Result<R>,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        with_reader(&self.readers, start, f)
    }

    /// Runs `work` in the next group commit (see [`group`]).
    async fn write_grouped<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        group::submit(&self.writer, &self.queue, work).await
    }
}

/// Runs `f` on a free reader connection (waiting for one only when all are busy).
fn with_reader<R>(readers: &[Mutex<Connection>], start: usize, f: impl Fn(&Connection) -> Result<R>) -> Result<R> {
    let n = readers.len();
    let pick = (0..n).find_map(|i| readers.get((start + i) % n).and_then(|m| m.try_lock().ok()));
    let guard = match pick {
        Some(g) => g,
        None => readers
            .get(start % n.max(1))
            .ok_or_else(|| MetaError::Task("no reader connection".into()))?
            .lock()
            .map_err(|_| MetaError::Task("reader lock poisoned".into()))?,
    };
    retry_busy(|| f(&guard))
}

/// Attempts for an operation that SQLite answers with SQLITE_BUSY/LOCKED
/// despite the busy timeout (a WAL reader racing a checkpoint's WAL reset
/// returns at once); each attempt is a fresh transaction, so retrying is safe.
const BUSY_ATTEMPTS: u32 = 8;

fn retry_busy<R>(mut f: impl FnMut() -> Result<R>) -> Result<R> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(MetaError::Database(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && attempt + 1 < BUSY_ATTEMPTS =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt) * 2));
            }
            other => return other,
        }
    }
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

fn ensure_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
    if has_column(conn, table, column)? {
        return Ok(());
    }
    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    Ok(())
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(PathBuf::from(path))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

async fn run_blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MetaError::Task(e.to_string()))?
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| MetaError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| MetaError::Corrupt(e.to_string()))
}

fn account_id(s: String) -> Result<AccountId> {
    AccountId::parse(&s).map_err(|_| MetaError::Corrupt(format!("bad account id {s:?}")))
}

fn key_string(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| MetaError::Corrupt("object key is not UTF-8".into()))
}

fn u64_col(row: &Row, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = row.get(idx)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

const PART_COLS: &str = "upload_id, part_number, blob_id, size, etag, checksum, last_modified_ms";

fn part_from_row(row: &Row) -> rusqlite::Result<PartRecord> {
    Ok(PartRecord {
        upload_id: row.get(0)?,
        part_number: row.get(1)?,
        blob_id: row.get(2)?,
        size: u64_col(row, 3)?,
        etag: row.get(4)?,
        checksum: row.get(5)?,
        last_modified_ms: row.get(6)?,
    })
}

fn parts_of(conn: &Connection, upload_id: &str) -> Result<Vec<PartRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PART_COLS} FROM parts WHERE upload_id = ?1 ORDER BY part_number"
    ))?;
    let rows = stmt.query_map(params![upload_id], part_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

const UPLOAD_COLS: &str = "upload_id, bucket, key, initiated_ms, owner, doc";

type RawUpload = (String, String, Vec<u8>, i64, String, String);

fn raw_upload(row: &Row) -> rusqlite::Result<RawUpload> {
    RawUpload::try_from(row)
}

fn upload_from_raw(raw: RawUpload) -> Result<UploadRecord> {
    let (upload_id, bucket, key, initiated_ms, owner, doc) = raw;
    Ok(UploadRecord {
        upload_id,
        bucket,
        key: key_string(key)?,
        initiated_ms,
        owner: account_id(owner)?,
        doc: from_json(&doc)?,
    })
}

type RawBucket = (
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A bucket row with its owner account's settings (a LEFT JOIN in one
/// read, so both come from the same snapshot).
const BUCKET_COLUMNS: &str = "name, owner, region, b.created_ms, tags, policy, encryption, versioning, object_lock, \
     settings, s.doc FROM buckets b LEFT JOIN account_settings s ON s.account_id = b.owner";

fn raw_bucket(row: &Row) -> rusqlite::Result<RawBucket> {
    RawBucket::try_from(row)
}

fn bucket_from_raw(raw: RawBucket) -> Result<BucketRecord> {
    let (name, owner, region, created_ms, tags, policy, encryption, versioning, object_lock, settings, account) = raw;
    let tags = tags.map(|t| from_json::<Vec<Tag>>(&t)).transpose()?;
    let encryption = encryption.map(|e| from_json::<BucketEncryption>(&e)).transpose()?;
    let versioning = versioning.map(|v| from_json::<BucketVersioning>(&v)).transpose()?;
    let object_lock = object_lock.map(|v| from_json::<BucketObjectLock>(&v)).transpose()?;
    let settings = settings.map(|v| from_json::<BucketSettings>(&v)).transpose()?;
    let account = account.map(|v| from_json::<AccountSettings>(&v)).transpose()?;
    Ok(BucketRecord {
        name,
        owner: account_id(owner)?,
        region,
        created_ms,
        tags,
        policy,
        encryption,
        versioning,
        object_lock,
        settings: settings.unwrap_or_default(),
        account_public_access_block: account.and_then(|a| a.public_access_block),
    })
}

type RawAccount = (String, String, String, i64);

fn account_from_raw((id, name, canonical_id, created_ms): RawAccount) -> Result<Account> {
    Ok(Account {
        id: account_id(id)?,
        name,
        canonical_id,
        created_ms,
    })
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn create_account(&self, a: &Account) -> Result<bool> {
        let a = a.clone();
        self.write(move |c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO accounts(id, name, canonical_id, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![a.id.as_str(), a.name, a.canonical_id, a.created_ms],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn get_account(&self, id: &str) -> Result<Option<Account>> {
        let id = id.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, canonical_id, created_ms FROM accounts WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .map(account_from_raw)
            .transpose()
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name, canonical_id, created_ms FROM accounts ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.map(|r| account_from_raw(r?)).collect()
        })
        .await
    }

    async fn put_credential(&self, cred: &Credential) -> Result<()> {
        let cred = cred.clone();
        self.write(move |c| {
            c.execute(
                // The record carries no creation time (callers predate it), so SQLite's clock stamps it.
                "INSERT OR REPLACE INTO credentials(access_key, account_id, secret_sealed, is_root, active, user_name, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
                params![cred.access_key, cred.account_id.as_str(), cred.secret_sealed, cred.is_root, cred.active, cred.user_name],
            )?;
            Ok(())
        })
        .await
    }

    async fn get_credential(&self, access_key: &str) -> Result<Option<Credential>> {
        self.lookup(|c| {
            let raw = c
                .prepare_cached(
                    "SELECT access_key, account_id, secret_sealed, is_root, active, user_name FROM credentials WHERE access_key = ?1",
                )?
                .query_row(params![access_key], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })
                .optional()?;
            raw.map(|(access_key, account, secret_sealed, is_root, active, user_name)| {
                Ok(Credential { access_key, account_id: account_id(account)?, secret_sealed, is_root, active, user_name })
            })
            .transpose()
        })
    }

    async fn create_bucket(&self, b: &BucketRecord) -> Result<CreateBucket> {
        let b = b.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let owner: Option<String> = tx
                .query_row("SELECT owner FROM buckets WHERE name = ?1", params![b.name], |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(owner) = owner {
                return Ok(CreateBucket::Exists(account_id(owner)?));
            }
            let tags = b.tags.as_ref().map(to_json).transpose()?;
            let encryption = b.encryption.as_ref().map(to_json).transpose()?;
            let versioning = b.versioning.as_ref().map(to_json).transpose()?;
            let object_lock = b.object_lock.as_ref().map(to_json).transpose()?;
            let settings = to_json(&b.settings)?;
            tx.execute(
                "INSERT INTO buckets(name, owner, region, created_ms, tags, policy, encryption, versioning, object_lock, \
                 settings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    b.name,
                    b.owner.as_str(),
                    b.region,
                    b.created_ms,
                    tags,
                    b.policy,
                    encryption,
                    versioning,
                    object_lock,
                    settings
                ],
            )?;
            tx.commit()?;
            Ok(CreateBucket::Created)
        })
        .await
    }

    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>> {
        self.lookup(|c| {
            c.prepare_cached(&format!("SELECT {BUCKET_COLUMNS} WHERE name = ?1"))?
                .query_row(params![name], raw_bucket)
                .optional()?
                .map(bucket_from_raw)
                .transpose()
        })
    }

    async fn list_buckets(&self, owner: &str) -> Result<Vec<BucketRecord>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!("SELECT {BUCKET_COLUMNS} WHERE owner = ?1 ORDER BY name"))?;
            let rows = stmt.query_map(params![owner], raw_bucket)?;
            rows.map(|r| bucket_from_raw(r?)).collect()
        })
        .await
    }

    async fn delete_bucket(&self, name: &str) -> Result<DeleteBucket> {
        let name = name.to_owned();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM buckets WHERE name = ?1", params![name], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Ok(DeleteBucket::NotFound);
            }
            let busy: Option<i64> = tx
                .query_row("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1", params![name], |r| {
                    r.get(0)
                })
                .optional()?;
            if busy.is_some() {
                return Ok(DeleteBucket::NotEmpty);
            }
            let released = {
                let mut stmt = tx.prepare(
                    "SELECT p.blob_id FROM parts p JOIN uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?1",
                )?;
                let rows = stmt.query_map(params![name], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            // Parts go with their uploads (ON DELETE CASCADE).
            tx.execute("DELETE FROM uploads WHERE bucket = ?1", params![name])?;
            tx.execute("DELETE FROM buckets WHERE name = ?1", params![name])?;
            tx.commit()?;
            Ok(DeleteBucket::Deleted { released })
        })
        .await
    }

    async fn set_bucket_tags(&self, name: &str, tags: Option<&[Tag]>) -> Result<bool> {
        let name = name.to_owned();
        let tags = tags.map(to_json).transpose()?;
        self.write(move |c| Ok(c.execute("UPDATE buckets SET tags = ?2 WHERE name = ?1", params![name, tags])? == 1))
            .await
    }

    async fn set_bucket_policy(&self, name: &str, policy: Option<&str>, public: bool) -> Result<BucketUpdate> {
        let (name, policy) = (name.to_owned(), policy.map(str::to_owned));
        self.write(move |c| settings::set_bucket_policy_tx(c, &name, policy.as_deref(), public))
            .await
    }

    async fn set_bucket_encryption(&self, name: &str, encryption: Option<&BucketEncryption>) -> Result<bool> {
        let name = name.to_owned();
        let encryption = encryption.map(to_json).transpose()?;
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE buckets SET encryption = ?2 WHERE name = ?1",
                params![name, encryption],
            )? == 1)
        })
        .await
    }

    async fn set_bucket_versioning(&self, name: &str, versioning: &BucketVersioning) -> Result<BucketUpdate> {
        let (name, enabled) = (name.to_owned(), versioning.enabled);
        let versioning = to_json(versioning)?;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let lock: Option<Option<String>> = tx
                .query_row("SELECT object_lock FROM buckets WHERE name = ?1", params![name], |r| {
                    r.get(0)
                })
                .optional()?;
            let outcome = match lock {
                None => BucketUpdate::NotFound,
                Some(Some(_)) if !enabled => BucketUpdate::Refused,
                Some(_) => {
                    tx.execute(
                        "UPDATE buckets SET versioning = ?2 WHERE name = ?1",
                        params![name, versioning],
                    )?;
                    BucketUpdate::Done
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn set_bucket_object_lock(&self, name: &str, lock: &BucketObjectLock) -> Result<BucketUpdate> {
        let name = name.to_owned();
        let lock = to_json(lock)?;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let versioning: Option<Option<String>> = tx
                .query_row("SELECT versioning FROM buckets WHERE name = ?1", params![name], |r| {
                    r.get(0)
                })
                .optional()?;
            let enabled = |v: &str| from_json::<BucketVersioning>(v).map(|v| v.enabled);
            let outcome = match versioning {
                None => BucketUpdate::NotFound,
                Some(Some(v)) if enabled(&v)? => {
                    tx.execute(
                        "UPDATE buckets SET object_lock = ?2 WHERE name = ?1",
                        params![name, lock],
                    )?;
                    BucketUpdate::Done
                }
                Some(_) => BucketUpdate::Refused,
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn update_bucket_settings(&self, name: &str, edit: SettingsEdit<BucketSettings>) -> Result<BucketUpdate> {
        let name = name.to_owned();
        self.write(move |c| settings::update_bucket_settings_tx(c, &name, &edit))
            .await
    }

    async fn account_settings(&self, account: &str) -> Result<AccountSettings> {
        let account = account.to_owned();
        self.read(move |c| settings::account_settings_in(c, &account)).await
    }

    async fn update_account_settings(
        &self,
        account: &str,
        edit: SettingsEdit<AccountSettings>,
    ) -> Result<BucketUpdate> {
        let account = account.to_owned();
        self.write(move |c| settings::update_account_settings_tx(c, &account, &edit))
            .await
    }

    async fn put_object(&self, o: &ObjectRecord, expect: &Expect) -> Result<Written<Option<ObjectRecord>>> {
        let (o, expect) = (o.clone(), expect.clone());
        self.write_grouped(move |c| {
            if !expect.holds(get_object_tx(c, &o.bucket, &o.key)?.as_ref()) {
                return Ok(Written::ConditionFailed);
            }
            Ok(Written::Done(put_object_tx(c, &o)?))
        })
        .await
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        self.lookup(|c| {
            let Some(mut o) = get_object_tx(c, bucket, key)? else {
                return Ok(None);
            };
            load_inline(c, &mut o)?;
            Ok(Some(o))
        })
    }

    async fn get_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Option<ObjectRecord>> {
        self.lookup(|c| {
            let found = match version_id {
                Some(v) => version_tx(c, bucket, key, v)?,
                None => latest_tx(c, bucket, key)?,
            };
            let Some(mut o) = found else {
                return Ok(None);
            };
            load_inline(c, &mut o)?;
            Ok(Some(o))
        })
    }

    async fn delete_version(&self, bucket: &str, key: &str, version_id: &str, check: &LockCheck) -> Result<Deletion> {
        let (bucket, key, version_id, check) = (bucket.to_owned(), key.to_owned(), version_id.to_owned(), *check);
        self.write_grouped(move |c| delete_version_tx(c, &bucket, &key, &version_id, &check))
            .await
    }

    async fn set_object_lock(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        expect: &ObjectLock,
        lock: &ObjectLock,
    ) -> Result<bool> {
        let (bucket, key, version_id) = (bucket.to_owned(), key.to_owned(), version_id.to_owned());
        let (expect, lock) = (*expect, *lock);
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let Some(mut obj) = version_tx(&tx, &bucket, &key, &version_id)?.filter(|o| !o.delete_marker) else {
                return Ok(false);
            };
            if obj.doc.lock != expect {
                return Ok(false);
            }
            obj.doc.lock = lock;
            rewrite_doc_tx(&tx, &obj)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn set_object_tags(&self, bucket: &str, key: &str, version_id: Option<&str>, tags: &[Tag]) -> Result<bool> {
        let (bucket, key, tags) = (bucket.to_owned(), key.to_owned(), tags.to_vec());
        let version_id = version_id.map(str::to_owned);
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found = match &version_id {
                Some(v) => version_tx(&tx, &bucket, &key, v)?,
                None => latest_tx(&tx, &bucket, &key)?,
            };
            let Some(mut obj) = found.filter(|o| !o.delete_marker) else {
                return Ok(false);
            };
            obj.doc.tags = tags.clone();
            rewrite_doc_tx(&tx, &obj)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn scan_objects(&self, bucket: &str, range: &KeyRange, limit: usize) -> Result<Vec<ObjectSummary>> {
        let (bucket, range) = (bucket.to_owned(), range.clone());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let op = if range.start_inclusive { ">=" } else { ">" };
            // `latest = 1 AND marker = 0` selects the partial index objects_current.
            let sql = format!(
                "SELECT key, size, etag, last_modified_ms FROM objects WHERE bucket = ?1 AND key {op} ?2 \
                 AND (?3 IS NULL OR key < ?3) AND latest = 1 AND marker = 0 ORDER BY key LIMIT ?4"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![bucket, range.start, range.end, limit], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, u64_col(r, 1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.map(|r| {
                let (key, size, etag, last_modified_ms) = r?;
                Ok(ObjectSummary {
                    key: key_string(key)?,
                    size,
                    etag,
                    last_modified_ms,
                })
            })
            .collect()
        })
        .await
    }

    async fn scan_versions(
        &self,
        bucket: &str,
        range: &KeyRange,
        after: Option<&VersionCursor>,
        limit: usize,
    ) -> Result<Vec<VersionSummary>> {
        let (bucket, range, after) = (bucket.to_owned(), range.clone(), after.cloned());
        self.read(move |c| objects::scan_versions_tx(c, &bucket, &range, after.as_ref(), limit))
            .await
    }

    async fn create_upload(&self, u: &UploadRecord) -> Result<()> {
        let u = u.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO uploads({UPLOAD_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    u.upload_id,
                    u.bucket,
                    u.key.as_bytes(),
                    u.initiated_ms,
                    u.owner.as_str(),
                    to_json(&u.doc)?
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn get_upload(&self, upload_id: &str) -> Result<Option<UploadRecord>> {
        let id = upload_id.to_owned();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {UPLOAD_COLS} FROM uploads WHERE upload_id = ?1"),
                params![id],
                raw_upload,
            )
            .optional()?
            .map(upload_from_raw)
            .transpose()
        })
        .await
    }

    async fn put_part(&self, p: &PartRecord) -> Result<Option<PartRecord>> {
        let p = p.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let old = tx
                .query_row(
                    &format!("SELECT {PART_COLS} FROM parts WHERE upload_id = ?1 AND part_number = ?2"),
                    params![p.upload_id, p.part_number],
                    part_from_row,
                )
                .optional()?;
            tx.execute(
                &format!("INSERT OR REPLACE INTO parts({PART_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    p.upload_id,
                    p.part_number,
                    p.blob_id,
                    i64::try_from(p.size).unwrap_or(i64::MAX),
                    p.etag,
                    p.checksum,
                    p.last_modified_ms
                ],
            )?;
            tx.commit()?;
            Ok(old)
        })
        .await
    }

    async fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>> {
        let id = upload_id.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PART_COLS} FROM parts WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![id, after, limit], part_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>> {
        let bucket = bucket.to_owned();
        let prefix = prefix.as_bytes().to_vec();
        let after = after.map(|(k, u)| (k.as_bytes().to_vec(), u.to_owned()));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            // substr on a BLOB counts bytes, so this is a byte-wise prefix test.
            // The marker upload is located by its id, and the page continues
            // after it in (initiated, id) order; an unknown id skips its key.
            let (marker_key, marker_upload) = after.clone().unwrap_or_default();
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {UPLOAD_COLS} FROM uploads WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 \
                 AND (key > ?3 OR (key = ?3 AND (initiated_ms, upload_id) > \
                 (SELECT initiated_ms, upload_id FROM uploads WHERE upload_id = ?4))) \
                 ORDER BY key, initiated_ms, upload_id LIMIT ?5"
            ))?;
            let rows = stmt.query_map(params![bucket, prefix, marker_key, marker_upload, limit], raw_upload)?;
            rows.map(|r| upload_from_raw(r?)).collect()
        })
        .await
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        object: &ObjectRecord,
        expect: &Expect,
    ) -> Result<Option<Written<(Option<ObjectRecord>, Vec<PartRecord>)>>> {
        let (id, object, expect) = (upload_id.to_owned(), object.clone(), expect.clone());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM uploads WHERE upload_id = ?1", params![id], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Ok(None);
            }
            if !expect.holds(get_object_tx(&tx, &object.bucket, &object.key)?.as_ref()) {
                return Ok(Some(Written::ConditionFailed));
            }
            let parts = parts_of(&tx, &id)?;
            let old = put_object_tx(&tx, &object)?;
            tx.execute("DELETE FROM uploads WHERE upload_id = ?1", params![id])?;
            tx.commit()?;
            Ok(Some(Written::Done((old, parts))))
        })
        .await
    }

    async fn abort_upload(&self, upload_id: &str) -> Result<Option<Vec<PartRecord>>> {
        let id = upload_id.to_owned();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let parts = parts_of(&tx, &id)?;
            if tx.execute("DELETE FROM uploads WHERE upload_id = ?1", params![id])? == 0 {
                return Ok(None);
            }
            tx.commit()?;
            Ok(Some(parts))
        })
        .await
    }

    async fn referenced_blobs(&self) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut set = HashSet::new();
            let mut stmt = c.prepare("SELECT doc FROM objects")?;
            for doc in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let doc: ObjectDoc = from_json(&doc?)?;
                set.extend(doc.segments.into_iter().map(|s| s.blob_id));
            }
            let mut stmt = c.prepare("SELECT blob_id FROM parts")?;
            for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
                set.insert(id?);
            }
            Ok(set)
        })
        .await
    }
}
