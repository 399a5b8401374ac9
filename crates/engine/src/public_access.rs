//! Block Public Access settings: the bucket's own, the account's (S3
//! Control). The request path enforces the most restrictive of the two
//! ([`BucketRecord::effective_public_access_block`]), read with the bucket
//! record on every request, so a change made on one node holds on every
//! node at once.
use crate::{Engine, EngineError, Result};
use strongbox_meta::{BucketRecord, BucketUpdate, PublicAccessBlock};

impl Engine {
    /// GetPublicAccessBlock (bucket).
    pub fn bucket_public_access_block(bucket: &BucketRecord) -> Result<PublicAccessBlock> {
        bucket
            .settings
            .public_access_block
            .ok_or(EngineError::NoSuchPublicAccessBlockConfiguration)
    }

    /// Put (`Some`) or Delete (`None`) PublicAccessBlock on a bucket.
    pub async fn set_bucket_public_access_block(&self, bucket: &str, block: Option<PublicAccessBlock>) -> Result<()> {
        let edit = Box::new(move |s: &mut strongbox_meta::BucketSettings| {
            s.public_access_block = block;
            true
        });
        match self.meta.update_bucket_settings(bucket, edit).await? {
            BucketUpdate::Done | BucketUpdate::Refused => Ok(()),
            BucketUpdate::NotFound => Err(EngineError::NoSuchBucket),
        }
    }

    /// The account-level setting, if the account has one.
    pub async fn account_public_access_block(&self, account: &str) -> Result<Option<PublicAccessBlock>> {
        Ok(self.meta.account_settings(account).await?.public_access_block)
    }

    /// S3 Control Put (`Some`) or Delete (`None`) PublicAccessBlock.
    pub async fn set_account_public_access_block(&self, account: &str, block: Option<PublicAccessBlock>) -> Result<()> {
        let edit = Box::new(move |s: &mut strongbox_meta::AccountSettings| {
            s.public_access_block = block;
            true
        });
        match self.meta.update_account_settings(account, edit).await? {
            BucketUpdate::Done | BucketUpdate::Refused => Ok(()),
            BucketUpdate::NotFound => Err(EngineError::Internal(format!("account {account} does not exist"))),
        }
    }
}
