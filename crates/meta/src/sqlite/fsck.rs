//! The metadata half of `strongbox admin fsck` (see `crate::fsck`).
use super::{SqliteStore, from_json, key_string, u64_col};
use crate::fsck::{INLINE_HEAD_LEN, InlineRow, MetaInventory, StoredRef};
use crate::records::{ObjectDoc, UploadDoc};
use crate::{MetaError, Result};
use rusqlite::{Connection, params};
use std::collections::HashSet;

impl SqliteStore {
    /// Every reference to stored bytes and every inline row, read in one
    /// transaction so the snapshot is consistent.
    pub async fn fsck_inventory(&self) -> Result<MetaInventory> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let mut inv = MetaInventory::default();
            object_refs(&tx, &mut inv)?;
            part_refs(&tx, &mut inv)?;
            inv.inline_rows = inline_rows(&tx)?;
            Ok(inv)
        })
        .await
    }

    /// Deletes the given `object_data` rows, but only those no object record
    /// references at the time of deletion (checked in the same transaction).
    /// Returns the ids it deleted.
    pub async fn remove_orphan_inline_rows(&self, ids: Vec<String>) -> Result<Vec<String>> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut inv = MetaInventory::default();
            object_refs(&tx, &mut inv)?;
            if !inv.unreadable.is_empty() {
                // An unreadable record may reference any row: delete nothing.
                return Ok(Vec::new());
            }
            let referenced: HashSet<&str> = inv
                .refs
                .iter()
                .filter(|r| r.inline)
                .map(|r| r.blob_id.as_str())
                .collect();
            let mut removed = Vec::new();
            for id in ids.iter().filter(|id| !referenced.contains(id.as_str())) {
                if tx.execute("DELETE FROM object_data WHERE id = ?1", params![id])? > 0 {
                    removed.push(id.clone());
                }
            }
            tx.commit()?;
            Ok(removed)
        })
        .await
    }
}

fn object_refs(c: &Connection, inv: &mut MetaInventory) -> Result<()> {
    let mut stmt = c.prepare("SELECT bucket, key, version_id, doc FROM objects ORDER BY bucket, key, seq DESC")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (bucket, key, version, doc) = row?;
        inv.objects += 1;
        let key = key_string(key).unwrap_or_else(|e| format!("<{e}>"));
        let owner = if version == crate::NULL_VERSION {
            format!("object {bucket}/{key}")
        } else {
            format!("object {bucket}/{key} version {version}")
        };
        match from_json::<ObjectDoc>(&doc) {
            Ok(doc) => inv.refs.extend(doc.segments.into_iter().map(|s| StoredRef {
                owner: owner.clone(),
                blob_id: s.blob_id,
                plain_size: s.size,
                scheme: doc.encryption.scheme.clone(),
                inline: s.inline,
            })),
            Err(e) => inv.unreadable.push(format!("{owner}: {e}")),
        }
    }
    Ok(())
}

fn part_refs(c: &Connection, inv: &mut MetaInventory) -> Result<()> {
    let mut stmt = c.prepare(
        "SELECT p.upload_id, p.part_number, p.blob_id, p.size, u.bucket, u.key, u.doc
         FROM parts p LEFT JOIN uploads u ON u.upload_id = p.upload_id
         ORDER BY p.upload_id, p.part_number",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            u64_col(r, 3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<Vec<u8>>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    for row in rows {
        let (upload_id, number, blob_id, size, bucket, key, doc) = row?;
        inv.parts += 1;
        let key = key.map(|k| key_string(k).unwrap_or_else(|e| format!("<{e}>")));
        let owner = format!(
            "part {number} of upload {upload_id} ({}/{})",
            bucket.unwrap_or_default(),
            key.unwrap_or_default()
        );
        let doc = doc
            .ok_or_else(|| MetaError::Corrupt("the part's upload row is missing".into()))
            .and_then(|d| from_json::<UploadDoc>(&d));
        match doc {
            Ok(doc) => inv.refs.push(StoredRef {
                owner,
                blob_id,
                plain_size: size,
                scheme: doc.encryption.scheme,
                inline: false,
            }),
            Err(e) => inv.unreadable.push(format!("{owner}: {e}")),
        }
    }
    Ok(())
}

fn inline_rows(c: &Connection) -> Result<Vec<InlineRow>> {
    let mut stmt = c.prepare("SELECT id, length(data), substr(data, 1, ?1) FROM object_data ORDER BY id")?;
    let head_len = i64::try_from(INLINE_HEAD_LEN).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![head_len], |r| {
        Ok(InlineRow {
            id: r.get(0)?,
            len: u64_col(r, 1)?,
            head: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
