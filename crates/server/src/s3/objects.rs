use super::convert::*;
use super::object_lock::{requested_lock, require_integrity};
use super::sse::{SseOut, customer_key, requested_sse, set_sse};
use super::versioning::shown_version;
use super::{StrongboxS3, context, s3_err};
use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::{EngineError, PutOptions};
use strongbox_meta::{ContentHeaders, ObjectRecord};

/// Most keys in one DeleteObjects request, as AWS.
const MAX_DELETE_KEYS: usize = 1000;

/// `aws-chunked` describes the upload's framing, not the object: S3 drops it.
fn stored_content_encoding(v: Option<String>) -> Option<String> {
    let v = v?;
    let kept: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "aws-chunked")
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// Fills the headers GET and HEAD share from the object record.
macro_rules! object_headers {
    ($out:expr, $o:expr) => {{
        let o: &ObjectRecord = $o;
        let c = &o.doc.content;
        $out.e_tag = Some(etag(&o.etag));
        $out.last_modified = Some(timestamp(o.last_modified_ms));
        $out.metadata = metadata_dto(&o.doc.user_meta);
        $out.content_type = c.content_type.as_deref().and_then(|t| t.parse().ok());
        $out.content_encoding = c.content_encoding.clone();
        $out.content_disposition = c.content_disposition.clone();
        $out.content_language = c.content_language.clone();
        $out.cache_control = c.cache_control.clone();
        $out.expires = c.expires.clone();
        set_sse!($out, SseOut::of(&o.doc.encryption));
        $out.accept_ranges = Some("bytes".into());
        $out.tag_count = (!o.doc.tags.is_empty()).then(|| i32::try_from(o.doc.tags.len()).unwrap_or(i32::MAX));
    }};
}

/// The byte range a GET/HEAD serves: (range, Content-Range value, parts count).
pub(crate) fn plan_read(
    o: &ObjectRecord,
    range: Option<&Range>,
    part_number: Option<i32>,
) -> S3Result<(std::ops::Range<u64>, Option<String>, Option<i32>)> {
    let content_range = |r: &std::ops::Range<u64>| format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), o.size);
    match (range, part_number) {
        (Some(_), Some(_)) => Err(s3_error!(
            InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter."
        )),
        (Some(r), None) => {
            let r = r.check(o.size).map_err(|_| s3_err(EngineError::InvalidRange))?;
            if r.is_empty() {
                // `bytes=-N` of an empty object selects nothing: AWS answers
                // 200 with the empty body; "bytes 0-0/0" would claim a byte.
                return Ok((r, None, None));
            }
            let cr = content_range(&r);
            Ok((r, Some(cr), None))
        }
        (None, Some(n)) => {
            let segs = &o.doc.segments;
            let multipart = segs.iter().any(|s| s.part_number > 0);
            let count = i32::try_from(segs.len()).unwrap_or(i32::MAX);
            let idx = usize::try_from(n).ok().filter(|n| *n >= 1).map(|n| n - 1);
            let Some(idx) = idx.filter(|i| *i < segs.len()) else {
                return Err(S3Error::with_message(
                    S3ErrorCode::Custom("InvalidPartNumber".into()),
                    "The requested partnumber is not satisfiable",
                ))
                .map_err(|mut e| {
                    e.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
                    e
                });
            };
            let start: u64 = segs.iter().take(idx).map(|s| s.size).sum();
            let len = segs.get(idx).map_or(0, |s| s.size);
            let r = start..start + len;
            let cr = content_range(&r);
            Ok((r, Some(cr), multipart.then_some(count)))
        }
        (None, None) => Ok((0..o.size, None, None)),
    }
}

/// `x-amz-checksum-mode: ENABLED`: return the stored checksum (whole-object reads only).
fn checksum_enabled(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

impl StrongboxS3 {
    /// The object a GET or HEAD serves, once its conditional headers hold.
    /// Also the bucket's record, for the answer's `x-amz-version-id`.
    async fn readable(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        pre: &Preconditions<'_>,
    ) -> S3Result<(ObjectRecord, strongbox_meta::BucketRecord)> {
        let o = engine(self.engine.object_version(bucket, key, version_id).await)?;
        pre.check(&o, EngineError::NotModified)
            .map_err(|e| precondition_error(e, &o))?;
        let b = engine(self.engine.bucket(bucket).await)?;
        Ok((o, b))
    }

    pub(super) async fn do_put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let ctx = context(&req)?.clone();
        let form = ctx.operation == "PostObject";
        if form && !ctx.form_authorized {
            tracing::error!(request_id = %ctx.request_id, "a POST form reached PutObject without its authorization");
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        let mut input = req.input;
        let key = object_key(&input.key)?;
        let requested = requested_sse!(&ctx, input)?;
        if input.content_length.is_none() && !req.headers.contains_key("x-amz-decoded-content-length") {
            return Err(s3_error!(
                MissingContentLength,
                "You must provide the Content-Length HTTP header."
            ));
        }
        let plan = ChecksumPlan::new(
            &req.headers,
            ChecksumHeaders {
                crc32: input.checksum_crc32.as_ref(),
                crc32c: input.checksum_crc32c.as_ref(),
                crc64nvme: input.checksum_crc64nvme.as_ref(),
                sha1: input.checksum_sha1.as_ref(),
                sha256: input.checksum_sha256.as_ref(),
            },
            input.checksum_algorithm.as_ref(),
            input.content_md5.as_ref(),
            req.trailing_headers.clone(),
        )?;
        let lock = requested_lock(
            input.object_lock_mode.as_ref(),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref(),
        )?;
        let opts = PutOptions {
            content: ContentHeaders {
                content_type: content_type_or_default(input.content_type.as_ref()),
                content_encoding: stored_content_encoding(input.content_encoding.take()),
                content_disposition: input.content_disposition.take(),
                content_language: input.content_language.take(),
                cache_control: input.cache_control.take(),
                expires: input.expires.take(),
            },
            user_meta: user_meta(input.metadata.take()),
            tags: tagging_header(input.tagging.as_deref())?,
            compute: plan.compute(),
            store_checksum: Some(plan.stored()),
            expect: write_expect(input.if_match.as_ref(), input.if_none_match.as_ref())?,
            lock,
        };
        let bucket = engine(self.engine.bucket(&input.bucket).await)?;
        if !form {
            // A form's fields carry no body checksum; its policy signs the upload instead.
            require_integrity(&req.headers, Some(&bucket), &lock)?;
        }
        let keys = self.new_object_keys(&ctx, &bucket, key.as_str(), requested).await?;
        let body = input.body.take().unwrap_or_else(|| StreamingBlob::from(Bytes::new()));
        let rec = engine(
            self.engine
                .put_object_with(&input.bucket, &key, body, opts, keys, |d| plan.verify(d))
                .await,
        )?;
        let mut out = PutObjectOutput {
            e_tag: Some(etag(&rec.etag)),
            size: i64::try_from(rec.size).ok(),
            version_id: shown_version(&bucket, &rec.version_id),
            ..Default::default()
        };
        let sse = SseOut::of(&rec.doc.encryption);
        out.ssekms_encryption_context = sse.context.clone();
        set_sse!(out, sse);
        let c = ChecksumOut::of_object(&rec);
        out.checksum_type = c.kind.clone();
        set_checksums!(out, c);
        if form {
            return Ok(crate::post_form::response(out, &rec.etag));
        }
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let ctx = context(&req)?;
        let i = &req.input;
        let customer = customer_key!(ctx, i)?;
        let pre = Preconditions {
            if_match: i.if_match.as_ref(),
            if_none_match: i.if_none_match.as_ref(),
            if_modified_since: i.if_modified_since.as_ref(),
            if_unmodified_since: i.if_unmodified_since.as_ref(),
        };
        let (o, b) = self.readable(&i.bucket, &i.key, i.version_id.as_deref(), &pre).await?;
        let (range, content_range, parts_count) = plan_read(&o, i.range.as_ref(), i.part_number)?;
        let len = range.end - range.start;
        let whole = content_range.is_none();
        let keys = self
            .open_object_keys(ctx, &o.doc.encryption, &o.bucket, &o.key, customer.as_ref())
            .await?;
        let body = engine(self.engine.read_with(&o, range, keys))?;
        let body = engine(strongbox_engine::first_frame_checked(body).await)?;
        let mut out = GetObjectOutput {
            body: Some(StreamingBlob::wrap(body)),
            content_length: i64::try_from(len).ok(),
            content_range,
            parts_count,
            version_id: shown_version(&b, &o.version_id),
            ..Default::default()
        };
        object_headers!(out, &o);
        let lock = self.lock_headers(ctx, &b, &o);
        (out.object_lock_mode, out.object_lock_retain_until_date) = (lock.mode, lock.until);
        out.object_lock_legal_hold_status = lock.legal_hold;
        if whole && checksum_enabled(i.checksum_mode.as_ref()) {
            let c = ChecksumOut::of_object(&o);
            out.checksum_type = c.kind.clone();
            set_checksums!(out, c);
        }
        // response-* query parameters override the stored headers (signed requests only,
        // and only signed requests get this far).
        if let Some(v) = &i.response_content_type {
            out.content_type = v.parse().ok();
        }
        out.content_encoding = i.response_content_encoding.clone().or(out.content_encoding);
        out.content_disposition = i.response_content_disposition.clone().or(out.content_disposition);
        out.content_language = i.response_content_language.clone().or(out.content_language);
        out.cache_control = i.response_cache_control.clone().or(out.cache_control);
        if let Some(t) = &i.response_expires {
            let mut buf = Vec::new();
            if t.format(TimestampFormat::HttpDate, &mut buf).is_ok() {
                out.expires = String::from_utf8(buf).ok();
            }
        }
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let ctx = context(&req)?;
        let i = &req.input;
        let customer = customer_key!(ctx, i)?;
        let pre = Preconditions {
            if_match: i.if_match.as_ref(),
            if_none_match: i.if_none_match.as_ref(),
            if_modified_since: i.if_modified_since.as_ref(),
            if_unmodified_since: i.if_unmodified_since.as_ref(),
        };
        let (o, b) = self.readable(&i.bucket, &i.key, i.version_id.as_deref(), &pre).await?;
        // HEAD needs no data key, but an SSE-C object is described only to the holder of its key.
        super::sse::check_customer_key(&o.doc.encryption, customer.as_ref())?;
        let (range, content_range, parts_count) = plan_read(&o, i.range.as_ref(), i.part_number)?;
        let whole = content_range.is_none();
        let mut out = HeadObjectOutput {
            content_length: i64::try_from(range.end - range.start).ok(),
            content_range,
            parts_count,
            version_id: shown_version(&b, &o.version_id),
            ..Default::default()
        };
        object_headers!(out, &o);
        let lock = self.lock_headers(ctx, &b, &o);
        (out.object_lock_mode, out.object_lock_retain_until_date) = (lock.mode, lock.until);
        out.object_lock_legal_hold_status = lock.legal_hold;
        if whole && checksum_enabled(i.checksum_mode.as_ref()) {
            let c = ChecksumOut::of_object(&o);
            out.checksum_type = c.kind.clone();
            set_checksums!(out, c);
        }
        // A ranged HEAD is answered 206 by the outer service (s3s' HeadObject
        // serializer always says 200).
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let i = &req.input;
        object_key(&i.key)?;
        let ctx = context(&req)?;
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        if i.version_id.is_some() && Self::mfa_delete_on(&bucket) {
            // Removing a version for good is what MFA Delete guards.
            self.require_mfa(ctx, &bucket, i.mfa.as_deref()).await?;
        }
        let bypass = self.may_bypass_governance(ctx, &bucket, i.bypass_governance_retention, &i.key)?;
        let done = engine(
            self.engine
                .delete(&i.bucket, &i.key, i.version_id.as_deref(), bypass)
                .await,
        )?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: done.delete_marker.then_some(true),
            version_id: done.version_id,
            ..Default::default()
        }))
    }

    pub(super) async fn do_delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let ctx = context(&req)?.clone();
        let mfa = req.input.mfa;
        let bypass_header = req.input.bypass_governance_retention;
        let bucket = req.input.bucket;
        let delete = req.input.delete;
        if delete.objects.len() > MAX_DELETE_KEYS || delete.objects.is_empty() {
            return Err(s3_err(EngineError::MalformedXml));
        }
        let record = engine(self.engine.bucket(&bucket).await)?;
        if Self::mfa_delete_on(&record) && delete.objects.iter().any(|o| o.version_id.is_some()) {
            // One code covers the request, as AWS.
            self.require_mfa(&ctx, &record, mfa.as_deref()).await?;
        }
        let policy = self.bucket_policy(&record)?;
        let quiet = delete.quiet.unwrap_or(false);
        let (mut deleted, mut errors) = (vec![], vec![]);
        for obj in delete.objects {
            let action = if obj.version_id.is_some() {
                "s3:DeleteObjectVersion"
            } else {
                "s3:DeleteObject"
            };
            let result = match object_key(&obj.key) {
                Err(e) => Err(e),
                Ok(_) => match self.authorize_object(&ctx, &record, policy.as_deref(), action, &obj.key) {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let bypass = self.may_bypass_governance(&ctx, &record, bypass_header, &obj.key)?;
                        self.engine
                            .delete(&bucket, &obj.key, obj.version_id.as_deref(), bypass)
                            .await
                            .map_err(s3_err)
                    }
                },
            };
            match result {
                Ok(_) if quiet => {}
                // A version removed: its id (and whether it was a marker);
                // a marker added: DeleteMarkerVersionId, as AWS.
                Ok(done) if obj.version_id.is_some() => deleted.push(DeletedObject {
                    key: Some(obj.key),
                    version_id: done.version_id,
                    delete_marker: done.delete_marker.then_some(true),
                    ..Default::default()
                }),
                Ok(done) => deleted.push(DeletedObject {
                    key: Some(obj.key),
                    delete_marker: done.delete_marker.then_some(true),
                    delete_marker_version_id: done.version_id,
                    ..Default::default()
                }),
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    message: e.message().map(str::to_owned),
                    key: Some(obj.key),
                    version_id: obj.version_id,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    pub(super) async fn do_copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let ctx = context(&req)?.clone();
        let mut i = req.input;
        let key = object_key(&i.key)?;
        let source_customer = customer_key!(&ctx, i, copy_source)?;
        let requested = requested_sse!(&ctx, i)?;
        let pre = Preconditions {
            if_match: i.copy_source_if_match.as_ref(),
            if_none_match: i.copy_source_if_none_match.as_ref(),
            if_modified_since: i.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: i.copy_source_if_unmodified_since.as_ref(),
        };
        let (src, source_keys, src_bucket) = self
            .copy_source(&ctx, &i.copy_source, &pre, source_customer.as_ref())
            .await?;
        let replace_meta = match i.metadata_directive.as_ref().map(MetadataDirective::as_str) {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(_) => return Err(s3_error!(InvalidArgument, "Unknown metadata directive.")),
        };
        let replace_tags = match i.tagging_directive.as_ref().map(TaggingDirective::as_str) {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(_) => return Err(s3_error!(InvalidArgument, "Unknown tagging directive.")),
        };
        let changes_something = replace_meta
            || i.storage_class.is_some()
            || !matches!(requested, super::sse::Requested::Default { bucket_key: None })
            || i.website_redirect_location.is_some();
        let copies_latest = !matches!(
            &i.copy_source,
            CopySource::Bucket {
                version_id: Some(_),
                ..
            }
        );
        if src.bucket == i.bucket && src.key == key.as_str() && !changes_something && copies_latest {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let (content, meta) = if replace_meta {
            let content = ContentHeaders {
                content_type: content_type_or_default(i.content_type.as_ref()),
                content_encoding: i.content_encoding.take(),
                content_disposition: i.content_disposition.take(),
                content_language: i.content_language.take(),
                cache_control: i.cache_control.take(),
                expires: i.expires.take(),
            };
            (content, user_meta(i.metadata.take()))
        } else {
            (src.doc.content.clone(), src.doc.user_meta.clone())
        };
        let tags = if replace_tags {
            tagging_header(i.tagging.as_deref())?
        } else {
            src.doc.tags.clone()
        };
        let algorithm = checksum_algorithm(i.checksum_algorithm.as_ref())?
            .or_else(|| {
                src.doc
                    .checksum
                    .as_ref()
                    .and_then(|c| strongbox_engine::ChecksumAlgorithm::parse(&c.algorithm))
            })
            .unwrap_or(strongbox_engine::ChecksumAlgorithm::Crc64Nvme);
        // The copy's lock comes from this request's headers (and the bucket
        // default), never from the source.
        let lock = requested_lock(
            i.object_lock_mode.as_ref(),
            i.object_lock_retain_until_date.as_ref(),
            i.object_lock_legal_hold_status.as_ref(),
        )?;
        let opts = PutOptions {
            content,
            user_meta: meta,
            tags,
            compute: vec![algorithm],
            store_checksum: Some(algorithm),
            expect: write_expect(i.if_match.as_ref(), i.if_none_match.as_ref())?,
            lock,
        };
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let keys = self.new_object_keys(&ctx, &bucket, key.as_str(), requested).await?;
        let rec = engine(
            self.engine
                .copy_object(&src, source_keys, &i.bucket, &key, opts, keys)
                .await,
        )?;
        let mut result = CopyObjectResult {
            e_tag: Some(etag(&rec.etag)),
            last_modified: Some(timestamp(rec.last_modified_ms)),
            ..Default::default()
        };
        let c = ChecksumOut::of_object(&rec);
        result.checksum_type = c.kind.clone();
        set_checksums!(result, c);
        let mut out = CopyObjectOutput {
            copy_object_result: Some(result),
            version_id: shown_version(&bucket, &rec.version_id),
            copy_source_version_id: shown_version(&src_bucket, &src.version_id),
            ..Default::default()
        };
        let sse = SseOut::of(&rec.doc.encryption);
        out.ssekms_encryption_context = sse.context.clone();
        set_sse!(out, sse);
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let i = req.input;
        engine(
            self.engine
                .set_object_tags(&i.bucket, &i.key, i.version_id.as_deref(), tags_from_dto(i.tagging))
                .await,
        )?;
        Ok(S3Response::new(PutObjectTaggingOutput {
            version_id: i.version_id,
        }))
    }

    pub(super) async fn do_get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let i = &req.input;
        let o = engine(
            self.engine
                .object_version(&i.bucket, &i.key, i.version_id.as_deref())
                .await,
        )?;
        let b = engine(self.engine.bucket(&i.bucket).await)?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tags_to_dto(&o.doc.tags),
            version_id: shown_version(&b, &o.version_id),
        }))
    }

    pub(super) async fn do_delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let i = req.input;
        engine(
            self.engine
                .set_object_tags(&i.bucket, &i.key, i.version_id.as_deref(), vec![])
                .await,
        )?;
        Ok(S3Response::new(DeleteObjectTaggingOutput {
            version_id: i.version_id,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongbox_meta::{EncryptionRecord, ObjectDoc, Segment};

    fn object(size: u64) -> ObjectRecord {
        ObjectRecord {
            bucket: "b".into(),
            key: "k".into(),
            version_id: "null".into(),
            size,
            etag: "e".into(),
            last_modified_ms: 0,
            doc: ObjectDoc {
                v: 1,
                content: ContentHeaders::default(),
                user_meta: Vec::new(),
                checksum: None,
                tags: Vec::new(),
                encryption: EncryptionRecord::default(),
                segments: vec![Segment {
                    size,
                    ..Default::default()
                }],
                upload_id: None,
                sealed_version: None,
                lock: Default::default(),
            },
            delete_marker: false,
        }
    }

    /// fuzz/artifacts/range_conditional/crash-dea9ab6c...: a 304 for an object
    /// whose last-modified time is past year 9999 (a damaged record)
    /// panicked formatting Last-Modified.
    #[test]
    fn not_modified_of_a_far_future_object_does_not_panic() {
        let mut o = object(10);
        for ms in [111_111_111_111_111_100, i64::MAX, -1] {
            o.last_modified_ms = ms;
            let e = precondition_error(EngineError::NotModified, &o);
            let h = e.headers().unwrap();
            assert_eq!(h.get("last-modified").unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT", "{ms}");
        }
        o.last_modified_ms = 1_445_412_480_000;
        let e = precondition_error(EngineError::NotModified, &o);
        assert_eq!(
            e.headers().unwrap().get("last-modified").unwrap(),
            "Wed, 21 Oct 2015 07:28:00 GMT"
        );
    }

    /// fuzz/artifacts/range_conditional/crash-f0f44c60... and crash-5979bb8c...:
    /// `Range: bytes=-500` on an empty object was served as 206 with
    /// `Content-Range: bytes 0-0/0`.
    #[test]
    fn suffix_range_of_an_empty_object_is_the_whole_empty_object() {
        let r = Range::parse("bytes=-500").unwrap();
        assert_eq!(plan_read(&object(0), Some(&r), None).unwrap(), (0..0, None, None));
        let (got, cr, _) = plan_read(&object(1000), Some(&r), None).unwrap();
        assert_eq!((got, cr.as_deref()), (500..1000, Some("bytes 500-999/1000")));
        for first in ["bytes=0-", "bytes=0-0"] {
            let r = Range::parse(first).unwrap();
            assert!(plan_read(&object(0), Some(&r), None).is_err(), "{first}");
        }
    }
}
