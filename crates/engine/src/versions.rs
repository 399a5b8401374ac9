//! Versioning: the bucket's state machine, version ids, delete markers,
//! deletes of one version, and ListObjectVersions over ordered scans.
//!
//! The metadata store keeps every version of a key in one stack (newest
//! first); what a write does to it follows from the version id the engine
//! gives the record: the null version replaces the null version, any other
//! id is added. So an unversioned and a suspended bucket write the same way,
//! and only DELETE without a version id tells them apart.
use crate::list::{common_prefix, successor};
use crate::{Engine, EngineError, NULL_VERSION, Result, now_ms, random_id};
use strongbox_meta::{
    BucketRecord, BucketUpdate, BucketVersioning, ContentHeaders, Deletion, EncryptionRecord, Expect, KeyRange,
    LockCheck, ObjectDoc, ObjectRecord, RECORD_VERSION, VersionCursor, VersionSummary, VersioningState, Written,
};

/// Random bytes in a version id (rendered as 32 hex digits).
const VERSION_ID_BYTES: usize = 16;
/// Rows fetched per store call while filling a page.
const SCAN_BATCH: usize = 1000;

/// Whether `v` is a version id this server could have issued: `null` or 32
/// lowercase hex digits. Anything else is AWS's 400 "Invalid version id specified".
pub fn valid_version_id(v: &str) -> bool {
    v == NULL_VERSION || (v.len() == VERSION_ID_BYTES * 2 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// What a DELETE did, for its `x-amz-delete-marker` / `x-amz-version-id` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The version removed, or the delete marker added.
    pub version_id: Option<String>,
    /// A delete marker was added, or the version removed was one.
    pub delete_marker: bool,
}

#[derive(Debug, Clone, Default)]
pub struct VersionsQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct VersionsPage {
    /// Versions and delete markers, in order.
    pub versions: Vec<VersionSummary>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// NextKeyMarker / NextVersionIdMarker when truncated.
    pub next_key: Option<String>,
    pub next_version: Option<String>,
}

impl Engine {
    /// The version id a write to `bucket` gets now.
    pub(crate) fn version_for(&self, bucket: &BucketRecord) -> Result<String> {
        match bucket.versioning_state() {
            VersioningState::Enabled => random_id(VERSION_ID_BYTES),
            VersioningState::Unversioned | VersioningState::Suspended => Ok(NULL_VERSION.to_owned()),
        }
    }

    /// PutBucketVersioning's state change (never back to unversioned; the
    /// caller checks MFA before; the store refuses suspending under Object Lock).
    pub async fn set_versioning(&self, bucket: &str, versioning: BucketVersioning) -> Result<()> {
        match self.meta.set_bucket_versioning(bucket, &versioning).await? {
            BucketUpdate::Done => Ok(()),
            BucketUpdate::NotFound => Err(EngineError::NoSuchBucket),
            BucketUpdate::Refused => Err(EngineError::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                    .into(),
            )),
        }
    }

    /// One version of the key (`None`: the latest), or NoSuchKey / NoSuchVersion /
    /// DeleteMarker. A version id this server never issues is InvalidArgument.
    pub async fn object_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<ObjectRecord> {
        if let Some(v) = version_id
            && !valid_version_id(v)
        {
            return Err(EngineError::InvalidArgument("Invalid version id specified".into()));
        }
        match self.meta.get_version(bucket, key, version_id).await? {
            Some(o) if o.delete_marker => Err(EngineError::DeleteMarker {
                version_id: o.version_id,
                by_version: version_id.is_some(),
            }),
            Some(o) => Ok(o),
            None => {
                self.bucket(bucket).await?;
                Err(match version_id {
                    // An unversioned key asked for by `null` is simply missing.
                    Some(v) if v != NULL_VERSION => EngineError::NoSuchVersion,
                    _ => EngineError::NoSuchKey,
                })
            }
        }
    }

    /// DELETE: with a version id, that version goes for good (a missing one
    /// is no error, as S3); without, an unversioned bucket drops the object
    /// and a versioned one stacks a delete marker (suspended: the null one,
    /// replacing the null version). A version Object Lock holds stays
    /// (ObjectLocked); `bypass_governance` lifts governance retention only.
    pub async fn delete(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        bypass_governance: bool,
    ) -> Result<Deleted> {
        let record = self.bucket(bucket).await?;
        if let Some(v) = version_id {
            if !valid_version_id(v) {
                return Err(EngineError::InvalidArgument("Invalid version id specified".into()));
            }
            let check = LockCheck {
                now_ms: now_ms(),
                bypass_governance,
            };
            let removed = match self.meta.delete_version(bucket, key, v, &check).await? {
                Deletion::Removed(o) => Some(*o),
                Deletion::Missing => None,
                Deletion::Locked(_) => return Err(EngineError::ObjectLocked),
            };
            let delete_marker = removed.as_ref().is_some_and(|o| o.delete_marker);
            if let Some(old) = removed {
                self.release(old.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                    .await;
            }
            return Ok(Deleted {
                version_id: Some(v.to_owned()),
                delete_marker,
            });
        }
        if record.versioning_state() == VersioningState::Unversioned {
            let check = LockCheck {
                now_ms: now_ms(),
                bypass_governance,
            };
            let removed = match self.meta.delete_version(bucket, key, NULL_VERSION, &check).await? {
                Deletion::Removed(o) => Some(*o),
                Deletion::Missing => None,
                Deletion::Locked(_) => return Err(EngineError::ObjectLocked),
            };
            if let Some(old) = removed {
                self.release(old.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                    .await;
            }
            return Ok(Deleted::default());
        }
        let marker = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: self.version_for(&record)?,
            delete_marker: true,
            size: 0,
            etag: String::new(),
            last_modified_ms: now_ms(),
            doc: ObjectDoc {
                v: RECORD_VERSION,
                content: ContentHeaders::default(),
                user_meta: Vec::new(),
                checksum: None,
                tags: Vec::new(),
                encryption: EncryptionRecord::default(),
                segments: Vec::new(),
                upload_id: None,
                sealed_version: None,
                lock: Default::default(),
            },
        };
        let replaced = match self.meta.put_object(&marker, &Expect::Any).await? {
            Written::Done(r) => r,
            Written::ConditionFailed => return Err(EngineError::Internal("an unconditional write failed".into())),
        };
        if let Some(old) = replaced {
            self.release(old.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                .await;
        }
        Ok(Deleted {
            version_id: Some(marker.version_id),
            delete_marker: true,
        })
    }

    /// ListObjectVersions: by key, newest first within a key, with the
    /// delimiter's roll-up skipping a whole prefix in one seek.
    pub async fn list_versions(&self, bucket: &str, q: &VersionsQuery) -> Result<VersionsPage> {
        self.bucket(bucket).await?;
        let mut page = VersionsPage::default();
        if q.max_keys == 0 {
            return Ok(page);
        }
        let mut range = KeyRange {
            start: q.prefix.as_bytes().to_vec(),
            start_inclusive: true,
            end: successor(q.prefix.as_bytes()),
        };
        let mut cursor = None;
        if let Some(km) = q.key_marker.as_deref().filter(|k| !k.is_empty()) {
            match q.version_id_marker.as_deref().filter(|v| !v.is_empty()) {
                // Within the marker key, after that version; then later keys.
                Some(v) => {
                    if !valid_version_id(v) {
                        return Err(EngineError::InvalidArgument("Invalid version id specified".into()));
                    }
                    cursor = Some(VersionCursor {
                        key: km.to_owned(),
                        version_id: v.to_owned(),
                    });
                }
                None if km.as_bytes() >= range.start.as_slice() => {
                    range.start = km.as_bytes().to_vec();
                    range.start_inclusive = false;
                    if let Some(cp) = q.delimiter.as_deref().and_then(|d| common_prefix(&q.prefix, d, km))
                        && let Some(next) = successor(cp.as_bytes())
                    {
                        range.start = next;
                        range.start_inclusive = true;
                    }
                }
                None => {}
            }
        }
        let mut count = 0;
        loop {
            let limit = SCAN_BATCH.min(q.max_keys.saturating_sub(count) + 1);
            let batch = self.meta.scan_versions(bucket, &range, cursor.as_ref(), limit).await?;
            let exhausted = batch.len() < limit;
            let mut reseek = None;
            for v in batch {
                if count == q.max_keys {
                    page.is_truncated = true;
                    return Ok(page);
                }
                match q.delimiter.as_deref().and_then(|d| common_prefix(&q.prefix, d, &v.key)) {
                    Some(cp) => {
                        page.next_key = Some(cp.to_owned());
                        page.next_version = None;
                        page.common_prefixes.push(cp.to_owned());
                        count += 1;
                        match successor(cp.as_bytes()) {
                            Some(next) => {
                                reseek = Some(next);
                                break;
                            }
                            None => return Ok(page.finished()),
                        }
                    }
                    None => {
                        page.next_key = Some(v.key.clone());
                        page.next_version = Some(v.version_id.clone());
                        cursor = Some(VersionCursor {
                            key: v.key.clone(),
                            version_id: v.version_id.clone(),
                        });
                        page.versions.push(v);
                        count += 1;
                    }
                }
            }
            match reseek {
                Some(next) => {
                    range.start = next;
                    range.start_inclusive = true;
                    cursor = None;
                }
                None if exhausted => return Ok(page.finished()),
                None => {}
            }
        }
    }
}

impl VersionsPage {
    /// An untruncated page has no next markers.
    fn finished(mut self) -> Self {
        self.next_key = None;
        self.next_version = None;
        self
    }
}
