//! The entry points the S3 layer calls, and the AWS managed key `alias/aws/s3`.
use crate::support::*;
use serde_json::json;
use strongbox_kms::{EncryptionContext, KeyState, KmsError, read_events};
use strongbox_policy::Principal;
use strongbox_types::AccountId;

fn ctx() -> EncryptionContext {
    [("aws:s3:arn".to_owned(), "arn:aws:s3:::bucket/key".to_owned())].into()
}

#[tokio::test]
async fn the_aws_managed_s3_key_is_created_once_and_usable_only_through_s3() {
    let h = harness().await;
    let account = AccountId::parse(ACCOUNT).unwrap();
    let arn = h.kms.default_s3_key(&account).await.unwrap();
    assert_eq!(h.kms.default_s3_key(&account).await.unwrap(), arn);
    let d = h.root("DescribeKey", json!({"KeyId": "alias/aws/s3"})).await;
    let m = &d.ok()["KeyMetadata"];
    assert_eq!(
        (m["Arn"].as_str(), m["KeyManager"].as_str()),
        (Some(arn.as_str()), Some("AWS"))
    );
    let status = h.root("GetKeyRotationStatus", json!({"KeyId": arn})).await;
    assert_eq!(
        status.ok()["KeyRotationEnabled"],
        true,
        "AWS managed keys rotate yearly"
    );
    let aliases = h.root("ListAliases", json!({})).await;
    assert_eq!(aliases.ok()["Aliases"][0]["AliasName"], "alias/aws/s3");

    // A user with no IAM policy at all may use it through S3...
    let (keys, user) = h.user("alice").await;
    let caller = h.s3_caller(Some(user.clone()));
    let generated = h.kms.generate_data_key(&caller, "alias/aws/s3", &ctx()).await.unwrap();
    assert_eq!(generated.plaintext.len(), 32);
    assert_eq!(generated.key_arn, arn);
    let opened = h
        .kms
        .decrypt(&caller, &generated.ciphertext_blob, &ctx())
        .await
        .unwrap();
    assert_eq!(opened.plaintext, generated.plaintext);
    assert_eq!(opened.key_arn, arn);
    // ...but not directly.
    let direct = h
        .call(
            &keys,
            "GenerateDataKey",
            json!({"KeyId": "alias/aws/s3", "KeySpec": "AES_256"}),
        )
        .await;
    direct.err("AccessDeniedException");
    // Nobody can manage it.
    for (op, body) in [
        ("DisableKey", json!({"KeyId": arn})),
        ("ScheduleKeyDeletion", json!({"KeyId": arn})),
        (
            "PutKeyPolicy",
            json!({"KeyId": arn, "PolicyName": "default", "Policy": "{}"}),
        ),
        ("EnableKeyRotation", json!({"KeyId": arn})),
    ] {
        h.root(op, body).await.err("AccessDeniedException");
    }
    h.root("DeleteAlias", json!({"AliasName": "alias/aws/s3"}))
        .await
        .err("NotAuthorizedException");
    h.root(
        "UpdateAlias",
        json!({"AliasName": "alias/aws/s3", "TargetKeyId": h.key().await.0}),
    )
    .await
    .err("NotAuthorizedException");
    // Another account's S3 calls cannot use this account's key.
    let stranger = h.s3_caller_as(
        Principal::AccountRoot {
            account: AccountId::parse(OTHER).unwrap(),
        },
        None,
    );
    let r = h.kms.generate_data_key(&stranger, &arn, &ctx()).await;
    assert!(matches!(r, Err(KmsError::AccessDenied(_))), "{r:?}");
}

#[tokio::test]
async fn first_use_by_name_creates_the_key() {
    let h = harness().await;
    let foreign = format!("arn:aws:kms:us-east-1:{OTHER}:alias/aws/s3");
    let r = h.kms.generate_data_key(&h.s3_caller(None), &foreign, &ctx()).await;
    assert!(
        matches!(r, Err(KmsError::NotFound(_))),
        "another account's is never created: {r:?}"
    );
    let d = h.root("DescribeKey", json!({"KeyId": "alias/aws/s3"})).await;
    assert_eq!(
        d.ok()["KeyMetadata"]["KeyManager"],
        "AWS",
        "DescribeKey creates it, as in AWS"
    );
    let caller = h.s3_caller(None);
    let generated = h.kms.generate_data_key(&caller, "alias/aws/s3", &ctx()).await.unwrap();
    let account = AccountId::parse(ACCOUNT).unwrap();
    assert_eq!(h.kms.default_s3_key(&account).await.unwrap(), generated.key_arn);
}

#[tokio::test]
async fn customer_keys_through_s3_follow_the_key_policy_and_are_audited() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let (_, user) = h.user("bob").await;
    let caller = h.s3_caller(Some(user));
    let r = h.kms.generate_data_key(&caller, &id, &ctx()).await;
    let Err(KmsError::AccessDenied(msg)) = r else {
        panic!("expected AccessDenied, got {r:?}")
    };
    assert_eq!(
        msg,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: kms:GenerateDataKey on resource: {arn} because no identity-based policy allows the kms:GenerateDataKey action"
        )
    );
    h.user_policy("bob", &allow("kms:*")).await;
    let generated = h.kms.generate_data_key(&caller, &id, &ctx()).await.unwrap();
    let wrong: EncryptionContext = [("aws:s3:arn".to_owned(), "arn:aws:s3:::bucket/other".to_owned())].into();
    assert_eq!(
        h.kms.decrypt(&caller, &generated.ciphertext_blob, &wrong).await.err(),
        Some(KmsError::InvalidCiphertext)
    );
    h.kms
        .decrypt(&caller, &generated.ciphertext_blob, &ctx())
        .await
        .unwrap();

    let events = read_events(h.dir.path(), Some(&arn), None).unwrap();
    let s3_events: Vec<_> = events
        .iter()
        .filter(|e| e["userIdentity"]["invokedBy"] == "s3.amazonaws.com")
        .collect();
    assert_eq!(s3_events.len(), 4, "{events:#?}");
    let first = s3_events[0];
    assert_eq!(first["eventName"], "GenerateDataKey");
    assert_eq!(first["errorCode"], "AccessDeniedException");
    assert_eq!(first["userIdentity"]["type"], "IAMUser");
    assert_eq!(first["userIdentity"]["userName"], "bob");
    assert_eq!(first["userIdentity"]["principalId"], "AIDABOB");
    assert_eq!(first["requestParameters"]["keySpec"], "AES_256");
    assert_eq!(
        first["requestParameters"]["encryptionContext"]["aws:s3:arn"],
        "arn:aws:s3:::bucket/key"
    );
    assert_eq!(s3_events[3]["eventName"], "Decrypt");
    assert!(s3_events[3].get("errorCode").is_none());
}

#[tokio::test]
async fn resolve_names_keys_without_authorizing() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    h.root("CreateAlias", json!({"AliasName": "alias/r", "TargetKeyId": id}))
        .await
        .ok();
    let account = AccountId::parse(ACCOUNT).unwrap();
    let alias_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/r");
    for name in [id.as_str(), arn.as_str(), "alias/r", alias_arn.as_str()] {
        assert_eq!(
            h.kms.resolve(&account, name).await.unwrap(),
            (arn.clone(), KeyState::Enabled)
        );
    }
    h.root("DisableKey", json!({"KeyId": id})).await.ok();
    assert_eq!(h.kms.resolve(&account, &id).await.unwrap().1, KeyState::Disabled);
    let other = AccountId::parse(OTHER).unwrap();
    assert!(
        matches!(h.kms.resolve(&other, &id).await, Err(KmsError::NotFound(_))),
        "by id: own account only"
    );
    assert_eq!(h.kms.resolve(&other, &arn).await.unwrap().0, arn, "by ARN: any account");
    assert!(matches!(
        h.kms.resolve(&account, "alias/none").await,
        Err(KmsError::NotFound(_))
    ));
}
