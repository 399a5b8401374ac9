//! The `s3s::S3` implementation: translates s3s' typed DTOs to engine calls
//! and engine outcomes back to S3 responses and errors.
mod attributes;
mod bucket_keys;
mod buckets;
mod convert;
mod copy;
mod encryption;
mod list;
mod multipart;
mod object_lock;
mod objects;
mod policy;
pub(crate) mod public_access;
pub(crate) mod sse;
pub(crate) mod versioning;

// For crate::fuzzing.
pub(crate) use convert::{Preconditions, precondition_error, write_expect};
pub(crate) use multipart::copy_range;
pub(crate) use objects::plan_read;

use crate::context::RequestContext;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::{Engine, EngineError};
use strongbox_meta::Account;
use strongbox_types::AccountId;

/// Strongbox's S3 API over the engine.
pub struct StrongboxS3 {
    pub engine: Engine,
    pub authz: std::sync::Arc<crate::authz::Authorizer>,
    pub region: String,
    /// The built-in KMS that SSE-KMS and DSSE-KMS keys come from.
    pub kms: std::sync::Arc<strongbox_kms::Kms>,
    bucket_keys: bucket_keys::BucketKeys,
}

impl StrongboxS3 {
    pub fn new(
        engine: Engine,
        authz: std::sync::Arc<crate::authz::Authorizer>,
        region: String,
        kms: std::sync::Arc<strongbox_kms::Kms>,
    ) -> Self {
        Self {
            engine,
            authz,
            region,
            kms,
            bucket_keys: bucket_keys::BucketKeys::default(),
        }
    }
}

/// Maps engine outcomes to S3 errors, one place for every operation.
pub(crate) fn s3_err(e: EngineError) -> S3Error {
    use EngineError as E;
    let msg = e.to_string();
    let code = match e {
        E::NoSuchBucket => S3ErrorCode::NoSuchBucket,
        E::NoSuchKey => S3ErrorCode::NoSuchKey,
        E::NoSuchVersion => S3ErrorCode::NoSuchVersion,
        E::DeleteMarker { version_id, by_version } => return delete_marker_error(&version_id, by_version),
        E::BucketAlreadyExists(_) => S3ErrorCode::BucketAlreadyExists,
        E::BucketAlreadyOwnedByYou => S3ErrorCode::BucketAlreadyOwnedByYou,
        E::BucketNotEmpty => S3ErrorCode::BucketNotEmpty,
        E::NoSuchUpload => S3ErrorCode::NoSuchUpload,
        E::InvalidPart => S3ErrorCode::InvalidPart,
        E::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
        E::EntityTooSmall => S3ErrorCode::EntityTooSmall,
        E::EntityTooLarge => S3ErrorCode::EntityTooLarge,
        E::InvalidRange => S3ErrorCode::InvalidRange,
        E::BadDigest(_) => S3ErrorCode::BadDigest,
        E::MalformedXml => S3ErrorCode::MalformedXML,
        E::NoSuchTagSet => S3ErrorCode::NoSuchTagSet,
        E::ObjectLocked => S3ErrorCode::AccessDenied,
        E::InvalidBucketState(_) => S3ErrorCode::InvalidBucketState,
        E::ObjectLockConfigurationNotFound => S3ErrorCode::ObjectLockConfigurationNotFoundError,
        E::NoSuchObjectLockConfiguration => S3ErrorCode::NoSuchObjectLockConfiguration,
        E::NoSuchPublicAccessBlockConfiguration => {
            return custom_error("NoSuchPublicAccessBlockConfiguration", http::StatusCode::NOT_FOUND, msg);
        }
        E::InvalidArgument(_) => S3ErrorCode::InvalidArgument,
        E::InvalidRequest(_) => S3ErrorCode::InvalidRequest,
        E::InvalidTag(_) => S3ErrorCode::InvalidTag,
        E::MetadataTooLarge => S3ErrorCode::MetadataTooLarge,
        E::PreconditionFailed => S3ErrorCode::PreconditionFailed,
        E::NotModified => S3ErrorCode::NotModified,
        E::IncompleteBody => S3ErrorCode::IncompleteBody,
        E::Body(inner) => return body_error(inner),
        E::StorageFull(cause) => {
            tracing::error!(%cause, "storage full: request refused, nothing stored");
            return storage_full();
        }
        E::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            return s3_error!(InternalError, "We encountered an internal error. Please try again.");
        }
    };
    S3Error::with_message(code, msg)
}

/// An AWS error code s3s has no variant for, with its status.
pub(crate) fn custom_error(code: &str, status: http::StatusCode, message: String) -> S3Error {
    let Ok(code) = code.parse::<S3ErrorCode>();
    let mut err = S3Error::with_message(code, message);
    err.set_status_code(status);
    err
}

/// A GET/HEAD that reached a delete marker: as the key's latest version it
/// is 404 NoSuchKey, asked for by id 405 MethodNotAllowed (only DELETE
/// applies to a marker); both say which marker it was.
fn delete_marker_error(version_id: &str, by_version: bool) -> S3Error {
    let mut err = if by_version {
        s3_error!(
            MethodNotAllowed,
            "The specified method is not allowed against this resource."
        )
    } else {
        s3_error!(NoSuchKey, "The specified key does not exist.")
    };
    let mut h = http::HeaderMap::new();
    h.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
    if let Ok(v) = http::HeaderValue::from_str(version_id) {
        h.insert("x-amz-version-id", v);
    }
    if by_version {
        h.insert(http::header::ALLOW, http::HeaderValue::from_static("DELETE"));
    }
    err.set_headers(h);
    err
}

/// The answer to a write that found the disk full: 503 ServiceUnavailable,
/// which every AWS SDK retries with backoff, with a message that says why
/// (docs/errors.md explains the choice over MinIO's 507 XMinioStorageFull).
pub(crate) fn storage_full() -> S3Error {
    s3_error!(
        ServiceUnavailable,
        "The server's storage is full; nothing was stored. Retry after space has been freed."
    )
}

/// A body stream failure: s3s' own errors (bad chunk signature, size limit,
/// and the server's RequestTimeout for a stalled body, possibly wrapped by a
/// decoder) pass through; anything else means the body ended early.
fn body_error(inner: strongbox_engine::BoxError) -> S3Error {
    use s3s::stream::upload_stream::UploadStreamError;
    let inner = match inner.downcast::<UploadStreamError>() {
        // s3s says BadDigest; AWS names the header that did not match.
        Ok(e) if matches!(*e, UploadStreamError::Sha256Mismatch) => {
            let mut e = S3Error::with_message(
                S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            );
            e.set_status_code(http::StatusCode::BAD_REQUEST);
            return e;
        }
        Ok(e) => e as strongbox_engine::BoxError,
        Err(other) => other,
    };
    match inner.downcast::<S3Error>() {
        Ok(e) => *e,
        Err(other) if crate::limits::is_body_timeout(other.as_ref()) => crate::limits::request_timeout(),
        Err(other) => {
            tracing::info!(error = %other, "request body ended early");
            s3_error!(
                IncompleteBody,
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            )
        }
    }
}

/// The request context the gate stored; its absence means the gate did not
/// run, so the request is refused rather than served unchecked.
pub(crate) fn context<T>(req: &S3Request<T>) -> S3Result<&RequestContext> {
    req.extensions.get::<RequestContext>().ok_or_else(|| {
        tracing::error!("request reached a handler without an authorization context");
        s3_error!(AccessDenied, "Access Denied")
    })
}

pub(crate) fn caller_account<T>(req: &S3Request<T>) -> S3Result<AccountId> {
    context(req)?
        .principal
        .account()
        .cloned()
        .ok_or_else(|| s3_error!(AccessDenied, "Access Denied"))
}

/// One decision in a handler, logged; anything but Allow is AccessDenied.
pub(crate) fn authorize_one(
    ctx: &RequestContext,
    keys: &strongbox_policy::ContextKeys,
    action: &str,
    resource: &str,
    side: crate::authz::ResourceSide<'_>,
) -> S3Result<()> {
    let verdict = crate::authz::decide(ctx, keys, action, resource, side);
    tracing::debug!(request_id = %ctx.request_id, %action, %resource, ?verdict, "authorization");
    if verdict.is_allowed() {
        Ok(())
    } else {
        Err(s3_error!(AccessDenied, "Access Denied"))
    }
}

impl StrongboxS3 {
    /// `bucket`'s policy for a decision in a handler; failing to load it denies.
    pub(crate) fn bucket_policy(
        &self,
        bucket: &strongbox_meta::BucketRecord,
    ) -> S3Result<Option<std::sync::Arc<crate::authz::LoadedPolicy>>> {
        self.authz.bucket_policy(bucket).map_err(|e| {
            tracing::error!(error = %e, "authorization could not load the bucket policy; denying");
            s3_error!(AccessDenied, "Access Denied")
        })
    }

    /// Authorizes an object action the gate could not decide up front (a
    /// copy's source, each key of DeleteObjects) with the request's identity
    /// policies and condition keys and `policy`, the object's bucket policy.
    pub(crate) fn authorize_object(
        &self,
        ctx: &RequestContext,
        bucket: &strongbox_meta::BucketRecord,
        policy: Option<&crate::authz::LoadedPolicy>,
        action: &str,
        key: &str,
    ) -> S3Result<()> {
        let resource =
            crate::actions::resource_arn(crate::actions::ResourceKind::Object, Some(&bucket.name), Some(key));
        authorize_one(
            ctx,
            &ctx.conditions,
            action,
            &resource,
            crate::authz::ResourceSide::bucket(bucket, policy),
        )
    }

    pub(crate) async fn owner_of(&self, account: &AccountId) -> S3Result<Owner> {
        let acct: Option<Account> = self
            .engine
            .meta()
            .get_account(account.as_str())
            .await
            .map_err(|e| s3_err(e.into()))?;
        Ok(Owner {
            id: Some(
                acct.as_ref()
                    .map_or_else(|| account.to_string(), |a| a.canonical_id.clone()),
            ),
            display_name: acct.map(|a| a.name),
        })
    }
}

#[async_trait::async_trait]
impl S3 for StrongboxS3 {
    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        context(&req)?;
        self.do_list_buckets(req).await
    }
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        context(&req)?;
        self.do_create_bucket(req).await
    }
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        context(&req)?;
        self.do_head_bucket(req).await
    }
    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        context(&req)?;
        self.do_delete_bucket(req).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        context(&req)?;
        self.do_get_bucket_location(req).await
    }
    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        context(&req)?;
        self.do_put_bucket_tagging(req).await
    }
    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        context(&req)?;
        self.do_get_bucket_tagging(req).await
    }
    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        context(&req)?;
        self.do_delete_bucket_tagging(req).await
    }
    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        context(&req)?;
        self.do_put_bucket_policy(req).await
    }
    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        context(&req)?;
        self.do_get_bucket_policy(req).await
    }
    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        context(&req)?;
        self.do_delete_bucket_policy(req).await
    }
    async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        context(&req)?;
        self.do_get_bucket_policy_status(req).await
    }
    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        context(&req)?;
        self.do_put_public_access_block(req).await
    }
    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        context(&req)?;
        self.do_get_public_access_block(req).await
    }
    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        context(&req)?;
        self.do_delete_public_access_block(req).await
    }
    async fn put_bucket_encryption(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        context(&req)?;
        self.do_put_bucket_encryption(req).await
    }
    async fn get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        context(&req)?;
        self.do_get_bucket_encryption(req).await
    }
    async fn delete_bucket_encryption(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        context(&req)?;
        self.do_delete_bucket_encryption(req).await
    }
    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        context(&req)?;
        self.do_put_bucket_versioning(req).await
    }
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        context(&req)?;
        self.do_get_bucket_versioning(req).await
    }
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        context(&req)?;
        self.do_list_object_versions(req).await
    }
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        context(&req)?;
        self.do_put_object(req).await
    }
    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        context(&req)?;
        self.do_get_object(req).await
    }
    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        self.do_get_object_attributes(req).await
    }
    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        context(&req)?;
        self.do_head_object(req).await
    }
    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        context(&req)?;
        self.do_delete_object(req).await
    }
    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        context(&req)?;
        self.do_delete_objects(req).await
    }
    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        context(&req)?;
        self.do_copy_object(req).await
    }
    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        context(&req)?;
        self.do_put_object_tagging(req).await
    }
    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        context(&req)?;
        self.do_get_object_tagging(req).await
    }
    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        context(&req)?;
        self.do_delete_object_tagging(req).await
    }
    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        context(&req)?;
        self.do_list_objects(req).await
    }
    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        context(&req)?;
        self.do_list_objects_v2(req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        context(&req)?;
        self.do_create_multipart_upload(req).await
    }
    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        context(&req)?;
        self.do_upload_part(req).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        context(&req)?;
        self.do_upload_part_copy(req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        context(&req)?;
        self.do_complete_multipart_upload(req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        context(&req)?;
        self.do_abort_multipart_upload(req).await
    }
    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        context(&req)?;
        self.do_list_parts(req).await
    }
    async fn put_object_lock_configuration(
        &self,
        req: S3Request<PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
        context(&req)?;
        self.do_put_object_lock_configuration(req).await
    }
    async fn get_object_lock_configuration(
        &self,
        req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        context(&req)?;
        self.do_get_object_lock_configuration(req).await
    }
    async fn put_object_retention(
        &self,
        req: S3Request<PutObjectRetentionInput>,
    ) -> S3Result<S3Response<PutObjectRetentionOutput>> {
        context(&req)?;
        self.do_put_object_retention(req).await
    }
    async fn get_object_retention(
        &self,
        req: S3Request<GetObjectRetentionInput>,
    ) -> S3Result<S3Response<GetObjectRetentionOutput>> {
        context(&req)?;
        self.do_get_object_retention(req).await
    }
    async fn put_object_legal_hold(
        &self,
        req: S3Request<PutObjectLegalHoldInput>,
    ) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
        context(&req)?;
        self.do_put_object_legal_hold(req).await
    }
    async fn get_object_legal_hold(
        &self,
        req: S3Request<GetObjectLegalHoldInput>,
    ) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
        context(&req)?;
        self.do_get_object_legal_hold(req).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        context(&req)?;
        self.do_list_multipart_uploads(req).await
    }
}
