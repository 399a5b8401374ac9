//! Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.
//! A public policy is refused while BlockPublicPolicy is on (the store
//! checks it in the write's transaction).
//! Who may call them (the owner's root always; other accounts never) is the
//! gate's business; this validates, stores and reports.
use super::StrongboxS3;
use super::convert::engine;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use strongbox_meta::BucketUpdate;
use strongbox_policy::PolicyKind;

impl StrongboxS3 {
    pub(super) async fn do_put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let bucket = req.input.bucket;
        engine(self.engine.bucket(&bucket).await)?;
        let text = req.input.policy;
        let kind = PolicyKind::Bucket { bucket: bucket.clone() };
        let public = match strongbox_policy::Policy::parse(&text, &kind) {
            Ok(p) => p.is_public(),
            Err(e) => return Err(S3Error::with_message(S3ErrorCode::MalformedPolicy, e.to_string())),
        };
        let outcome = self
            .engine
            .meta()
            .set_bucket_policy(&bucket, Some(&text), public)
            .await
            .map_err(|e| super::s3_err(e.into()))?;
        match outcome {
            BucketUpdate::Done => {}
            BucketUpdate::NotFound => return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist")),
            BucketUpdate::Refused => {
                return Err(s3_error!(
                    AccessDenied,
                    "Access Denied: public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access."
                ));
            }
        }
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    pub(super) async fn do_get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let policy = self.stored_policy(&req.input.bucket).await?;
        Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) }))
    }

    pub(super) async fn do_delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let bucket = req.input.bucket;
        let removed = self
            .engine
            .meta()
            .set_bucket_policy(&bucket, None, false)
            .await
            .map_err(|e| super::s3_err(e.into()))?;
        if removed == BucketUpdate::NotFound {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"));
        }
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    pub(super) async fn do_get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        let bucket = engine(self.engine.bucket(&req.input.bucket).await)?;
        let text = bucket
            .policy
            .clone()
            .ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))?;
        let kind = PolicyKind::Bucket {
            bucket: bucket.name.clone(),
        };
        let policy = strongbox_policy::Policy::parse(&text, &kind).map_err(|e| {
            tracing::error!(error = %e, "a stored bucket policy no longer parses");
            s3_error!(InternalError)
        })?;
        // RestrictPublicBuckets makes a public policy grant nothing outside
        // the owner's account, so the bucket is not public through it.
        let restricted = bucket.effective_public_access_block().restrict_public_buckets;
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(policy.is_public() && !restricted),
            }),
        }))
    }

    async fn stored_policy(&self, bucket: &str) -> S3Result<String> {
        engine(self.engine.bucket(bucket).await)?
            .policy
            .ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))
    }
}
