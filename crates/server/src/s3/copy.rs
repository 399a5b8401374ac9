use super::StrongboxS3;
use super::convert::{Preconditions, engine};
use super::s3_err;
use crate::context::RequestContext;
use s3s::dto::CopySource;
use s3s::{S3Result, s3_error};
use strongbox_engine::EngineError;
use strongbox_meta::{BucketRecord, ObjectRecord};

impl StrongboxS3 {
    /// Resolves the source of CopyObject / UploadPartCopy. The gate authorized
    /// only the destination, so reading the source is authorized here, before
    /// its existence is revealed; then its `x-amz-copy-source-if-*` must hold
    /// (a failed one is 412 here, never 304). Its data keys are recovered
    /// with the request's copy-source SSE-C key, if it is an SSE-C object.
    pub(super) async fn copy_source(
        &self,
        ctx: &RequestContext,
        source: &CopySource,
        pre: &Preconditions<'_>,
        customer: Option<&super::sse::CustomerKey>,
    ) -> S3Result<(ObjectRecord, strongbox_engine::ObjectKeys, BucketRecord)> {
        let CopySource::Bucket {
            bucket,
            key,
            version_id,
        } = source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Copying from an access point is not implemented yet."
            ));
        };
        let record = engine(self.engine.bucket(bucket).await)?;
        let policy = self.bucket_policy(&record)?;
        // A named source version is read with s3:GetObjectVersion, as AWS.
        let action = if version_id.is_some() {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        };
        self.authorize_object(ctx, &record, policy.as_deref(), action, key)?;
        // A delete marker is no copy source: AWS answers 404 (latest) or 400 (by id).
        let src = match self.engine.object_version(bucket, key, version_id.as_deref()).await {
            Err(EngineError::DeleteMarker { by_version: true, .. }) => {
                return Err(s3_error!(
                    InvalidRequest,
                    "The source of a copy request may not specifically refer to a delete marker by version id."
                ));
            }
            Err(EngineError::DeleteMarker { .. }) => return Err(s3_err(EngineError::NoSuchKey)),
            other => engine(other)?,
        };
        engine(pre.check(&src, EngineError::PreconditionFailed))?;
        let keys = self
            .open_object_keys(ctx, &src.doc.encryption, &src.bucket, &src.key, customer)
            .await?;
        Ok((src, keys, record))
    }
}
