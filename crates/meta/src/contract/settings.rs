//! The settings part of the contract: bucket and account settings
//! documents, and the Block Public Access guard of `set_bucket_policy`.
use super::bucket;
use crate::*;

/// Settings documents: edits in one transaction, refused edits change
/// nothing, and the BlockPublicPolicy guard of `set_bucket_policy` reads both
/// the bucket's and the owner account's setting.
pub(super) async fn run(s: &dyn MetaStore) {
    assert!(s.create_bucket(&bucket("bpa")).await.is_ok());
    let policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let set = |block: Option<PublicAccessBlock>| -> SettingsEdit<BucketSettings> {
        Box::new(move |st: &mut BucketSettings| {
            st.public_access_block = block;
            true
        })
    };
    let only_policy = PublicAccessBlock {
        block_public_policy: true,
        ..Default::default()
    };
    assert_eq!(
        s.update_bucket_settings("bpa", set(Some(only_policy))).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.update_bucket_settings("nope", set(None)).await.ok(),
        Some(BucketUpdate::NotFound)
    );
    let declined: SettingsEdit<BucketSettings> = Box::new(|st: &mut BucketSettings| {
        st.public_access_block = None;
        false
    });
    assert_eq!(
        s.update_bucket_settings("bpa", declined).await.ok(),
        Some(BucketUpdate::Refused)
    );
    let stored = s.get_bucket("bpa").await.ok().flatten().map(|b| b.settings);
    assert_eq!(stored.and_then(|st| st.public_access_block), Some(only_policy));
    assert_eq!(
        s.set_bucket_policy("bpa", policy, true).await.ok(),
        Some(BucketUpdate::Refused)
    );
    assert_eq!(
        s.set_bucket_policy("bpa", policy, false).await.ok(),
        Some(BucketUpdate::Done)
    );
    // The bucket's own setting lifted, the account's still blocks.
    assert_eq!(
        s.update_bucket_settings("bpa", set(None)).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.account_settings("111122223333").await.ok(),
        Some(AccountSettings::default())
    );
    let account_edit: SettingsEdit<AccountSettings> = Box::new(move |st: &mut AccountSettings| {
        st.public_access_block = Some(only_policy);
        true
    });
    assert_eq!(
        s.update_account_settings("111122223333", account_edit).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.account_settings("111122223333")
            .await
            .ok()
            .and_then(|st| st.public_access_block),
        Some(only_policy)
    );
    assert_eq!(
        s.set_bucket_policy("bpa", policy, true).await.ok(),
        Some(BucketUpdate::Refused)
    );
    let lift: SettingsEdit<AccountSettings> = Box::new(|st: &mut AccountSettings| {
        st.public_access_block = None;
        true
    });
    assert_eq!(
        s.update_account_settings("111122223333", lift).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.set_bucket_policy("bpa", policy, true).await.ok(),
        Some(BucketUpdate::Done)
    );
    let unknown: SettingsEdit<AccountSettings> = Box::new(|_: &mut AccountSettings| true);
    assert_eq!(
        s.update_account_settings("999999999999", unknown).await.ok(),
        Some(BucketUpdate::NotFound)
    );
    assert!(matches!(s.delete_bucket("bpa").await, Ok(DeleteBucket::Deleted { .. })));
}
