//! The KMS part of the contract: keys (create, read, list with paging,
//! revision-checked updates, delete with their aliases) and aliases (unique
//! names per account, targets in the same account, update, delete).
use super::acct;
use crate::*;

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

fn key(id: &str, account: &str) -> KmsKeyRecord {
    KmsKeyRecord {
        key_id: id.into(),
        account_id: acct(account),
        arn: format!("arn:aws:kms:us-east-1:{account}:key/{id}"),
        created_ms: 3,
        revision: 0,
        doc: KmsKeyDoc {
            v: KMS_KEY_RECORD_VERSION,
            description: "d".into(),
            state: KmsKeyState::Enabled,
            deletion_ms: None,
            pending_window_days: None,
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            origin: "AWS_KMS".into(),
            manager: KmsKeyManager::Customer,
            rotation_enabled: false,
            rotation_period_days: 365,
            next_rotation_ms: None,
            policy: "{}".into(),
            tags: vec![Tag {
                key: "k".into(),
                value: "v".into(),
            }],
            materials: vec![KmsKeyMaterial {
                version: 1,
                sealed: vec![0, 1, 2, 255],
                created_ms: 3,
                rotation: KmsRotationType::Initial,
            }],
        },
    }
}

fn alias(name: &str, target: &str, account: &str) -> KmsAlias {
    KmsAlias {
        account_id: acct(account),
        name: name.into(),
        target_key_id: target.into(),
        created_ms: 4,
        updated_ms: 4,
    }
}

/// Runs the KMS checks; the account `111122223333` must exist.
pub async fn run(s: &dyn MetaStore) {
    let other = Account {
        id: acct(OTHER),
        name: "other".into(),
        canonical_id: "c-kms-other".into(),
        created_ms: 1,
    };
    assert!(s.create_account(&other).await.is_ok());
    keys(s).await;
    updates(s).await;
    aliases(s).await;
    delete_takes_aliases(s).await;
}

async fn keys(s: &dyn MetaStore) {
    let k1 = key("k1", ACCOUNT);
    assert_eq!(s.create_kms_key(&k1, None).await.ok(), Some(Ok(())));
    assert_eq!(
        s.create_kms_key(&k1, None).await.ok(),
        Some(Err(KmsRefused::AlreadyExists))
    );
    assert_eq!(s.get_kms_key("k1").await.ok().flatten(), Some(k1.clone()), "round trip");
    assert_eq!(s.get_kms_key("nope").await.ok().flatten(), None);
    for id in ["k3", "k2"] {
        assert_eq!(s.create_kms_key(&key(id, ACCOUNT), None).await.ok(), Some(Ok(())));
    }
    assert_eq!(s.create_kms_key(&key("k0", OTHER), None).await.ok(), Some(Ok(())));
    let ids = |v: Vec<KmsKeyRecord>| v.into_iter().map(|k| k.key_id).collect::<Vec<_>>();
    assert_eq!(
        s.list_kms_keys(ACCOUNT, None, 10).await.map(ids).ok(),
        Some(vec!["k1".into(), "k2".into(), "k3".into()]),
        "by key id, this account only"
    );
    assert_eq!(
        s.list_kms_keys(ACCOUNT, Some("k1"), 1).await.map(ids).ok(),
        Some(vec!["k2".into()]),
        "marker and limit"
    );
    // A new key together with its alias; a taken alias stores neither.
    let managed = key("k-managed", ACCOUNT);
    let a = alias("alias/aws/s3", "k-managed", ACCOUNT);
    assert_eq!(s.create_kms_key(&managed, Some(&a)).await.ok(), Some(Ok(())));
    let again = key("k-managed-2", ACCOUNT);
    let a2 = alias("alias/aws/s3", "k-managed-2", ACCOUNT);
    assert_eq!(
        s.create_kms_key(&again, Some(&a2)).await.ok(),
        Some(Err(KmsRefused::AlreadyExists))
    );
    assert_eq!(s.get_kms_key("k-managed-2").await.ok().flatten(), None);
    assert_eq!(
        s.get_kms_alias(ACCOUNT, "alias/aws/s3")
            .await
            .ok()
            .flatten()
            .map(|a| a.target_key_id),
        Some("k-managed".into())
    );
}

async fn updates(s: &dyn MetaStore) {
    let Some(mut k) = s.get_kms_key("k2").await.ok().flatten() else {
        unreachable!("k2 was created")
    };
    assert_eq!(k.revision, 0);
    let stale = k.clone();
    k.doc.state = KmsKeyState::Disabled;
    k.doc.materials.push(KmsKeyMaterial {
        version: 2,
        sealed: vec![7; 61],
        created_ms: 9,
        rotation: KmsRotationType::OnDemand,
    });
    let stored = s.update_kms_key(&k).await.ok();
    assert_eq!(stored.as_ref().map(|r| r.as_ref().map(|k| k.revision)), Some(Ok(1)));
    assert_eq!(
        s.update_kms_key(&stale).await.ok().map(|r| r.err()),
        Some(Some(KmsRefused::Stale)),
        "an update from an old read is refused"
    );
    let read = s.get_kms_key("k2").await.ok().flatten();
    assert_eq!(read.as_ref().map(|k| k.revision), Some(1));
    assert_eq!(read.map(|k| k.doc), Some(k.doc.clone()));
    assert_eq!(
        s.update_kms_key(&key("missing", ACCOUNT)).await.ok().map(|r| r.err()),
        Some(Some(KmsRefused::NoSuchKey))
    );
}

async fn aliases(s: &dyn MetaStore) {
    assert_eq!(
        s.create_kms_alias(&alias("alias/b", "k1", ACCOUNT)).await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.create_kms_alias(&alias("alias/a", "k2", ACCOUNT)).await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.create_kms_alias(&alias("alias/b", "k2", ACCOUNT)).await.ok(),
        Some(Err(KmsRefused::AlreadyExists))
    );
    assert_eq!(
        s.create_kms_alias(&alias("alias/x", "nope", ACCOUNT)).await.ok(),
        Some(Err(KmsRefused::NoSuchKey))
    );
    assert_eq!(
        s.create_kms_alias(&alias("alias/x", "k0", ACCOUNT)).await.ok(),
        Some(Err(KmsRefused::NoSuchKey)),
        "a target in another account"
    );
    assert_eq!(
        s.create_kms_alias(&alias("alias/b", "k0", OTHER)).await.ok(),
        Some(Ok(())),
        "names are per account"
    );
    let names = |v: Vec<KmsAlias>| v.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        s.list_kms_aliases(ACCOUNT, None, None, 10).await.map(names).ok(),
        Some(vec!["alias/a".into(), "alias/aws/s3".into(), "alias/b".into()])
    );
    assert_eq!(
        s.list_kms_aliases(ACCOUNT, Some("k1"), None, 10).await.map(names).ok(),
        Some(vec!["alias/b".into()])
    );
    assert_eq!(
        s.list_kms_aliases(ACCOUNT, None, Some("alias/a"), 1)
            .await
            .map(names)
            .ok(),
        Some(vec!["alias/aws/s3".into()])
    );
    assert_eq!(s.update_kms_alias(ACCOUNT, "alias/b", "k3", 8).await.ok(), Some(Ok(())));
    let b = s.get_kms_alias(ACCOUNT, "alias/b").await.ok().flatten();
    assert_eq!(
        b.map(|a| (a.target_key_id, a.created_ms, a.updated_ms)),
        Some(("k3".into(), 4, 8))
    );
    assert_eq!(
        s.update_kms_alias(ACCOUNT, "alias/none", "k3", 8).await.ok(),
        Some(Err(KmsRefused::NoSuchAlias))
    );
    assert_eq!(
        s.update_kms_alias(ACCOUNT, "alias/b", "k0", 8).await.ok(),
        Some(Err(KmsRefused::NoSuchKey))
    );
    assert_eq!(s.delete_kms_alias(ACCOUNT, "alias/a").await.ok(), Some(Ok(())));
    assert_eq!(
        s.delete_kms_alias(ACCOUNT, "alias/a").await.ok(),
        Some(Err(KmsRefused::NoSuchAlias))
    );
}

async fn delete_takes_aliases(s: &dyn MetaStore) {
    assert_eq!(s.delete_kms_key("k3").await.ok(), Some(Ok(())));
    assert_eq!(s.get_kms_key("k3").await.ok().flatten(), None);
    assert_eq!(
        s.get_kms_alias(ACCOUNT, "alias/b").await.ok().flatten(),
        None,
        "the key's aliases go with it"
    );
    assert_eq!(s.delete_kms_key("k3").await.ok(), Some(Err(KmsRefused::NoSuchKey)));
    assert!(
        s.get_kms_alias(OTHER, "alias/b").await.ok().flatten().is_some(),
        "other accounts' aliases stay"
    );
}
