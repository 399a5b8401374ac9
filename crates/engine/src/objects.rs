use crate::checksum::ChecksumAlgorithm;
use crate::stage;
use crate::stream::{self, ByteStream, Digests, Owner, SegmentPlan};
use crate::{Engine, EngineError, MAX_PUT_SIZE, MAX_USER_METADATA, ObjectKeys, Result, now_ms};
use bytes::Bytes;
use futures::Stream;
use std::ops::Range;
use std::sync::Arc;
use strongbox_crypto::ObjectIdentity;
use strongbox_meta::{
    ContentHeaders, Expect, ObjectChecksum, ObjectDoc, ObjectLock, ObjectRecord, RECORD_VERSION, Segment, Tag, Written,
};
use strongbox_types::ObjectKey;

/// Everything a new object carries besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub content: ContentHeaders,
    pub user_meta: Vec<(String, String)>,
    pub tags: Vec<Tag>,
    /// Checksums to compute while streaming (for verification).
    pub compute: Vec<ChecksumAlgorithm>,
    /// The checksum to store and return (one of `compute`).
    pub store_checksum: Option<ChecksumAlgorithm>,
    /// Conditional write: what must hold of the current object.
    pub expect: Expect,
    /// Object Lock the request asks for (the bucket default fills in a
    /// missing retention).
    pub lock: ObjectLock,
}

impl PutOptions {
    pub fn validate(&self) -> Result<()> {
        let meta_size: usize = self.user_meta.iter().map(|(k, v)| k.len() + v.len()).sum();
        if meta_size > MAX_USER_METADATA {
            return Err(EngineError::MetadataTooLarge);
        }
        crate::validate_object_tags(&self.tags)
    }
}

impl Engine {
    /// Streams `body` into a new encrypted object. `verify` sees the digests
    /// once the body has fully arrived (trailers included) and may reject the
    /// upload; only after it passes is the blob made durable and the metadata
    /// committed. The previous object under the key stays intact until then.
    pub async fn put_object<S, E>(
        &self,
        bucket: &str,
        key: &ObjectKey,
        body: S,
        opts: PutOptions,
        verify: impl FnOnce(&Digests) -> Result<()>,
    ) -> Result<ObjectRecord>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<crate::error::BoxError>,
    {
        let keys = self.sse_s3_keys(bucket, key.as_str())?;
        self.put_object_with(bucket, key, body, opts, keys, verify).await
    }

    /// [`Engine::put_object`] under keys the caller resolved (any SSE mode).
    pub async fn put_object_with<S, E>(
        &self,
        bucket: &str,
        key: &ObjectKey,
        body: S,
        opts: PutOptions,
        keys: ObjectKeys,
        verify: impl FnOnce(&Digests) -> Result<()>,
    ) -> Result<ObjectRecord>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<crate::error::BoxError>,
    {
        opts.validate()?;
        let record = self.bucket(bucket).await?;
        // The bucket's versioning state as the request starts decides the
        // version id, which the chunks' associated data binds.
        let version_id = self.version_for(&record)?;
        let lock = Self::lock_for_new(&record, opts.lock, now_ms())?;
        // Fail fast before reading the body; the commit checks again atomically.
        self.check_expect(bucket, key.as_str(), &opts.expect).await?;
        let identity = ObjectIdentity {
            bucket,
            key: key.as_str(),
            version: &version_id,
            part: 0,
        };
        let staged = stage::stage(
            &self.blobs,
            &keys.layers(),
            &identity,
            body,
            &opts.compute,
            MAX_PUT_SIZE,
            true,
        )
        .await?;
        verify(&staged.digests)?;
        let digests = staged.digests;
        let (blob_id, data) = staged.stored.commit().await?;
        let etag = keys.etag(&digests.md5);
        let checksum = opts.store_checksum.and_then(|a| {
            digests.get(a).map(|v| ObjectChecksum {
                algorithm: a.as_str().into(),
                value: crate::checksum::b64(v),
                kind: "FULL_OBJECT".into(),
            })
        });
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_string(),
            version_id,
            size: digests.size,
            etag: etag.clone(),
            last_modified_ms: now_ms(),
            doc: ObjectDoc {
                v: RECORD_VERSION,
                content: opts.content,
                user_meta: opts.user_meta,
                checksum,
                tags: opts.tags,
                encryption: keys.record,
                segments: vec![Segment {
                    blob_id,
                    size: digests.size,
                    part_number: 0,
                    etag,
                    checksum: None,
                    inline: data.is_some(),
                    data,
                }],
                upload_id: None,
                sealed_version: None,
                lock,
            },
            delete_marker: false,
        };
        self.commit_object(record, &opts.expect).await
    }

    /// S3's answers to a conditional write whose condition fails: a missing
    /// key under If-Match is NoSuchKey, anything else PreconditionFailed.
    pub(crate) async fn check_expect(&self, bucket: &str, key: &str, expect: &Expect) -> Result<()> {
        if *expect == Expect::Any {
            return Ok(());
        }
        let current = self.meta.get_object(bucket, key).await?;
        match (expect, &current) {
            (Expect::ETag(_), None) => Err(EngineError::NoSuchKey),
            _ if expect.holds(current.as_ref()) => Ok(()),
            _ => Err(EngineError::PreconditionFailed),
        }
    }

    /// Commits metadata for blobs already made durable, then frees what it replaced.
    pub(crate) async fn commit_object(&self, record: ObjectRecord, expect: &Expect) -> Result<ObjectRecord> {
        let committed = self.meta.put_object(&record, expect).await;
        let replaced = match committed {
            Ok(Written::Done(r)) => r,
            Ok(Written::ConditionFailed) => {
                self.release(record.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                    .await;
                return Err(EngineError::PreconditionFailed);
            }
            Err(e) => {
                self.release(record.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                    .await;
                return Err(e.into());
            }
        };
        if let Some(old) = replaced {
            self.release(old.blob_ids().map(str::to_owned).collect::<Vec<_>>())
                .await;
        }
        Ok(record)
    }

    /// The object's metadata, or NoSuchBucket / NoSuchKey.
    pub async fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord> {
        match self.meta.get_object(bucket, key).await? {
            Some(o) => Ok(o),
            None => {
                self.bucket(bucket).await?;
                Err(EngineError::NoSuchKey)
            }
        }
    }

    /// Decrypting stream of `range` of an SSE-S3 object's plaintext.
    pub fn read(&self, object: &ObjectRecord, range: Range<u64>) -> Result<ByteStream> {
        let keys = self.open_sse_s3(&object.doc.encryption, &object.bucket, &object.key)?;
        self.read_with(object, range, keys)
    }

    /// Decrypting stream of `range` of the object's plaintext, under its keys.
    pub fn read_with(&self, object: &ObjectRecord, range: Range<u64>, keys: ObjectKeys) -> Result<ByteStream> {
        let mut offset = 0;
        let segments = object
            .doc
            .segments
            .iter()
            .map(|s| {
                let plan = SegmentPlan {
                    blob_id: s.blob_id.clone(),
                    part: s.part_number,
                    offset,
                    len: s.size,
                    data: s.data.clone(),
                };
                offset += s.size;
                plan
            })
            .collect();
        let owner = Owner {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version: object.sealed_version().to_owned(),
        };
        stream::read_range(self.blobs.clone(), Arc::new(keys), owner, segments, range)
    }

    /// Copies `source` to a new object: decrypted and re-encrypted under a
    /// fresh data key bound to the destination, streaming.
    pub async fn copy_object(
        &self,
        source: &ObjectRecord,
        source_keys: ObjectKeys,
        bucket: &str,
        key: &ObjectKey,
        opts: PutOptions,
        keys: ObjectKeys,
    ) -> Result<ObjectRecord> {
        let body = self.read_with(source, 0..source.size, source_keys)?;
        let expected_size = source.size;
        self.put_object_with(bucket, key, body, opts, keys, |d| {
            if d.size == expected_size {
                Ok(())
            } else {
                Err(EngineError::Internal("copy source changed size while reading".into()))
            }
        })
        .await
    }

    /// Sets the tags of one version (`None`: the current object).
    pub async fn set_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<()> {
        crate::validate_object_tags(&tags)?;
        if self.meta.set_object_tags(bucket, key, version_id, &tags).await? {
            Ok(())
        } else {
            // Why not: no bucket, no such version, or a delete marker.
            self.object_version(bucket, key, version_id)
                .await
                .map(|_| ())
                .and(Err(EngineError::NoSuchKey))
        }
    }
}
