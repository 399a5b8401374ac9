//! Object Lock over S3: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
//! Put/GetObjectLegalHold, the `x-amz-object-lock-*` headers of writes and
//! reads, and the governance bypass. The rules live in the engine
//! (`strongbox_engine::lock`); this module parses, authorizes and answers.
use super::convert::{engine, timestamp};
use super::{StrongboxS3, authorize_one, context};
use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::LockChange;
use strongbox_engine::lock::remaining_days;
use strongbox_meta::{
    BucketObjectLock, BucketRecord, DefaultRetention as StoredDefault, LockMode, ObjectLock, ObjectRecord, Retention,
    RetentionPeriod,
};

fn malformed() -> s3s::S3Error {
    s3_error!(
        MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema"
    )
}

fn epoch_ms(t: &Timestamp) -> i64 {
    let nanos = time::OffsetDateTime::from(t.clone()).unix_timestamp_nanos() / 1_000_000;
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

fn now_ms() -> i64 {
    strongbox_identity::ms_since_epoch(std::time::SystemTime::now())
}

fn lock_mode(s: &str) -> Option<LockMode> {
    match s {
        "GOVERNANCE" => Some(LockMode::Governance),
        "COMPLIANCE" => Some(LockMode::Compliance),
        _ => None,
    }
}

/// The lock a write's `x-amz-object-lock-*` headers ask for, validated as AWS does.
pub(super) fn requested_lock(
    mode: Option<&ObjectLockMode>,
    until: Option<&Timestamp>,
    legal_hold: Option<&ObjectLockLegalHoldStatus>,
) -> S3Result<ObjectLock> {
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(m), Some(u)) => {
            let mode =
                lock_mode(m.as_str()).ok_or_else(|| s3_error!(InvalidArgument, "Unknown wormMode directive."))?;
            Some(Retention {
                mode,
                until_ms: epoch_ms(u),
            })
        }
        _ => {
            return Err(s3_error!(
                InvalidArgument,
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
            ));
        }
    };
    let legal_hold = match legal_hold.map(ObjectLockLegalHoldStatus::as_str) {
        None => None,
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        Some(_) => {
            return Err(s3_error!(InvalidArgument, "Legal Hold must be either of 'ON' or 'OFF'"));
        }
    };
    Ok(ObjectLock { retention, legal_hold })
}

/// Whether the request carries an integrity check of its body: Content-MD5,
/// an `x-amz-checksum-*` value, or a checksum trailer.
fn has_integrity_check(headers: &HeaderMap) -> bool {
    headers.contains_key("content-md5")
        || headers.contains_key("x-amz-sdk-checksum-algorithm")
        || headers.keys().any(|k| {
            k.as_str()
                .strip_prefix("x-amz-checksum-")
                .is_some_and(|alg| !matches!(alg, "type" | "algorithm" | "mode"))
        })
        || headers.get_all("x-amz-trailer").iter().any(|v| {
            v.to_str()
                .is_ok_and(|t| t.to_ascii_lowercase().contains("x-amz-checksum-"))
        })
}

/// AWS refuses an upload that will be locked (by its headers or by the
/// bucket's default retention) unless its body carries an integrity check.
/// `bucket` is where a default retention would come from (`None`: it does not matter).
pub(super) fn require_integrity(headers: &HeaderMap, bucket: Option<&BucketRecord>, lock: &ObjectLock) -> S3Result<()> {
    let default_applies = bucket.is_some_and(|b| b.object_lock.is_some_and(|l| l.default_retention.is_some()));
    if (lock.is_empty() && !default_applies) || has_integrity_check(headers) {
        return Ok(());
    }
    Err(s3_error!(
        InvalidRequest,
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
    ))
}

/// The `x-amz-object-lock-*` headers a GET or HEAD shows: each only to a
/// caller allowed to read it (s3:GetObjectRetention, s3:GetObjectLegalHold), as AWS.
pub(super) struct LockHeaders {
    pub mode: Option<ObjectLockMode>,
    pub until: Option<Timestamp>,
    pub legal_hold: Option<ObjectLockLegalHoldStatus>,
}

fn hold_status(on: bool) -> ObjectLockLegalHoldStatus {
    ObjectLockLegalHoldStatus::from_static(if on {
        ObjectLockLegalHoldStatus::ON
    } else {
        ObjectLockLegalHoldStatus::OFF
    })
}

fn mode_dto(m: LockMode) -> ObjectLockRetentionMode {
    ObjectLockRetentionMode::from(m.as_str().to_owned())
}

impl StrongboxS3 {
    pub(super) fn lock_headers(
        &self,
        ctx: &crate::context::RequestContext,
        bucket: &BucketRecord,
        o: &ObjectRecord,
    ) -> LockHeaders {
        let mut out = LockHeaders {
            mode: None,
            until: None,
            legal_hold: None,
        };
        if bucket.object_lock.is_none() || o.doc.lock.is_empty() {
            return out;
        }
        let Ok(policy) = self.bucket_policy(bucket) else {
            return out;
        };
        let may = |action| {
            self.authorize_object(ctx, bucket, policy.as_deref(), action, &o.key)
                .is_ok()
        };
        if let Some(r) = o.doc.lock.retention
            && may("s3:GetObjectRetention")
        {
            out.mode = Some(ObjectLockMode::from(r.mode.as_str().to_owned()));
            out.until = Some(timestamp(r.until_ms));
        }
        if let Some(on) = o.doc.lock.legal_hold
            && may("s3:GetObjectLegalHold")
        {
            out.legal_hold = Some(hold_status(on));
        }
        out
    }

    /// Whether a request may bypass governance retention: it says so
    /// (`x-amz-bypass-governance-retention: true`) and is allowed
    /// s3:BypassGovernanceRetention on the object.
    pub(super) fn may_bypass_governance(
        &self,
        ctx: &crate::context::RequestContext,
        bucket: &BucketRecord,
        header: Option<bool>,
        key: &str,
    ) -> S3Result<bool> {
        if header != Some(true) {
            return Ok(false);
        }
        let policy = self.bucket_policy(bucket)?;
        Ok(self
            .authorize_object(ctx, bucket, policy.as_deref(), "s3:BypassGovernanceRetention", key)
            .is_ok())
    }

    /// Decides an Object Lock write the gate left to the handler because
    /// its condition keys come from the body.
    fn authorize_lock_write(
        &self,
        ctx: &crate::context::RequestContext,
        bucket: &BucketRecord,
        key: &str,
        action: &str,
        extra: &[(&str, String)],
    ) -> S3Result<()> {
        let mut keys = ctx.conditions.clone();
        for (k, v) in extra {
            keys.insert(k, v);
        }
        let policy = self.bucket_policy(bucket)?;
        let resource =
            crate::actions::resource_arn(crate::actions::ResourceKind::Object, Some(&bucket.name), Some(key));
        authorize_one(
            ctx,
            &keys,
            action,
            &resource,
            crate::authz::ResourceSide::bucket(bucket, policy.as_deref()),
        )
    }

    pub(super) async fn do_put_object_lock_configuration(
        &self,
        req: S3Request<PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
        let i = &req.input;
        let conf = i.object_lock_configuration.as_ref().ok_or_else(malformed)?;
        if conf.object_lock_enabled.as_ref().map(ObjectLockEnabled::as_str) != Some(ObjectLockEnabled::ENABLED) {
            return Err(malformed());
        }
        let default_retention = match conf.rule.as_ref().map(|r| r.default_retention.as_ref()) {
            None => None,
            Some(None) => return Err(malformed()),
            Some(Some(d)) => {
                let mode = d
                    .mode
                    .as_ref()
                    .and_then(|m| lock_mode(m.as_str()))
                    .ok_or_else(malformed)?;
                let positive = |n: i32| {
                    u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                        s3_error!(
                            InvalidArgument,
                            "Default retention period must be a positive integer value."
                        )
                    })
                };
                let period = match (d.days, d.years) {
                    (Some(days), None) => RetentionPeriod::Days(positive(days)?),
                    (None, Some(years)) => RetentionPeriod::Years(positive(years)?),
                    _ => return Err(malformed()),
                };
                Some(StoredDefault { mode, period })
            }
        };
        engine(
            self.engine
                .set_object_lock_configuration(&i.bucket, BucketObjectLock { default_retention })
                .await,
        )?;
        Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
    }

    pub(super) async fn do_get_object_lock_configuration(
        &self,
        req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        let lock = engine(self.engine.object_lock_configuration(&req.input.bucket).await)?;
        let rule = lock.default_retention.map(|d| {
            let (days, years) = match d.period {
                RetentionPeriod::Days(n) => (i32::try_from(n).ok(), None),
                RetentionPeriod::Years(n) => (None, i32::try_from(n).ok()),
            };
            ObjectLockRule {
                default_retention: Some(DefaultRetention {
                    days,
                    years,
                    mode: Some(mode_dto(d.mode)),
                }),
            }
        });
        Ok(S3Response::new(GetObjectLockConfigurationOutput {
            object_lock_configuration: Some(ObjectLockConfiguration {
                object_lock_enabled: Some(ObjectLockEnabled::from_static(ObjectLockEnabled::ENABLED)),
                rule,
            }),
        }))
    }

    pub(super) async fn do_put_object_retention(
        &self,
        req: S3Request<PutObjectRetentionInput>,
    ) -> S3Result<S3Response<PutObjectRetentionOutput>> {
        let ctx = context(&req)?;
        let i = &req.input;
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let r = i.retention.as_ref().ok_or_else(malformed)?;
        // An empty <Retention/> removes it (governance only, with the bypass).
        let retention = match (&r.mode, &r.retain_until_date) {
            (None, None) => None,
            (Some(m), Some(u)) => Some(Retention {
                mode: lock_mode(m.as_str()).ok_or_else(malformed)?,
                until_ms: epoch_ms(u),
            }),
            _ => return Err(malformed()),
        };
        let mut extra = Vec::new();
        if let (Some(m), Some(u)) = (&r.mode, &r.retain_until_date) {
            extra.push(("s3:object-lock-mode", m.as_str().to_owned()));
            let mut date = Vec::new();
            if u.format(TimestampFormat::DateTime, &mut date).is_ok() {
                extra.push((
                    "s3:object-lock-retain-until-date",
                    String::from_utf8_lossy(&date).into_owned(),
                ));
            }
            extra.push((
                "s3:object-lock-remaining-retention-days",
                remaining_days(epoch_ms(u), now_ms()).to_string(),
            ));
        }
        self.authorize_lock_write(ctx, &bucket, &i.key, "s3:PutObjectRetention", &extra)?;
        let bypass = self.may_bypass_governance(ctx, &bucket, i.bypass_governance_retention, &i.key)?;
        self.apply_lock_change(
            &i.bucket,
            &i.key,
            i.version_id.as_deref(),
            LockChange::Retention(retention),
            bypass,
        )
        .await?;
        Ok(S3Response::new(PutObjectRetentionOutput::default()))
    }

    pub(super) async fn do_get_object_retention(
        &self,
        req: S3Request<GetObjectRetentionInput>,
    ) -> S3Result<S3Response<GetObjectRetentionOutput>> {
        let i = &req.input;
        let lock = self.stored_lock(&i.bucket, &i.key, i.version_id.as_deref()).await?;
        let r = lock
            .retention
            .ok_or_else(|| super::s3_err(strongbox_engine::EngineError::NoSuchObjectLockConfiguration))?;
        Ok(S3Response::new(GetObjectRetentionOutput {
            retention: Some(ObjectLockRetention {
                mode: Some(mode_dto(r.mode)),
                retain_until_date: Some(timestamp(r.until_ms)),
            }),
        }))
    }

    pub(super) async fn do_put_object_legal_hold(
        &self,
        req: S3Request<PutObjectLegalHoldInput>,
    ) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
        let ctx = context(&req)?;
        let i = &req.input;
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let on = match i
            .legal_hold
            .as_ref()
            .and_then(|h| h.status.as_ref())
            .map(ObjectLockLegalHoldStatus::as_str)
        {
            Some("ON") => true,
            Some("OFF") => false,
            _ => return Err(malformed()),
        };
        let status = if on { "ON" } else { "OFF" };
        self.authorize_lock_write(
            ctx,
            &bucket,
            &i.key,
            "s3:PutObjectLegalHold",
            &[("s3:object-lock-legal-hold", status.to_owned())],
        )?;
        self.apply_lock_change(
            &i.bucket,
            &i.key,
            i.version_id.as_deref(),
            LockChange::LegalHold(on),
            false,
        )
        .await?;
        Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
    }

    pub(super) async fn do_get_object_legal_hold(
        &self,
        req: S3Request<GetObjectLegalHoldInput>,
    ) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
        let i = &req.input;
        let lock = self.stored_lock(&i.bucket, &i.key, i.version_id.as_deref()).await?;
        let on = lock
            .legal_hold
            .ok_or_else(|| super::s3_err(strongbox_engine::EngineError::NoSuchObjectLockConfiguration))?;
        Ok(S3Response::new(GetObjectLegalHoldOutput {
            legal_hold: Some(ObjectLockLegalHold {
                status: Some(hold_status(on)),
            }),
        }))
    }

    async fn apply_lock_change(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        change: LockChange,
        bypass: bool,
    ) -> S3Result<()> {
        engine(
            self.engine
                .change_object_lock(bucket, key, version, change, bypass)
                .await,
        )?;
        Ok(())
    }

    async fn stored_lock(&self, bucket: &str, key: &str, version: Option<&str>) -> S3Result<ObjectLock> {
        let (_, lock) = engine(self.engine.object_lock(bucket, key, version).await)?;
        Ok(lock)
    }
}
