use super::convert::{engine, tags_from_dto, tags_to_dto, timestamp};
use super::{StrongboxS3, caller_account};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use strongbox_types::BucketName;

impl StrongboxS3 {
    pub(super) async fn do_list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let account = caller_account(&req)?;
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let buckets = engine(self.engine.list_buckets(&account).await)?
            .into_iter()
            .filter(|b| b.name.starts_with(&prefix))
            .map(|b| Bucket {
                name: Some(b.name),
                creation_date: Some(timestamp(b.created_ms)),
                bucket_region: Some(b.region),
                ..Default::default()
            })
            .collect();
        let out = ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(self.owner_of(&account).await?),
            prefix: req.input.prefix,
            ..Default::default()
        };
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let account = caller_account(&req)?;
        let requested = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_owned());
        // Decided here rather than in the gate: s3:LocationConstraint comes
        // from the request body, which the gate cannot see.
        let ctx = super::context(&req)?;
        let mut keys = ctx.conditions.clone();
        if let Some(location) = requested.as_deref().filter(|l| !l.is_empty()) {
            keys.insert("s3:LocationConstraint", location);
        }
        let resource =
            crate::actions::resource_arn(crate::actions::ResourceKind::Bucket, Some(&req.input.bucket), None);
        let side = crate::authz::ResourceSide::account(Some(account.as_str()));
        super::authorize_one(ctx, &keys, "s3:CreateBucket", &resource, side)?;
        let object_lock = req.input.object_lock_enabled_for_bucket == Some(true);
        if object_lock {
            // As AWS: a bucket created with Object Lock also takes these two.
            for action in ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"] {
                super::authorize_one(ctx, &keys, action, &resource, side)?;
            }
        }
        let name = BucketName::parse(&req.input.bucket)
            .map_err(|_| s3_error!(InvalidBucketName, "The specified bucket is not valid."))?;
        // As in AWS: us-east-1 takes no LocationConstraint; any other must match the endpoint's region.
        match requested.as_deref() {
            None | Some("") if self.region == "us-east-1" => {}
            Some(r) if r == self.region && r != "us-east-1" => {}
            None | Some("") => {}
            Some(r) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidLocationConstraint,
                    format!(
                        "The specified location-constraint {r} is not valid for this endpoint ({}).",
                        self.region
                    ),
                ));
            }
        }
        engine(
            self.engine
                .create_bucket_with(&account, &name, &self.region, object_lock)
                .await,
        )?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
            ..Default::default()
        }))
    }

    pub(super) async fn do_head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let b = engine(self.engine.bucket(&req.input.bucket).await)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(b.region),
            ..Default::default()
        }))
    }

    pub(super) async fn do_delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        engine(self.engine.delete_bucket(&req.input.bucket).await)?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    pub(super) async fn do_get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let b = engine(self.engine.bucket(&req.input.bucket).await)?;
        // us-east-1 is reported as an empty LocationConstraint, as AWS does.
        let location = (b.region != "us-east-1").then(|| BucketLocationConstraint::from(b.region));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    pub(super) async fn do_put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let tags = tags_from_dto(req.input.tagging);
        engine(self.engine.set_bucket_tags(&req.input.bucket, Some(tags)).await)?;
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    pub(super) async fn do_get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let tags = engine(self.engine.bucket_tags(&req.input.bucket).await)?;
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: tags_to_dto(&tags),
        }))
    }

    pub(super) async fn do_delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        engine(self.engine.set_bucket_tags(&req.input.bucket, None).await)?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }
}
