//! Bucket default encryption: Put/Get/DeleteBucketEncryption. Every bucket
//! encrypts by default with SSE-S3; the owner may choose SSE-KMS or DSSE-KMS
//! (with a key and S3 Bucket Keys) and block SSE-C writes.
use super::StrongboxS3;
use super::convert::engine;
use super::sse::{DSSE_KMS, SSE_KMS};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::SSE_S3;
use strongbox_meta::BucketEncryption;

fn malformed() -> s3s::S3Error {
    s3_error!(
        MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema"
    )
}

/// Validates the one rule S3 accepts.
fn parse_rule(config: ServerSideEncryptionConfiguration) -> S3Result<BucketEncryption> {
    let mut rules = config.rules.into_iter();
    let (Some(rule), None) = (rules.next(), rules.next()) else {
        return Err(malformed());
    };
    let (algorithm, kms_key_id) = match rule.apply_server_side_encryption_by_default {
        Some(d) => (d.sse_algorithm.as_str().to_owned(), d.kms_master_key_id),
        None => (SSE_S3.to_owned(), None),
    };
    if ![SSE_S3, SSE_KMS, DSSE_KMS].contains(&algorithm.as_str()) {
        return Err(malformed());
    }
    let kms_key_id = kms_key_id.filter(|k| !k.is_empty());
    if kms_key_id.is_some() && algorithm == SSE_S3 {
        return Err(s3_error!(
            InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
        ));
    }
    let mut blocked_types = Vec::new();
    for t in rule
        .blocked_encryption_types
        .and_then(|b| b.encryption_type)
        .unwrap_or_default()
    {
        match t.as_str() {
            EncryptionType::SSE_C => blocked_types.push(EncryptionType::SSE_C.to_owned()),
            EncryptionType::NONE => {}
            _ => return Err(malformed()),
        }
    }
    Ok(BucketEncryption {
        algorithm,
        kms_key_id,
        bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false),
        blocked_types,
    })
}

fn rule_dto(e: &BucketEncryption) -> ServerSideEncryptionRule {
    ServerSideEncryptionRule {
        apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
            kms_master_key_id: e.kms_key_id.clone(),
            sse_algorithm: ServerSideEncryption::from(e.algorithm.clone()),
        }),
        blocked_encryption_types: (!e.blocked_types.is_empty()).then(|| BlockedEncryptionTypes {
            encryption_type: Some(
                e.blocked_types
                    .iter()
                    .map(|t| EncryptionType::from(t.clone()))
                    .collect(),
            ),
        }),
        bucket_key_enabled: Some(e.bucket_key_enabled),
    }
}

impl StrongboxS3 {
    pub(super) async fn do_put_bucket_encryption(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        let i = req.input;
        engine(self.engine.bucket(&i.bucket).await)?;
        let rule = parse_rule(i.server_side_encryption_configuration)?;
        let stored = self
            .engine
            .meta()
            .set_bucket_encryption(&i.bucket, Some(&rule))
            .await
            .map_err(|e| super::s3_err(e.into()))?;
        if !stored {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"));
        }
        Ok(S3Response::new(PutBucketEncryptionOutput {}))
    }

    pub(super) async fn do_get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        let bucket = engine(self.engine.bucket(&req.input.bucket).await)?;
        // Every bucket has a default: SSE-S3 until the owner says otherwise.
        let rule = bucket.encryption.unwrap_or_else(|| BucketEncryption {
            algorithm: SSE_S3.into(),
            kms_key_id: None,
            bucket_key_enabled: false,
            blocked_types: Vec::new(),
        });
        Ok(S3Response::new(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
                rules: vec![rule_dto(&rule)],
            }),
        }))
    }

    pub(super) async fn do_delete_bucket_encryption(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        let reset = self
            .engine
            .meta()
            .set_bucket_encryption(&req.input.bucket, None)
            .await
            .map_err(|e| super::s3_err(e.into()))?;
        if !reset {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"));
        }
        Ok(S3Response::new(DeleteBucketEncryptionOutput {}))
    }
}
