//! Object Lock: the bucket configuration, the lock a new version gets, and
//! the rules for changing a version's retention and legal hold.
//!
//! Every judgement uses the server clock ([`now_ms`]): a retention ends when
//! the clock passes its date. A clock set forward ends retention early, one
//! set back extends it; docs/design/object-lock.md says how to run the clock.
//! The store re-checks a delete against the lock inside the delete's
//! transaction, and a lock change is a compare-and-swap of the state it was
//! judged against, so two racing requests cannot together do what neither
//! could alone.
use crate::{Engine, EngineError, Result, now_ms};
use strongbox_meta::{
    BucketObjectLock, BucketRecord, BucketUpdate, LockMode, ObjectLock, Retention, RetentionPeriod, VersioningState,
};

const DAY_MS: i64 = 86_400_000;
/// The longest default retention AWS accepts.
pub const MAX_DEFAULT_DAYS: u32 = 36_500;
pub const MAX_DEFAULT_YEARS: u32 = 100;
/// Attempts at a lock change that keeps losing its compare-and-swap.
const CAS_ATTEMPTS: usize = 16;

/// The bucket does not have Object Lock: AWS's 400 InvalidRequest.
fn missing_configuration() -> EngineError {
    EngineError::InvalidRequest("Bucket is missing Object Lock Configuration".into())
}

/// A lock change a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockChange {
    /// PutObjectRetention: a new retention, or (`None`) none.
    Retention(Option<Retention>),
    /// PutObjectLegalHold: ON or OFF.
    LegalHold(bool),
}

/// Whether `change` may be made to a version whose lock is `current`, at
/// `now_ms`, by a caller who may (`bypass_governance`) or may not bypass
/// governance retention. A retention whose date has passed protects nothing.
pub fn judge_change(current: &ObjectLock, change: LockChange, now_ms: i64, bypass_governance: bool) -> Result<()> {
    let LockChange::Retention(new) = change else {
        // A legal hold is its own permission (s3:PutObjectLegalHold), checked by the caller.
        return Ok(());
    };
    if let Some(r) = new
        && r.until_ms <= now_ms
    {
        return Err(EngineError::InvalidArgument(
            "The retain until date must be in the future!".into(),
        ));
    }
    let Some(old) = current.active_retention(now_ms) else {
        return Ok(());
    };
    let kept_or_extended = new.is_some_and(|n| n.mode == old.mode && n.until_ms >= old.until_ms);
    match old.mode {
        _ if kept_or_extended => Ok(()),
        // Nothing shortens, removes or changes the mode of compliance retention.
        LockMode::Compliance => Err(EngineError::ObjectLocked),
        // Shortening, removing, or moving governance to compliance needs the bypass.
        LockMode::Governance if bypass_governance => Ok(()),
        LockMode::Governance => Err(EngineError::ObjectLocked),
    }
}

/// The end of a default retention period that starts at `from_ms`. A year
/// is 365 days.
pub fn default_until(period: RetentionPeriod, from_ms: i64) -> i64 {
    let days = match period {
        RetentionPeriod::Days(d) => i64::from(d),
        RetentionPeriod::Years(y) => i64::from(y) * 365,
    };
    from_ms.saturating_add(days.saturating_mul(DAY_MS))
}

/// The whole days left until `until_ms` (`s3:object-lock-remaining-retention-days`), rounded up.
pub fn remaining_days(until_ms: i64, now_ms: i64) -> i64 {
    let left = until_ms.saturating_sub(now_ms).max(0);
    left / DAY_MS + i64::from(left % DAY_MS != 0)
}

impl Engine {
    /// The lock a new version of `bucket` gets, written at `now_ms`: what the
    /// request asked for, and the bucket's default retention when it named
    /// none. Asking for a lock in a bucket without Object Lock is refused.
    pub(crate) fn lock_for_new(bucket: &BucketRecord, requested: ObjectLock, now_ms: i64) -> Result<ObjectLock> {
        let Some(config) = bucket.object_lock else {
            return if requested.is_empty() {
                Ok(requested)
            } else {
                Err(missing_configuration())
            };
        };
        if let Some(r) = requested.retention
            && r.until_ms <= now_ms
        {
            return Err(EngineError::InvalidArgument(
                "The retain until date must be in the future!".into(),
            ));
        }
        let retention = requested.retention.or_else(|| {
            config.default_retention.map(|d| Retention {
                mode: d.mode,
                until_ms: default_until(d.period, now_ms),
            })
        });
        Ok(ObjectLock {
            retention,
            legal_hold: requested.legal_hold,
        })
    }

    /// PutObjectLockConfiguration: enables Object Lock (on a bucket whose
    /// versioning is enabled) and sets or clears its default retention.
    pub async fn set_object_lock_configuration(&self, bucket: &str, config: BucketObjectLock) -> Result<()> {
        if let Some(d) = config.default_retention {
            let (n, max) = match d.period {
                RetentionPeriod::Days(n) => (n, MAX_DEFAULT_DAYS),
                RetentionPeriod::Years(n) => (n, MAX_DEFAULT_YEARS),
            };
            if n == 0 {
                return Err(EngineError::InvalidArgument(
                    "Default retention period must be a positive integer value.".into(),
                ));
            }
            if n > max {
                return Err(EngineError::InvalidArgument(
                    "Default retention period is too large.".into(),
                ));
            }
        }
        match self.meta.set_bucket_object_lock(bucket, &config).await? {
            BucketUpdate::Done => Ok(()),
            BucketUpdate::NotFound => Err(EngineError::NoSuchBucket),
            BucketUpdate::Refused => Err(EngineError::InvalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration".into(),
            )),
        }
    }

    /// GetObjectLockConfiguration.
    pub async fn object_lock_configuration(&self, bucket: &str) -> Result<BucketObjectLock> {
        self.bucket(bucket)
            .await?
            .object_lock
            .ok_or(EngineError::ObjectLockConfigurationNotFound)
    }

    /// The lock of one version (`None`: the current one) of a bucket with
    /// Object Lock, with the version's id.
    pub async fn object_lock(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<(String, ObjectLock)> {
        let record = self.bucket(bucket).await?;
        if record.object_lock.is_none() {
            return Err(missing_configuration());
        }
        let object = self.object_version(bucket, key, version_id).await?;
        Ok((object.version_id, object.doc.lock))
    }

    /// PutObjectRetention / PutObjectLegalHold on one version (`None`: the
    /// current one), judged by [`judge_change`]; returns the version's id.
    pub async fn change_object_lock(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: LockChange,
        bypass_governance: bool,
    ) -> Result<String> {
        let record = self.bucket(bucket).await?;
        if record.object_lock.is_none() {
            return Err(missing_configuration());
        }
        debug_assert_eq!(record.versioning_state(), VersioningState::Enabled);
        for _ in 0..CAS_ATTEMPTS {
            let object = self.object_version(bucket, key, version_id).await?;
            let current = object.doc.lock;
            judge_change(&current, change, now_ms(), bypass_governance)?;
            let mut next = current;
            match change {
                LockChange::Retention(r) => next.retention = r,
                LockChange::LegalHold(on) => next.legal_hold = Some(on),
            }
            if self
                .meta
                .set_object_lock(bucket, key, &object.version_id, &current, &next)
                .await?
            {
                return Ok(object.version_id);
            }
        }
        Err(EngineError::Internal(
            "the object's lock kept changing; the change was not made".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(mode: LockMode, until_ms: i64) -> ObjectLock {
        ObjectLock {
            retention: Some(Retention { mode, until_ms }),
            legal_hold: None,
        }
    }

    fn to(mode: LockMode, until_ms: i64) -> LockChange {
        LockChange::Retention(Some(Retention { mode, until_ms }))
    }

    #[test]
    fn compliance_only_extends() {
        let c = lock(LockMode::Compliance, 1_000);
        for bypass in [false, true] {
            assert!(judge_change(&c, to(LockMode::Compliance, 2_000), 10, bypass).is_ok());
            assert!(judge_change(&c, to(LockMode::Compliance, 1_000), 10, bypass).is_ok());
            for refused in [
                to(LockMode::Compliance, 999),
                to(LockMode::Governance, 5_000),
                LockChange::Retention(None),
            ] {
                assert!(
                    matches!(judge_change(&c, refused, 10, bypass), Err(EngineError::ObjectLocked)),
                    "{refused:?} bypass={bypass}"
                );
            }
        }
        // Once its date has passed it protects nothing.
        assert!(judge_change(&c, LockChange::Retention(None), 1_000, false).is_ok());
    }

    #[test]
    fn governance_needs_bypass_to_weaken() {
        let g = lock(LockMode::Governance, 1_000);
        assert!(judge_change(&g, to(LockMode::Governance, 2_000), 10, false).is_ok());
        for weaker in [
            to(LockMode::Governance, 500),
            to(LockMode::Compliance, 2_000),
            LockChange::Retention(None),
        ] {
            assert!(matches!(
                judge_change(&g, weaker, 10, false),
                Err(EngineError::ObjectLocked)
            ));
            assert!(judge_change(&g, weaker, 10, true).is_ok(), "{weaker:?}");
        }
    }

    #[test]
    fn past_dates_and_periods() {
        let none = ObjectLock::default();
        assert!(matches!(
            judge_change(&none, to(LockMode::Governance, 10), 10, true),
            Err(EngineError::InvalidArgument(_))
        ));
        assert!(judge_change(&none, LockChange::LegalHold(true), 10, false).is_ok());
        assert_eq!(default_until(RetentionPeriod::Days(2), 5), 5 + 2 * DAY_MS);
        assert_eq!(default_until(RetentionPeriod::Years(1), 0), 365 * DAY_MS);
        assert_eq!(remaining_days(DAY_MS + 1, 0), 2);
        assert_eq!(remaining_days(DAY_MS, 0), 1);
        assert_eq!(remaining_days(0, 5), 0);
    }
}
