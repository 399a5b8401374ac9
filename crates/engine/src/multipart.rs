use crate::checksum::{self, ChecksumAlgorithm};
use crate::list::common_prefix;
use crate::stage;
use crate::stream::Digests;
use crate::{
    Engine, EngineError, MAX_PARTS, MAX_PUT_SIZE, MIN_PART_SIZE, NULL_VERSION, ObjectKeys, PutOptions, Result, now_ms,
    random_id,
};
use bytes::Bytes;
use futures::Stream;
use md5::Digest as _;
use strongbox_crypto::ObjectIdentity;
use strongbox_meta::{
    Expect, ObjectChecksum, ObjectDoc, ObjectRecord, PartRecord, RECORD_VERSION, Segment, UploadDoc, UploadRecord,
    Written,
};
use strongbox_types::{AccountId, ObjectKey};

/// One entry of a CompleteMultipartUpload request.
#[derive(Debug, Clone)]
pub struct CompletePart {
    pub part_number: u32,
    /// As sent, with or without quotes.
    pub etag: String,
    pub checksum: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PartsPage {
    pub upload: UploadRecord,
    pub parts: Vec<PartRecord>,
    pub is_truncated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UploadsPage {
    pub uploads: Vec<UploadRecord>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key (with its upload id) or common prefix on the page.
    pub next: Option<(String, Option<String>)>,
}

/// What ListMultipartUploads asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadsQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Exclusive (key marker, upload id marker).
    pub after: Option<(&'a str, &'a str)>,
    pub max: usize,
}

/// Upload rows fetched per store call while filling a page.
const UPLOAD_BATCH: usize = 1000;

impl Engine {
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &ObjectKey,
        owner: &AccountId,
        opts: PutOptions,
        checksum_type: Option<String>,
    ) -> Result<UploadRecord> {
        let keys = self.sse_s3_keys(bucket, key.as_str())?;
        self.create_upload_with(bucket, key, owner, opts, checksum_type, keys)
            .await
    }

    /// [`Engine::create_upload`] under keys the caller resolved; every part
    /// is then encrypted with them.
    pub async fn create_upload_with(
        &self,
        bucket: &str,
        key: &ObjectKey,
        owner: &AccountId,
        opts: PutOptions,
        checksum_type: Option<String>,
        keys: ObjectKeys,
    ) -> Result<UploadRecord> {
        opts.validate()?;
        let record = self.bucket(bucket).await?;
        // Checked now; the bucket default applies at completion.
        Self::lock_for_new(&record, opts.lock, now_ms())?;
        let encryption = keys.record;
        let algorithm = opts.store_checksum;
        let checksum_type = match (algorithm, checksum_type) {
            (None, Some(_)) => {
                return Err(EngineError::InvalidRequest(
                    "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.".into(),
                ));
            }
            (Some(a), Some(t)) if t == "FULL_OBJECT" && !a.is_crc() => {
                return Err(EngineError::InvalidRequest(format!(
                    "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                    a.as_str()
                )));
            }
            (Some(a), Some(t)) if t == "COMPOSITE" && a == ChecksumAlgorithm::Crc64Nvme => {
                return Err(EngineError::InvalidRequest(
                    "The COMPOSITE checksum type cannot be used with the CRC64NVME checksum algorithm.".into(),
                ));
            }
            (Some(_), Some(t)) if t != "FULL_OBJECT" && t != "COMPOSITE" => {
                return Err(EngineError::InvalidRequest(
                    "Value for x-amz-checksum-type header is invalid.".into(),
                ));
            }
            (Some(ChecksumAlgorithm::Crc64Nvme), None) => Some("FULL_OBJECT".to_owned()),
            (Some(_), None) => Some("COMPOSITE".to_owned()),
            (_, t) => t,
        };
        let upload = UploadRecord {
            upload_id: random_id(32)?,
            bucket: bucket.to_owned(),
            key: key.to_string(),
            initiated_ms: now_ms(),
            owner: owner.clone(),
            doc: UploadDoc {
                v: RECORD_VERSION,
                content: opts.content,
                user_meta: opts.user_meta,
                tags: opts.tags,
                checksum_algorithm: algorithm.map(|a| a.as_str().to_owned()),
                checksum_type,
                encryption,
                lock: opts.lock,
            },
        };
        self.meta.create_upload(&upload).await?;
        Ok(upload)
    }

    /// The upload, checked to belong to `bucket`/`key`.
    pub async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRecord> {
        self.bucket(bucket).await?;
        match self.meta.get_upload(upload_id).await? {
            Some(u) if u.bucket == bucket && u.key == key => Ok(u),
            _ => Err(EngineError::NoSuchUpload),
        }
    }

    /// Streams one part of an SSE-S3 upload.
    #[expect(clippy::too_many_arguments, reason = "mirrors the UploadPart request")]
    pub async fn upload_part<S, E>(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: S,
        compute: &[ChecksumAlgorithm],
        verify: impl FnOnce(&Digests) -> Result<()>,
    ) -> Result<PartRecord>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<crate::error::BoxError>,
    {
        let upload = self.upload(bucket, key, upload_id).await?;
        let keys = self.open_sse_s3(&upload.doc.encryption, bucket, key)?;
        self.upload_part_with(&upload, part_number, body, compute, keys, verify)
            .await
    }

    /// Streams one part of `upload`, encrypted with the upload's keys (which
    /// the caller recovered from its record) and bound to its part number.
    pub async fn upload_part_with<S, E>(
        &self,
        upload: &UploadRecord,
        part_number: i32,
        body: S,
        compute: &[ChecksumAlgorithm],
        keys: ObjectKeys,
        verify: impl FnOnce(&Digests) -> Result<()>,
    ) -> Result<PartRecord>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<crate::error::BoxError>,
    {
        let (bucket, key, upload_id) = (upload.bucket.as_str(), upload.key.as_str(), upload.upload_id.as_str());
        let part_number = u32::try_from(part_number)
            .ok()
            .filter(|n| (1..=MAX_PARTS).contains(n))
            .ok_or_else(|| {
                EngineError::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into())
            })?;
        let algorithm = upload
            .doc
            .checksum_algorithm
            .as_deref()
            .and_then(ChecksumAlgorithm::parse);
        let mut compute = compute.to_vec();
        compute.extend(algorithm.filter(|a| !compute.contains(a)));
        let identity = ObjectIdentity {
            bucket,
            key,
            version: NULL_VERSION,
            part: part_number,
        };
        // Parts stay in blob files: a completed upload's object refers to them.
        let staged = stage::stage(
            &self.blobs,
            &keys.layers(),
            &identity,
            body,
            &compute,
            MAX_PUT_SIZE,
            false,
        )
        .await?;
        verify(&staged.digests)?;
        let digests = staged.digests;
        let (blob_id, _) = staged.stored.commit().await?;
        let part = PartRecord {
            upload_id: upload_id.to_owned(),
            part_number,
            blob_id: blob_id.clone(),
            size: digests.size,
            etag: keys.etag(&digests.md5),
            checksum: algorithm.and_then(|a| digests.get(a)).map(checksum::b64),
            last_modified_ms: now_ms(),
        };
        match self.meta.put_part(&part).await {
            Ok(Some(old)) => self.release([old.blob_id]).await,
            Ok(None) => {}
            Err(e) => {
                self.release([blob_id]).await;
                // The upload may have completed or been aborted meanwhile.
                if self.meta.get_upload(upload_id).await?.is_none() {
                    return Err(EngineError::NoSuchUpload);
                }
                return Err(e.into());
            }
        }
        Ok(part)
    }

    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        requested: &[CompletePart],
        expect: &Expect,
    ) -> Result<ObjectRecord> {
        let upload = match self.upload(bucket, key, upload_id).await {
            Err(EngineError::NoSuchUpload) => return self.completed_before(bucket, key, upload_id, requested).await,
            other => other?,
        };
        self.check_expect(bucket, key, expect).await?;
        if requested.is_empty() {
            return Err(EngineError::MalformedXml);
        }
        if requested
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.part_number >= b.part_number))
        {
            return Err(EngineError::InvalidPartOrder);
        }
        let stored = self.meta.list_parts(upload_id, 0, MAX_PARTS as usize).await?;
        let mut chosen = Vec::with_capacity(requested.len());
        for req in requested {
            let part = stored
                .iter()
                .find(|p| p.part_number == req.part_number)
                .filter(|p| p.etag == req.etag.trim_matches('"'))
                .filter(|p| req.checksum.is_none() || req.checksum == p.checksum)
                .ok_or(EngineError::InvalidPart)?;
            chosen.push(part.clone());
        }
        if chosen.iter().rev().skip(1).any(|p| p.size < MIN_PART_SIZE) {
            return Err(EngineError::EntityTooSmall);
        }
        let mut record = assemble(&upload, &chosen)?;
        // The version id comes with completion, as S3's; the parts were
        // sealed under the null version before it existed.
        let bucket_record = self.bucket(bucket).await?;
        let version_id = self.version_for(&bucket_record)?;
        // The object exists from completion: a default retention runs from now.
        if upload.doc.lock.retention.is_none()
            && let Some(d) = bucket_record.object_lock.and_then(|l| l.default_retention)
        {
            record.doc.lock.retention = Some(strongbox_meta::Retention {
                mode: d.mode,
                until_ms: crate::lock::default_until(d.period, now_ms()),
            });
        }
        if version_id != NULL_VERSION {
            record.doc.sealed_version = Some(NULL_VERSION.to_owned());
            record.version_id = version_id;
        }
        let (old, all_parts) = match self.meta.complete_upload(upload_id, &record, expect).await? {
            // A concurrent duplicate of this request won the race.
            None => return self.completed_before(bucket, key, upload_id, requested).await,
            Some(Written::ConditionFailed) => return Err(EngineError::PreconditionFailed),
            Some(Written::Done(done)) => done,
        };
        let used: std::collections::HashSet<&str> = chosen.iter().map(|p| p.blob_id.as_str()).collect();
        let unused: Vec<String> = all_parts
            .into_iter()
            .map(|p| p.blob_id)
            .filter(|b| !used.contains(b.as_str()))
            .collect();
        self.release(unused).await;
        if let Some(old) = old {
            self.release(old.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                .await;
        }
        Ok(record)
    }

    /// A CompleteMultipartUpload retried after it succeeded: S3 answers with
    /// the completed object while it is still the one that upload made and
    /// the request names the same parts; anything else is NoSuchUpload.
    async fn completed_before(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        requested: &[CompletePart],
    ) -> Result<ObjectRecord> {
        let current = self.meta.get_object(bucket, key).await?;
        let same = |o: &ObjectRecord| {
            o.doc.upload_id.as_deref() == Some(upload_id)
                && o.doc.segments.len() == requested.len()
                && o.doc
                    .segments
                    .iter()
                    .zip(requested)
                    .all(|(s, r)| s.part_number == r.part_number && s.etag == r.etag.trim_matches('"'))
        };
        match current {
            Some(o) if same(&o) => Ok(o),
            _ => Err(EngineError::NoSuchUpload),
        }
    }

    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        self.upload(bucket, key, upload_id).await?;
        let parts = self
            .meta
            .abort_upload(upload_id)
            .await?
            .ok_or(EngineError::NoSuchUpload)?;
        self.release(parts.into_iter().map(|p| p.blob_id)).await;
        Ok(())
    }

    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> Result<PartsPage> {
        let upload = self.upload(bucket, key, upload_id).await?;
        let mut parts = self.meta.list_parts(upload_id, after, max.saturating_add(1)).await?;
        let is_truncated = parts.len() > max;
        parts.truncate(max);
        Ok(PartsPage {
            upload,
            parts,
            is_truncated,
        })
    }

    /// ListMultipartUploads: uploads after the markers in (key, initiated)
    /// order; with a delimiter, keys that contain it after the prefix roll up
    /// into common prefixes (each counts once toward `max`).
    pub async fn list_uploads(&self, bucket: &str, q: &UploadsQuery<'_>) -> Result<UploadsPage> {
        self.bucket(bucket).await?;
        let delimiter = q.delimiter.filter(|d| !d.is_empty());
        let rolled_up = |key: &str| {
            delimiter
                .and_then(|d| common_prefix(q.prefix, d, key))
                .map(str::to_owned)
        };
        let mut page = UploadsPage::default();
        if q.max == 0 {
            return Ok(page);
        }
        let mut cursor = q.after.map(|(k, u)| (k.to_owned(), u.to_owned()));
        // A key marker inside a rolled-up prefix continues after that prefix.
        let mut skip = q.after.and_then(|(k, _)| rolled_up(k));
        loop {
            let after = cursor.as_ref().map(|(k, u)| (k.as_str(), u.as_str()));
            let batch = self.meta.list_uploads(bucket, q.prefix, after, UPLOAD_BATCH).await?;
            let exhausted = batch.len() < UPLOAD_BATCH;
            for u in batch {
                cursor = Some((u.key.clone(), u.upload_id.clone()));
                if skip.as_deref().is_some_and(|p| u.key.starts_with(p)) {
                    continue;
                }
                if page.uploads.len() + page.common_prefixes.len() == q.max {
                    page.is_truncated = true;
                    return Ok(page);
                }
                match rolled_up(&u.key) {
                    Some(cp) => {
                        page.next = Some((cp.clone(), None));
                        page.common_prefixes.push(cp.clone());
                        skip = Some(cp);
                    }
                    None => {
                        page.next = Some((u.key.clone(), Some(u.upload_id.clone())));
                        page.uploads.push(u);
                    }
                }
            }
            if exhausted {
                return Ok(page);
            }
        }
    }
}

/// Builds the completed object's record: ETag `md5(md5_1 || … || md5_n)-n`
/// and the upload's checksum (composite, or full-object combined from part CRCs).
fn assemble(upload: &UploadRecord, parts: &[PartRecord]) -> Result<ObjectRecord> {
    let mut md5 = md5::Md5::new();
    for p in parts {
        md5.update(hex::decode(&p.etag).map_err(|_| EngineError::Internal("stored part etag is not hex".into()))?);
    }
    let n = parts.len();
    let etag = format!("{}-{n}", hex::encode(md5.finalize()));
    let checksum = match upload
        .doc
        .checksum_algorithm
        .as_deref()
        .and_then(ChecksumAlgorithm::parse)
    {
        Some(algorithm) => object_checksum(algorithm, upload.doc.checksum_type.as_deref(), parts)?,
        None => None,
    };
    Ok(ObjectRecord {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        version_id: NULL_VERSION.into(),
        size: parts.iter().map(|p| p.size).sum(),
        etag,
        last_modified_ms: now_ms(),
        doc: ObjectDoc {
            v: RECORD_VERSION,
            content: upload.doc.content.clone(),
            user_meta: upload.doc.user_meta.clone(),
            checksum,
            tags: upload.doc.tags.clone(),
            encryption: upload.doc.encryption.clone(),
            segments: parts
                .iter()
                .map(|p| Segment {
                    blob_id: p.blob_id.clone(),
                    size: p.size,
                    part_number: p.part_number,
                    etag: p.etag.clone(),
                    checksum: p.checksum.clone(),
                    ..Default::default()
                })
                .collect(),
            upload_id: Some(upload.upload_id.clone()),
            sealed_version: None,
            lock: upload.doc.lock,
        },
        delete_marker: false,
    })
}

fn object_checksum(
    algorithm: ChecksumAlgorithm,
    kind: Option<&str>,
    parts: &[PartRecord],
) -> Result<Option<ObjectChecksum>> {
    let raw: Option<Vec<Vec<u8>>> = parts
        .iter()
        .map(|p| p.checksum.as_deref().and_then(checksum::from_b64))
        .collect();
    let Some(raw) = raw else {
        return Ok(None);
    };
    let full = kind == Some("FULL_OBJECT");
    let value = if full {
        let sizes: Vec<u64> = parts.iter().map(|p| p.size).collect();
        checksum::b64(&checksum::combine(algorithm, &raw, &sizes).ok_or_else(|| {
            EngineError::Internal("full-object checksum cannot be combined for this algorithm".into())
        })?)
    } else {
        format!(
            "{}-{}",
            checksum::b64(&checksum::checksum_of(algorithm, &raw.concat())),
            parts.len()
        )
    };
    let kind = if full { "FULL_OBJECT" } else { "COMPOSITE" };
    Ok(Some(ObjectChecksum {
        algorithm: algorithm.as_str().into(),
        value,
        kind: kind.into(),
    }))
}
