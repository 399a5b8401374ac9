//! Object rows and the inline bytes of small objects (`object_data`): the
//! reads and writes every object operation runs inside its transaction.
use super::{from_json, key_string, to_json, u64_col};
use crate::records::{
    KeyRange, LockCheck, NULL_VERSION, ObjectDoc, ObjectRecord, RECORD_VERSION, VersionCursor, VersionSummary,
};
use crate::{Deletion, MetaError, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

const OBJECT_COLS: &str = "bucket, key, version_id, marker, size, etag, last_modified_ms, doc";

type RawObject = (String, Vec<u8>, String, bool, u64, String, i64, String);

fn raw_object(row: &Row) -> rusqlite::Result<RawObject> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        u64_col(row, 4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn object_from_raw(raw: RawObject) -> Result<ObjectRecord> {
    let (bucket, key, version_id, delete_marker, size, etag, last_modified_ms, doc) = raw;
    let doc: ObjectDoc = from_json(&doc)?;
    if doc.v != RECORD_VERSION {
        return Err(MetaError::Corrupt(format!("unknown object record version {}", doc.v)));
    }
    Ok(ObjectRecord {
        bucket,
        key: key_string(key)?,
        version_id,
        delete_marker,
        size,
        etag,
        last_modified_ms,
        doc,
    })
}

/// The key's latest version, delete markers included.
pub(super) fn latest_tx(conn: &Connection, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLS} FROM objects WHERE bucket = ?1 AND key = ?2 ORDER BY seq DESC LIMIT 1");
    conn.prepare_cached(&sql)?
        .query_row(params![bucket, key.as_bytes()], raw_object)
        .optional()?
        .map(object_from_raw)
        .transpose()
}

/// The current object: the latest version unless it is a delete marker.
pub(super) fn get_object_tx(conn: &Connection, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
    Ok(latest_tx(conn, bucket, key)?.filter(|o| !o.delete_marker))
}

pub(super) fn version_tx(conn: &Connection, bucket: &str, key: &str, version_id: &str) -> Result<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
    conn.prepare_cached(&sql)?
        .query_row(params![bucket, key.as_bytes(), version_id], raw_object)
        .optional()?
        .map(object_from_raw)
        .transpose()
}

/// Adds `o` as the latest version (replacing the null version when `o` is
/// one); returns the null version it replaced.
pub(super) fn put_object_tx(conn: &Connection, o: &ObjectRecord) -> Result<Option<ObjectRecord>> {
    let (bucket, key) = (o.bucket.as_str(), o.key.as_bytes());
    let old = if o.version_id == NULL_VERSION {
        let old = version_tx(conn, bucket, &o.key, NULL_VERSION)?;
        if old.is_some() {
            conn.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
                .execute(params![bucket, key, NULL_VERSION])?;
        }
        old
    } else {
        None
    };
    let top: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM objects WHERE bucket = ?1 AND key = ?2")?
        .query_row(params![bucket, key], |r| r.get(0))?;
    conn.prepare_cached("UPDATE objects SET latest = 0 WHERE bucket = ?1 AND key = ?2 AND latest = 1")?
        .execute(params![bucket, key])?;
    conn.prepare_cached(&format!(
        "INSERT INTO objects(seq, latest, {OBJECT_COLS}) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        top.unwrap_or(0).saturating_add(1),
        bucket,
        key,
        o.version_id,
        o.delete_marker,
        i64::try_from(o.size).unwrap_or(i64::MAX),
        o.etag,
        o.last_modified_ms,
        to_json(&o.doc)?
    ])?;
    store_inline(conn, o)?;
    if let Some(old) = &old {
        drop_inline(conn, old, Some(o))?;
    }
    Ok(old)
}

/// Rewrites the document of an existing version in place (tags); its bytes stay.
pub(super) fn rewrite_doc_tx(conn: &Connection, o: &ObjectRecord) -> Result<bool> {
    let n = conn
        .prepare_cached("UPDATE objects SET doc = ?4 WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
        .execute(params![o.bucket, o.key.as_bytes(), o.version_id, to_json(&o.doc)?])?;
    Ok(n == 1)
}

/// Removes one version; the newest remaining one becomes the latest.
pub(super) fn delete_version_tx(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version_id: &str,
    check: &LockCheck,
) -> Result<Deletion> {
    let Some(old) = version_tx(conn, bucket, key, version_id)? else {
        return Ok(Deletion::Missing);
    };
    if let Some(block) = old.doc.lock.blocks_delete(check) {
        return Ok(Deletion::Locked(block));
    }
    conn.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
        .execute(params![bucket, key.as_bytes(), version_id])?;
    conn.prepare_cached(
        "UPDATE objects SET latest = 1 WHERE bucket = ?1 AND key = ?2 AND latest = 0 \
         AND seq = (SELECT max(seq) FROM objects WHERE bucket = ?1 AND key = ?2)",
    )?
    .execute(params![bucket, key.as_bytes()])?;
    drop_inline(conn, &old, None)?;
    Ok(Deletion::Removed(Box::new(old)))
}

fn store_inline(conn: &Connection, o: &ObjectRecord) -> Result<()> {
    for seg in o.doc.segments.iter().filter(|s| s.inline) {
        if let Some(data) = &seg.data {
            conn.prepare_cached("INSERT OR REPLACE INTO object_data(id, data) VALUES (?1, ?2)")?
                .execute(params![seg.blob_id, data.as_ref()])?;
        }
    }
    Ok(())
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

type RawVersion = (Vec<u8>, String, bool, bool, u64, String, i64);

fn raw_version(r: &Row) -> rusqlite::Result<RawVersion> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        u64_col(r, 4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn version_summary(raw: RawVersion) -> Result<VersionSummary> {
    let (key, version_id, is_latest, delete_marker, size, etag, last_modified_ms) = raw;
    Ok(VersionSummary {
        key: key_string(key)?,
        version_id,
        is_latest,
        delete_marker,
        size,
        etag,
        last_modified_ms,
    })
}

/// ListObjectVersions order (key ascending, newest first within a key),
/// each part an index seek on the primary key (bucket, key, seq DESC).
pub(super) fn scan_versions_tx(
    conn: &Connection,
    bucket: &str,
    range: &KeyRange,
    after: Option<&VersionCursor>,
    limit: usize,
) -> Result<Vec<VersionSummary>> {
    let mut out = Vec::new();
    let mut range = range.clone();
    if let Some(cur) = after {
        let key = cur.key.as_bytes();
        let in_range = (key > range.start.as_slice() || (range.start_inclusive && key == range.start.as_slice()))
            && range.end.as_deref().is_none_or(|end| key < end);
        let seq: Option<i64> = conn
            .prepare_cached("SELECT seq FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
            .query_row(params![bucket, key, cur.version_id], |r| r.get(0))
            .optional()?;
        if let (true, Some(seq)) = (in_range, seq) {
            let mut stmt = conn.prepare_cached(
                "SELECT key, version_id, latest, marker, size, etag, last_modified_ms FROM objects \
                 WHERE bucket = ?1 AND key = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4",
            )?;
            let n = i64::try_from(limit).unwrap_or(i64::MAX);
            for row in stmt.query_map(params![bucket, key, seq, n], raw_version)? {
                out.push(version_summary(row?)?);
            }
        }
        if key >= range.start.as_slice() {
            range.start = key.to_vec();
            range.start_inclusive = false;
        }
    }
    let left = limit.saturating_sub(out.len());
    if left == 0 {
        return Ok(out);
    }
    let op = if range.start_inclusive { ">=" } else { ">" };
    let sql = format!(
        "SELECT key, version_id, latest, marker, size, etag, last_modified_ms FROM objects \
         WHERE bucket = ?1 AND key {op} ?2 AND (?3 IS NULL OR key < ?3) ORDER BY key, seq DESC LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let n = i64::try_from(left).unwrap_or(i64::MAX);
    for row in stmt.query_map(params![bucket, range.start, range.end, n], raw_version)? {
        out.push(version_summary(row?)?);
    }
    Ok(out)
}
