//! Block Public Access on a bucket: Put/Get/DeletePublicAccessBlock. What
//! the flags do is enforced where the decision is made: BlockPublicPolicy in
//! PutBucketPolicy (the store's transaction), RestrictPublicBuckets in the
//! authorization gate, the ACL flags where ACLs are set and evaluated.
use super::StrongboxS3;
use super::convert::engine;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use strongbox_engine::Engine;
use strongbox_meta::PublicAccessBlock;

/// The XML form of the flags (absent elements are false, as AWS).
pub(crate) fn from_dto(c: &PublicAccessBlockConfiguration) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    }
}

pub(crate) fn to_dto(b: PublicAccessBlock) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration {
        block_public_acls: Some(b.block_public_acls),
        ignore_public_acls: Some(b.ignore_public_acls),
        block_public_policy: Some(b.block_public_policy),
        restrict_public_buckets: Some(b.restrict_public_buckets),
    }
}

impl StrongboxS3 {
    pub(super) async fn do_put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let i = &req.input;
        let block = from_dto(&i.public_access_block_configuration);
        engine(self.engine.set_bucket_public_access_block(&i.bucket, Some(block)).await)?;
        Ok(S3Response::new(PutPublicAccessBlockOutput {}))
    }

    pub(super) async fn do_get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let bucket = engine(self.engine.bucket(&req.input.bucket).await)?;
        let block = engine(Engine::bucket_public_access_block(&bucket))?;
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(to_dto(block)),
        }))
    }

    pub(super) async fn do_delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        engine(
            self.engine
                .set_bucket_public_access_block(&req.input.bucket, None)
                .await,
        )?;
        Ok(S3Response::new(DeletePublicAccessBlockOutput {}))
    }
}
