//! Object rows and the inline bytes of small objects (`object_data`): the
//! reads and writes every object operation runs inside its transaction.
use super::{from_json, key_string, to_json, u64_col};
use crate::records::{ObjectDoc, ObjectRecord, RECORD_VERSION};
use crate::{MetaError, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

const OBJECT_COLS: &str = "bucket, key, version_id, size, etag, last_modified_ms, doc";

type RawObject = (String, Vec<u8>, String, u64, String, i64, String);

fn raw_object(row: &Row) -> rusqlite::Result<RawObject> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        u64_col(row, 3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn object_from_raw(raw: RawObject) -> Result<ObjectRecord> {
    let (bucket, key, version_id, size, etag, last_modified_ms, doc) = raw;
    let doc: ObjectDoc = from_json(&doc)?;
    if doc.v != RECORD_VERSION {
        return Err(MetaError::Corrupt(format!("unknown object record version {}", doc.v)));
    }
    Ok(ObjectRecord {
        bucket,
        key: key_string(key)?,
        version_id,
        size,
        etag,
        last_modified_ms,
        doc,
    })
}

pub(super) fn get_object_tx(conn: &Connection, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLS} FROM objects WHERE bucket = ?1 AND key = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![bucket, key.as_bytes()], raw_object)
        .optional()?
        .map(object_from_raw)
        .transpose()
}

pub(super) fn put_object_tx(conn: &Connection, o: &ObjectRecord) -> Result<Option<ObjectRecord>> {
    let old = get_object_tx(conn, &o.bucket, &o.key)?;
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO objects({OBJECT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        o.bucket,
        o.key.as_bytes(),
        o.version_id,
        i64::try_from(o.size).unwrap_or(i64::MAX),
        o.etag,
        o.last_modified_ms,
        to_json(&o.doc)?
    ])?;
    for seg in o.doc.segments.iter().filter(|s| s.inline) {
        // A rewrite of the record itself (tags) carries no bytes: they stay.
        if let Some(data) = &seg.data {
            conn.prepare_cached("INSERT OR REPLACE INTO object_data(id, data) VALUES (?1, ?2)")?
                .execute(params![seg.blob_id, data.as_ref()])?;
        }
    }
    if let Some(old) = &old {
        drop_inline(conn, old, Some(o))?;
    }
    Ok(old)
}

/// Deletes the inline bytes of `old` that `new` (its replacement) does not keep.
pub(super) fn drop_inline(conn: &Connection, old: &ObjectRecord, new: Option<&ObjectRecord>) -> Result<()> {
    for seg in old.doc.segments.iter().filter(|s| s.inline) {
        let kept = new.is_some_and(|n| n.doc.segments.iter().any(|s| s.inline && s.blob_id == seg.blob_id));
        if !kept {
            conn.prepare_cached("DELETE FROM object_data WHERE id = ?1")?
                .execute(params![seg.blob_id])?;
        }
    }
    Ok(())
}

/// Fills in the sealed bytes of the object's inline segments.
pub(super) fn load_inline(conn: &Connection, o: &mut ObjectRecord) -> Result<()> {
    for seg in o.doc.segments.iter_mut().filter(|s| s.inline) {
        let data: Vec<u8> = conn
            .prepare_cached("SELECT data FROM object_data WHERE id = ?1")?
            .query_row(params![seg.blob_id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                MetaError::Corrupt(format!(
                    "inline data {} of {}/{} is missing",
                    seg.blob_id, o.bucket, o.key
                ))
            })?;
        seg.data = Some(bytes::Bytes::from(data));
    }
    Ok(())
}
