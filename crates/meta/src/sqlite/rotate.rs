//! [`RootSealedStore`] for the SQLite adapter: one `BEGIN IMMEDIATE`
//! transaction on the writer connection walks the credentials, the SSE-S3
//! objects and uploads, and the KMS keys, re-sealing each item through the
//! [`Resealer`]. Tables that can be large are read in pages by primary key,
//! so memory stays bounded; rows are rewritten in place (their keys do not
//! change). JSON documents are parsed, changed in the encryption fields
//! only, and serialized again.
use super::{SqliteStore, from_json, key_string, run_blocking, to_json};
use crate::kms::{KMS_KEY_RECORD_VERSION, KmsKeyDoc};
use crate::records::{EncryptionRecord, ObjectDoc, RECORD_VERSION, UploadDoc};
use crate::rotate::{ResealCounts, Resealer, RootSealed, RootSealedStore, SSE_S3_SCHEME};
use crate::{MetaError, Result};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::Arc;

/// Rows read per page of a large table.
const PAGE: i64 = 256;

#[async_trait]
impl RootSealedStore for SqliteStore {
    async fn sample_sealed_secret(&self) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT secret_sealed FROM credentials ORDER BY is_root DESC, access_key LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn reseal_root_sealed(&self, mut resealer: Box<dyn Resealer>) -> Result<ResealCounts> {
        let conn = Arc::clone(&self.writer);
        run_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| MetaError::Task("writer lock poisoned".into()))?;
            reseal_all(&mut guard, resealer.as_mut())
        })
        .await
    }
}

fn reseal_all(c: &mut Connection, r: &mut dyn Resealer) -> Result<ResealCounts> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let counts = ResealCounts {
        credentials: credentials(&tx, r)?,
        objects: objects(&tx, r)?,
        uploads: uploads(&tx, r)?,
        kms_materials: kms_materials(&tx, r)?,
        mfa_seeds: mfa_seeds(&tx, r)?,
    };
    // Dropping `tx` on an earlier `?` rolls everything back.
    tx.commit()?;
    Ok(counts)
}

fn reseal(r: &mut dyn Resealer, item: RootSealed<'_>, old: &[u8]) -> Result<Vec<u8>> {
    r.reseal(item, old).map_err(MetaError::Reseal)
}

/// Whether the record's data key is wrapped under the root key.
fn is_sse_s3(e: &EncryptionRecord) -> bool {
    e.scheme == SSE_S3_SCHEME && e.customer_key_hmac.is_none()
}

/// Re-wraps an SSE-S3 record's data key and names the new key-encryption key.
fn rewrap(e: &mut EncryptionRecord, r: &mut dyn Resealer, item: RootSealed<'_>) -> Result<()> {
    e.wrapped_key = reseal(r, item, &e.wrapped_key)?;
    e.kek_id = r.new_kek_id().to_owned();
    Ok(())
}

fn credentials(c: &Connection, r: &mut dyn Resealer) -> Result<u64> {
    // Credentials are few (IAM quotas bound them), so one read is enough.
    let rows = {
        let mut stmt = c.prepare("SELECT access_key, secret_sealed FROM credentials ORDER BY access_key")?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut n = 0;
    for (access_key, sealed) in rows {
        let new = reseal(
            r,
            RootSealed::CredentialSecret {
                access_key: &access_key,
            },
            &sealed,
        )?;
        c.execute(
            "UPDATE credentials SET secret_sealed = ?2 WHERE access_key = ?1",
            params![access_key, new],
        )?;
        n += 1;
    }
    Ok(n)
}

fn mfa_seeds(c: &Connection, r: &mut dyn Resealer) -> Result<u64> {
    // MFA devices are few (8 per user), so one read is enough.
    let rows = {
        let mut stmt = c.prepare("SELECT serial, seed_sealed FROM iam_mfa_devices ORDER BY serial")?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut n = 0;
    for (serial, sealed) in rows {
        let new = reseal(r, RootSealed::MfaSeed { serial: &serial }, &sealed)?;
        c.execute(
            "UPDATE iam_mfa_devices SET seed_sealed = ?2 WHERE serial = ?1",
            params![serial, new],
        )?;
        n += 1;
    }
    Ok(n)
}

type ObjectRow = (String, Vec<u8>, i64, String);

fn object_page(c: &Connection, after: Option<&(String, Vec<u8>, i64)>) -> Result<Vec<ObjectRow>> {
    let (bucket, key, seq) = after.map(|(b, k, s)| (Some(b), Some(k), Some(*s))).unwrap_or_default();
    // Primary-key order (bucket, key, seq DESC), resumed after the last row.
    let mut stmt = c.prepare_cached(
        "SELECT bucket, key, seq, doc FROM objects WHERE ?1 IS NULL OR (bucket, key) > (?1, ?2) \
         OR (bucket = ?1 AND key = ?2 AND seq < ?3) ORDER BY bucket, key, seq DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![bucket, key, seq, PAGE], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn objects(c: &Connection, r: &mut dyn Resealer) -> Result<u64> {
    let mut after = None;
    let mut n = 0;
    loop {
        let page = object_page(c, after.as_ref())?;
        let Some((bucket, key, seq, _)) = page.last() else {
            return Ok(n);
        };
        after = Some((bucket.clone(), key.clone(), *seq));
        for (bucket, key, seq, doc) in page {
            let mut doc: ObjectDoc = from_json(&doc)?;
            if doc.v != RECORD_VERSION {
                return Err(MetaError::Corrupt(format!("unknown object record version {}", doc.v)));
            }
            if !is_sse_s3(&doc.encryption) {
                continue;
            }
            let name = key_string(key.clone())?;
            let item = RootSealed::ObjectDataKey {
                bucket: &bucket,
                key: &name,
            };
            rewrap(&mut doc.encryption, r, item)?;
            c.execute(
                "UPDATE objects SET doc = ?4 WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
                params![bucket, key, seq, to_json(&doc)?],
            )?;
            n += 1;
        }
    }
}

type UploadRow = (String, String, Vec<u8>, String);

fn upload_page(c: &Connection, after: Option<&str>) -> Result<Vec<UploadRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT upload_id, bucket, key, doc FROM uploads WHERE ?1 IS NULL OR upload_id > ?1 \
         ORDER BY upload_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, PAGE], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn uploads(c: &Connection, r: &mut dyn Resealer) -> Result<u64> {
    let mut after: Option<String> = None;
    let mut n = 0;
    loop {
        let page = upload_page(c, after.as_deref())?;
        let Some((last, ..)) = page.last() else {
            return Ok(n);
        };
        after = Some(last.clone());
        for (upload_id, bucket, key, doc) in page {
            let mut doc: UploadDoc = from_json(&doc)?;
            if doc.v != RECORD_VERSION {
                return Err(MetaError::Corrupt(format!("unknown upload record version {}", doc.v)));
            }
            if !is_sse_s3(&doc.encryption) {
                continue;
            }
            let name = key_string(key)?;
            let item = RootSealed::UploadDataKey {
                bucket: &bucket,
                key: &name,
                upload_id: &upload_id,
            };
            rewrap(&mut doc.encryption, r, item)?;
            c.execute(
                "UPDATE uploads SET doc = ?2 WHERE upload_id = ?1",
                params![upload_id, to_json(&doc)?],
            )?;
            n += 1;
        }
    }
}

fn kms_page(c: &Connection, after: Option<&str>) -> Result<Vec<(String, String)>> {
    let mut stmt =
        c.prepare_cached("SELECT key_id, doc FROM kms_keys WHERE ?1 IS NULL OR key_id > ?1 ORDER BY key_id LIMIT ?2")?;
    let rows = stmt.query_map(params![after, PAGE], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn kms_materials(c: &Connection, r: &mut dyn Resealer) -> Result<u64> {
    let mut after: Option<String> = None;
    let mut n = 0;
    loop {
        let page = kms_page(c, after.as_deref())?;
        let Some((last, _)) = page.last() else {
            return Ok(n);
        };
        after = Some(last.clone());
        for (key_id, doc) in page {
            let mut doc: KmsKeyDoc = from_json(&doc)?;
            if doc.v != KMS_KEY_RECORD_VERSION {
                return Err(MetaError::Corrupt(format!("unknown KMS key record version {}", doc.v)));
            }
            if doc.materials.is_empty() {
                continue;
            }
            for m in &mut doc.materials {
                let item = RootSealed::KmsMaterial {
                    key_id: &key_id,
                    version: m.version,
                };
                m.sealed = reseal(r, item, &m.sealed)?;
                n += 1;
            }
            // The document changed, so its revision moves on (a stale copy
            // read before the rotation cannot be written back).
            c.execute(
                "UPDATE kms_keys SET doc = ?2, revision = revision + 1 WHERE key_id = ?1",
                params![key_id, to_json(&doc)?],
            )?;
        }
    }
}
