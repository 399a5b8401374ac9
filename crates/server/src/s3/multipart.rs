use super::convert::*;
use super::list::Encoder;
use super::sse::{SseOut, customer_key, requested_sse, set_sse};
use super::{StrongboxS3, caller_account, context, s3_err};
use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::{CompletePart, EngineError, PutOptions, UploadsQuery};
use strongbox_meta::{ContentHeaders, UploadRecord};

const MAX_LIST_PARTS: i32 = 1000;

/// Parses `bytes=first-last` (both required, inclusive) against the source size.
pub(crate) fn copy_range(v: Option<&str>, size: u64) -> S3Result<std::ops::Range<u64>> {
    let Some(v) = v else {
        return Ok(0..size);
    };
    let bad = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let (a, b) = v
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    // u64's FromStr also takes a leading '+': the header is digits only.
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad());
    }
    let (first, last): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if first > last {
        return Err(bad());
    }
    if last >= size {
        return Err(s3_error!(InvalidRange, "The requested range is not satisfiable"));
    }
    Ok(first..last + 1)
}

impl StrongboxS3 {
    async fn initiator(&self, u: &UploadRecord) -> S3Result<(Initiator, Owner)> {
        let owner = self.owner_of(&u.owner).await?;
        Ok((
            Initiator {
                id: owner.id.clone(),
                display_name: owner.display_name.clone(),
            },
            owner,
        ))
    }

    pub(super) async fn do_create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let account = caller_account(&req)?;
        let ctx = context(&req)?.clone();
        let mut i = req.input;
        let key = object_key(&i.key)?;
        let requested = requested_sse!(&ctx, i)?;
        let algorithm = checksum_algorithm(i.checksum_algorithm.as_ref())?;
        let opts = PutOptions {
            content: ContentHeaders {
                content_type: content_type_or_default(i.content_type.as_ref()),
                content_encoding: i.content_encoding.take(),
                content_disposition: i.content_disposition.take(),
                content_language: i.content_language.take(),
                cache_control: i.cache_control.take(),
                expires: i.expires.take(),
            },
            user_meta: user_meta(i.metadata.take()),
            tags: tagging_header(i.tagging.as_deref())?,
            compute: vec![],
            store_checksum: algorithm,
            expect: strongbox_engine::Expect::Any,
            lock: super::object_lock::requested_lock(
                i.object_lock_mode.as_ref(),
                i.object_lock_retain_until_date.as_ref(),
                i.object_lock_legal_hold_status.as_ref(),
            )?,
        };
        let checksum_type = i.checksum_type.as_ref().map(|t| t.as_str().to_owned());
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let keys = self.new_object_keys(&ctx, &bucket, key.as_str(), requested).await?;
        let u = engine(
            self.engine
                .create_upload_with(&i.bucket, &key, &account, opts, checksum_type, keys)
                .await,
        )?;
        let sse = SseOut::of(&u.doc.encryption);
        let mut out = CreateMultipartUploadOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(u.upload_id),
            checksum_algorithm: u.doc.checksum_algorithm.map(ChecksumAlgorithm_::from),
            checksum_type: u.doc.checksum_type.map(ChecksumType::from),
            ssekms_encryption_context: sse.context.clone(),
            ..Default::default()
        };
        set_sse!(out, sse);
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let ctx = context(&req)?.clone();
        let mut i = req.input;
        if i.content_length.is_none() && !req.headers.contains_key("x-amz-decoded-content-length") {
            return Err(s3_error!(
                MissingContentLength,
                "You must provide the Content-Length HTTP header."
            ));
        }
        let plan = ChecksumPlan::new(
            &req.headers,
            ChecksumHeaders {
                crc32: i.checksum_crc32.as_ref(),
                crc32c: i.checksum_crc32c.as_ref(),
                crc64nvme: i.checksum_crc64nvme.as_ref(),
                sha1: i.checksum_sha1.as_ref(),
                sha256: i.checksum_sha256.as_ref(),
            },
            i.checksum_algorithm.as_ref(),
            i.content_md5.as_ref(),
            req.trailing_headers.clone(),
        )?;
        let customer = customer_key!(&ctx, i)?;
        let upload = engine(self.engine.upload(&i.bucket, &i.key, &i.upload_id).await)?;
        if !upload.doc.lock.is_empty() {
            super::object_lock::require_integrity(&req.headers, None, &upload.doc.lock)?;
        } else {
            let bucket = engine(self.engine.bucket(&i.bucket).await)?;
            super::object_lock::require_integrity(&req.headers, Some(&bucket), &upload.doc.lock)?;
        }
        let keys = self
            .open_object_keys(&ctx, &upload.doc.encryption, &i.bucket, &i.key, customer.as_ref())
            .await?;
        let body = i.body.take().unwrap_or_else(|| StreamingBlob::from(Bytes::new()));
        let part = engine(
            self.engine
                .upload_part_with(&upload, i.part_number, body, &plan.compute(), keys, |d| plan.verify(d))
                .await,
        )?;
        let mut out = UploadPartOutput {
            e_tag: Some(etag(&part.etag)),
            ..Default::default()
        };
        set_sse!(out, SseOut::of(&upload.doc.encryption));
        if let Some(v) = &part.checksum
            && let Some(a) = &upload.doc.checksum_algorithm
        {
            set_checksums!(out, ChecksumOut::of(a, v, None));
        }
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let ctx = context(&req)?.clone();
        let i = req.input;
        let pre = Preconditions {
            if_match: i.copy_source_if_match.as_ref(),
            if_none_match: i.copy_source_if_none_match.as_ref(),
            if_modified_since: i.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: i.copy_source_if_unmodified_since.as_ref(),
        };
        let source_customer = customer_key!(&ctx, i, copy_source)?;
        let customer = customer_key!(&ctx, i)?;
        let (src, source_keys, src_bucket) = self
            .copy_source(&ctx, &i.copy_source, &pre, source_customer.as_ref())
            .await?;
        let range = copy_range(i.copy_source_range.as_deref(), src.size)?;
        let expected = range.end - range.start;
        let upload = engine(self.engine.upload(&i.bucket, &i.key, &i.upload_id).await)?;
        let keys = self
            .open_object_keys(&ctx, &upload.doc.encryption, &i.bucket, &i.key, customer.as_ref())
            .await?;
        let body = engine(self.engine.read_with(&src, range, source_keys))?;
        let part = engine(
            self.engine
                .upload_part_with(&upload, i.part_number, body, &[], keys, |d| {
                    if d.size == expected {
                        Ok(())
                    } else {
                        Err(EngineError::Internal("copy source changed while reading".into()))
                    }
                })
                .await,
        )?;
        let mut out = UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&part.etag)),
                last_modified: Some(timestamp(part.last_modified_ms)),
                ..Default::default()
            }),
            copy_source_version_id: super::versioning::shown_version(&src_bucket, &src.version_id),
            ..Default::default()
        };
        set_sse!(out, SseOut::of(&upload.doc.encryption));
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let i = req.input;
        let parts = i.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        let requested: Vec<CompletePart> = parts
            .into_iter()
            .map(|p| {
                let part_number = p
                    .part_number
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| s3_err(EngineError::MalformedXml))?;
                let etag = p
                    .e_tag
                    .map(|e| e.value().to_owned())
                    .ok_or_else(|| s3_err(EngineError::MalformedXml))?;
                let checksum = p
                    .checksum_crc32
                    .or(p.checksum_crc32c)
                    .or(p.checksum_crc64nvme)
                    .or(p.checksum_sha1)
                    .or(p.checksum_sha256);
                Ok(CompletePart {
                    part_number,
                    etag,
                    checksum,
                })
            })
            .collect::<S3Result<_>>()?;
        let expect = write_expect(i.if_match.as_ref(), i.if_none_match.as_ref())?;
        let rec = engine(
            self.engine
                .complete_upload(&i.bucket, &i.key, &i.upload_id, &requested, &expect)
                .await,
        )?;
        let sse = SseOut::of(&rec.doc.encryption);
        let mut out = CompleteMultipartUploadOutput {
            bucket: Some(i.bucket.clone()),
            key: Some(i.key.clone()),
            e_tag: Some(etag(&rec.etag)),
            location: Some(format!("/{}/{}", i.bucket, i.key)),
            server_side_encryption: sse.sse,
            ssekms_key_id: sse.kms_key_id,
            bucket_key_enabled: sse.bucket_key,
            version_id: super::versioning::shown_version(
                &engine(self.engine.bucket(&i.bucket).await)?,
                &rec.version_id,
            ),
            ..Default::default()
        };
        let c = ChecksumOut::of_object(&rec);
        out.checksum_type = c.kind.clone();
        set_checksums!(out, c);
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let i = req.input;
        engine(self.engine.abort_upload(&i.bucket, &i.key, &i.upload_id).await)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(super) async fn do_list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let i = req.input;
        let max = i.max_parts.unwrap_or(MAX_LIST_PARTS).clamp(0, MAX_LIST_PARTS);
        let after = i.part_number_marker.and_then(|m| u32::try_from(m).ok()).unwrap_or(0);
        let page = engine(
            self.engine
                .list_parts(
                    &i.bucket,
                    &i.key,
                    &i.upload_id,
                    after,
                    usize::try_from(max).unwrap_or(0),
                )
                .await,
        )?;
        let (initiator, owner) = self.initiator(&page.upload).await?;
        let algorithm = page.upload.doc.checksum_algorithm.clone();
        let parts: Vec<Part> = page
            .parts
            .iter()
            .map(|p| {
                let mut part = Part {
                    part_number: i32::try_from(p.part_number).ok(),
                    e_tag: Some(etag(&p.etag)),
                    size: i64::try_from(p.size).ok(),
                    last_modified: Some(timestamp(p.last_modified_ms)),
                    ..Default::default()
                };
                if let (Some(a), Some(v)) = (&algorithm, &p.checksum) {
                    set_checksums!(part, ChecksumOut::of(a, v, None));
                }
                part
            })
            .collect();
        let next = parts.last().and_then(|p| p.part_number);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(i.upload_id),
            part_number_marker: i.part_number_marker,
            next_part_number_marker: if page.is_truncated { next } else { None },
            max_parts: Some(max),
            is_truncated: Some(page.is_truncated),
            parts: Some(parts),
            initiator: Some(initiator),
            owner: Some(owner),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            checksum_algorithm: algorithm.map(ChecksumAlgorithm_::from),
            checksum_type: page.upload.doc.checksum_type.map(ChecksumType::from),
            ..Default::default()
        }))
    }

    pub(super) async fn do_list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let i = req.input;
        let enc = Encoder::new(i.encoding_type.as_ref())?;
        let max = i.max_uploads.unwrap_or(1000).clamp(0, 1000);
        let prefix = i.prefix.clone().unwrap_or_default();
        // An empty delimiter is no delimiter, and S3 does not echo it.
        let delimiter = i.delimiter.clone().filter(|d| !d.is_empty());
        let q = UploadsQuery {
            prefix: &prefix,
            delimiter: delimiter.as_deref(),
            after: i
                .key_marker
                .as_deref()
                .map(|k| (k, i.upload_id_marker.as_deref().unwrap_or(""))),
            max: usize::try_from(max).unwrap_or(0),
        };
        let page = engine(self.engine.list_uploads(&i.bucket, &q).await)?;
        let mut uploads = Vec::with_capacity(page.uploads.len());
        for u in &page.uploads {
            let (initiator, owner) = self.initiator(u).await?;
            uploads.push(MultipartUpload {
                key: Some(enc.apply(u.key.clone())),
                upload_id: Some(u.upload_id.clone()),
                initiated: Some(timestamp(u.initiated_ms)),
                initiator: Some(initiator),
                owner: Some(owner),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                checksum_algorithm: u.doc.checksum_algorithm.clone().map(ChecksumAlgorithm_::from),
                checksum_type: u.doc.checksum_type.clone().map(ChecksumType::from),
            });
        }
        let (next_key, next_upload) = match page.next.filter(|_| page.is_truncated) {
            Some((k, u)) => (Some(enc.apply(k)), u),
            None => (None, None),
        };
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(i.bucket),
            prefix: Some(enc.apply(prefix)),
            delimiter: delimiter.map(|d| enc.apply(d)),
            key_marker: Some(i.key_marker.map(|k| enc.apply(k)).unwrap_or_default()),
            upload_id_marker: Some(i.upload_id_marker.unwrap_or_default()),
            next_key_marker: next_key,
            next_upload_id_marker: next_upload,
            max_uploads: Some(max),
            is_truncated: Some(page.is_truncated),
            uploads: Some(uploads),
            common_prefixes: Some(
                page.common_prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc.apply(p)),
                    })
                    .collect(),
            ),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }
}

/// s3s' DTO of the checksum algorithm name (ours shares the name).
type ChecksumAlgorithm_ = s3s::dto::ChecksumAlgorithm;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges() {
        assert_eq!(copy_range(Some("bytes=0-9"), 100).unwrap(), 0..10);
        assert_eq!(copy_range(None, 100).unwrap(), 0..100);
        assert!(copy_range(Some("bytes=5-"), 100).is_err());
        assert!(copy_range(Some("bytes=9-0"), 100).is_err());
        assert!(copy_range(Some("bytes=0-100"), 100).is_err());
    }

    /// fuzz/artifacts/range_conditional/crash-2767d2d6212238c88f0c5d8d0a719ef2393c882b:
    /// `bytes=0-+99` was accepted as 0-99.
    #[test]
    fn copy_ranges_are_digits_only() {
        for v in ["bytes=0-+99", "bytes=+0-99", "bytes= 0-99", "bytes=0-99 "] {
            assert!(copy_range(Some(v), 100).is_err(), "{v}");
        }
    }
}
