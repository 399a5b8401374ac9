use super::StrongboxS3;
use super::convert::{Preconditions, engine};
use crate::context::RequestContext;
use s3s::dto::CopySource;
use s3s::{S3Result, s3_error};
use strongbox_engine::EngineError;
use strongbox_meta::ObjectRecord;

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
    ) -> S3Result<(ObjectRecord, strongbox_engine::ObjectKeys)> {
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
        if version_id.as_deref().is_some_and(|v| v != "null") {
            return Err(s3_error!(InvalidArgument, "Invalid version id specified"));
        }
        let record = engine(self.engine.bucket(bucket).await)?;
        let policy = self.bucket_policy(&record)?;
        self.authorize_object(ctx, &record, policy.as_deref(), "s3:GetObject", key)?;
        let src = engine(self.engine.object(bucket, key).await)?;
        engine(pre.check(&src, EngineError::PreconditionFailed))?;
        let keys = self
            .open_object_keys(ctx, &src.doc.encryption, &src.bucket, &src.key, customer)
            .await?;
        Ok((src, keys))
    }
}
