//! The Object Lock part of the contract: the bucket settings' guards, and
//! permanent deletes refused inside the delete's transaction.
use super::*;

/// Object Lock: the bucket settings' guards, deletes refused inside the
/// store while a version is held, and compare-and-swap of a version's lock.
pub(super) async fn run(s: &dyn MetaStore) {
    assert!(s.create_bucket(&bucket("lk")).await.is_ok());
    let lock = BucketObjectLock {
        default_retention: Some(DefaultRetention {
            mode: LockMode::Governance,
            period: RetentionPeriod::Days(3),
        }),
    };
    assert_eq!(
        s.set_bucket_object_lock("lk", &lock).await.ok(),
        Some(BucketUpdate::Refused),
        "Object Lock needs versioning enabled"
    );
    assert_eq!(
        s.set_bucket_object_lock("nope", &lock).await.ok(),
        Some(BucketUpdate::NotFound)
    );
    let enabled = BucketVersioning {
        enabled: true,
        mfa_delete: false,
    };
    let suspended = BucketVersioning {
        enabled: false,
        mfa_delete: false,
    };
    assert_eq!(
        s.set_bucket_versioning("lk", &enabled).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.set_bucket_object_lock("lk", &lock).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.set_bucket_versioning("lk", &suspended).await.ok(),
        Some(BucketUpdate::Refused),
        "versioning stays on under Object Lock"
    );
    let got = s.get_bucket("lk").await.ok().flatten();
    assert_eq!(got.as_ref().and_then(|b| b.object_lock), Some(lock));
    assert_eq!(got.map(|b| b.versioning_state()), Some(VersioningState::Enabled));

    let mut held = object("lk", "k", "lb1");
    held.version_id = "v1".into();
    let until = LockCheck::now().now_ms + 60_000;
    held.doc.lock = ObjectLock {
        retention: Some(Retention {
            mode: LockMode::Governance,
            until_ms: until,
        }),
        legal_hold: None,
    };
    assert!(s.put_object(&held, &Expect::Any).await.is_ok());
    let at = |now_ms: i64, bypass_governance: bool| LockCheck {
        now_ms,
        bypass_governance,
    };
    let now = LockCheck::now().now_ms;
    assert_eq!(
        s.delete_version("lk", "k", "v1", &at(now, false)).await.ok(),
        Some(Deletion::Locked(LockBlock::Governance))
    );
    // Compare-and-swap: a stale expectation changes nothing.
    let compliance = ObjectLock {
        retention: Some(Retention {
            mode: LockMode::Compliance,
            until_ms: until,
        }),
        legal_hold: Some(true),
    };
    assert_eq!(
        s.set_object_lock("lk", "k", "v1", &ObjectLock::default(), &compliance)
            .await
            .ok(),
        Some(false)
    );
    assert_eq!(
        s.set_object_lock("lk", "k", "v1", &held.doc.lock, &compliance)
            .await
            .ok(),
        Some(true)
    );
    assert_eq!(
        s.set_object_lock("lk", "k", "nope", &compliance, &compliance)
            .await
            .ok(),
        Some(false)
    );
    let stored = s.get_version("lk", "k", Some("v1")).await.ok().flatten();
    assert_eq!(stored.map(|o| o.doc.lock), Some(compliance));
    // The legal hold outlives the retention; bypass does not lift either.
    assert_eq!(
        s.delete_version("lk", "k", "v1", &at(until + 1, true)).await.ok(),
        Some(Deletion::Locked(LockBlock::LegalHold))
    );
    let released = ObjectLock {
        legal_hold: Some(false),
        ..compliance
    };
    assert_eq!(
        s.set_object_lock("lk", "k", "v1", &compliance, &released).await.ok(),
        Some(true)
    );
    assert_eq!(
        s.delete_version("lk", "k", "v1", &at(now, true)).await.ok(),
        Some(Deletion::Locked(LockBlock::Compliance))
    );
    assert_eq!(
        s.delete_bucket("lk").await.ok(),
        Some(DeleteBucket::NotEmpty),
        "a held version keeps its bucket"
    );
    // Once the date has passed (by the clock the caller passes), it goes.
    let removed = s.delete_version("lk", "k", "v1", &at(until, false)).await.ok();
    assert!(matches!(removed, Some(Deletion::Removed(_))), "{removed:?}");
    assert!(matches!(s.delete_bucket("lk").await, Ok(DeleteBucket::Deleted { .. })));
}
