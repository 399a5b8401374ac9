use crate::{Engine, EngineError, Result, now_ms};
use strongbox_meta::{
    BucketObjectLock, BucketRecord, BucketSettings, BucketVersioning, CreateBucket, DeleteBucket, PublicAccessBlock,
    Tag,
};
use strongbox_types::{AccountId, BucketName};

impl Engine {
    pub async fn create_bucket(&self, owner: &AccountId, name: &BucketName, region: &str) -> Result<()> {
        self.create_bucket_with(owner, name, region, false).await
    }

    /// CreateBucket; with `object_lock` (`x-amz-bucket-object-lock-enabled`)
    /// the bucket starts with versioning enabled and Object Lock on, for good.
    pub async fn create_bucket_with(
        &self,
        owner: &AccountId,
        name: &BucketName,
        region: &str,
        object_lock: bool,
    ) -> Result<()> {
        let record = BucketRecord {
            name: name.to_string(),
            owner: owner.clone(),
            region: region.to_owned(),
            created_ms: now_ms(),
            tags: None,
            policy: None,
            encryption: None,
            versioning: object_lock.then_some(BucketVersioning {
                enabled: true,
                mfa_delete: false,
            }),
            object_lock: object_lock.then(BucketObjectLock::default),
            // AWS's default since April 2023: a new bucket blocks all public access.
            settings: BucketSettings {
                public_access_block: Some(PublicAccessBlock::ALL),
            },
            account_public_access_block: None,
        };
        match self.meta.create_bucket(&record).await? {
            CreateBucket::Created => Ok(()),
            CreateBucket::Exists(o) if &o == owner => Err(EngineError::BucketAlreadyOwnedByYou),
            CreateBucket::Exists(o) => Err(EngineError::BucketAlreadyExists(o)),
        }
    }

    /// The bucket's record, or NoSuchBucket.
    pub async fn bucket(&self, name: &str) -> Result<BucketRecord> {
        self.meta.get_bucket(name).await?.ok_or(EngineError::NoSuchBucket)
    }

    pub async fn list_buckets(&self, owner: &AccountId) -> Result<Vec<BucketRecord>> {
        Ok(self.meta.list_buckets(owner.as_str()).await?)
    }

    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        match self.meta.delete_bucket(name).await? {
            DeleteBucket::Deleted { released } => {
                self.release(released).await;
                Ok(())
            }
            DeleteBucket::NotFound => Err(EngineError::NoSuchBucket),
            DeleteBucket::NotEmpty => Err(EngineError::BucketNotEmpty),
        }
    }

    pub async fn set_bucket_tags(&self, name: &str, tags: Option<Vec<Tag>>) -> Result<()> {
        if let Some(t) = &tags {
            crate::validate_bucket_tags(t)?;
        }
        if self.meta.set_bucket_tags(name, tags.as_deref()).await? {
            Ok(())
        } else {
            Err(EngineError::NoSuchBucket)
        }
    }

    pub async fn bucket_tags(&self, name: &str) -> Result<Vec<Tag>> {
        self.bucket(name).await?.tags.ok_or(EngineError::NoSuchTagSet)
    }
}
