//! Key policies and IAM policies together, AWS KMS's way: the default key
//! policy delegates to IAM, a key policy can name users directly or deny
//! them, the account root has no bypass, other accounts need both sides,
//! and KMS condition keys.
use crate::support::*;
use serde_json::{Value, json};

fn key_policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn root_admin() -> Value {
    json!({"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
           "Action": "kms:*", "Resource": "*"})
}

/// A key with `policy` (created with the lockout check bypassed).
async fn key_with(h: &Harness, policy: &str) -> (String, String) {
    let r = h
        .root(
            "CreateKey",
            json!({"Policy": policy, "BypassPolicyLockoutSafetyCheck": true}),
        )
        .await;
    let m = &r.ok()["KeyMetadata"];
    (
        m["KeyId"].as_str().unwrap().to_owned(),
        m["Arn"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_default_key_policy_delegates_to_iam_policies() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let (keys, _) = h.user("carol").await;
    let encrypt = json!({"KeyId": id, "Plaintext": b64(b"x")});
    let msg = h
        .call(&keys, "Encrypt", encrypt.clone())
        .await
        .err("AccessDeniedException");
    assert_eq!(
        msg,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/carol is not authorized to perform: kms:Encrypt on resource: {arn} because no identity-based policy allows the kms:Encrypt action"
        )
    );
    h.user_policy("carol", &allow("kms:Encrypt")).await;
    h.call(&keys, "Encrypt", encrypt.clone()).await.ok();
    h.call(&keys, "Decrypt", json!({"CiphertextBlob": b64(&[1; 60])}))
        .await
        .err("InvalidCiphertextException");
    h.call(&keys, "DisableKey", json!({"KeyId": id}))
        .await
        .err("AccessDeniedException");
    let msg = h.call(&keys, "CreateKey", json!({})).await.err("AccessDeniedException");
    assert!(
        msg.ends_with("on resource: * because no identity-based policy allows the kms:CreateKey action"),
        "{msg}"
    );
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": arn}]});
    h.user_policy("carol", &deny.to_string()).await;
    let msg = h.call(&keys, "Encrypt", encrypt).await.err("AccessDeniedException");
    assert!(
        msg.ends_with("with an explicit deny in an identity-based policy"),
        "{msg}"
    );
    h.call(&keys, "CreateKey", json!({})).await.ok();
}

#[tokio::test]
async fn a_key_policy_can_name_a_user_or_deny_one() {
    let h = harness().await;
    let (dave, _) = h.user("dave").await;
    let (erin, _) = h.user("erin").await;
    h.user_policy("erin", &allow("kms:*")).await;
    let policy = key_policy(json!([
        root_admin(),
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/dave")},
         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/erin")},
         "Action": "kms:*", "Resource": "*"},
    ]));
    let (id, arn) = key_with(&h, &policy).await;
    let encrypt = json!({"KeyId": id, "Plaintext": b64(b"x")});
    h.call(&dave, "Encrypt", encrypt.clone()).await.ok();
    h.call(&dave, "DescribeKey", json!({"KeyId": id}))
        .await
        .err("AccessDeniedException");
    let msg = h
        .call(&erin, "Encrypt", encrypt.clone())
        .await
        .err("AccessDeniedException");
    assert_eq!(
        msg,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/erin is not authorized to perform: kms:Encrypt on resource: {arn} with an explicit deny in a resource-based policy"
        )
    );
    h.root("Encrypt", encrypt).await.ok();
}

#[tokio::test]
async fn the_account_root_has_no_way_around_the_key_policy() {
    let h = harness().await;
    let (_, _) = h.user("frank").await;
    h.user_policy("frank", &allow("kms:*")).await;
    let only_frank = key_policy(json!([
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/frank")},
         "Action": "kms:*", "Resource": "*"},
    ]));
    let msg = h
        .root("CreateKey", json!({"Policy": only_frank}))
        .await
        .err("MalformedPolicyDocumentException");
    assert_eq!(
        msg,
        "The new key policy will not allow you to update the key policy in the future."
    );
    let (id, arn) = key_with(&h, &only_frank).await;
    let msg = h
        .root("DescribeKey", json!({"KeyId": id}))
        .await
        .err("AccessDeniedException");
    assert_eq!(
        msg,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:DescribeKey on resource: {arn} because no resource-based policy allows the kms:DescribeKey action"
        )
    );
}

#[tokio::test]
async fn other_accounts_need_the_key_policy_and_use_arns() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let other = h.other_root.clone();
    let encrypt = json!({"KeyId": arn, "Plaintext": b64(b"x")});
    h.call(&other, "Encrypt", encrypt.clone())
        .await
        .err("AccessDeniedException");
    h.call(&other, "Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x")}))
        .await
        .err("NotFoundException");
    let shared = key_policy(json!([
        root_admin(),
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER}:root")},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
    ]));
    h.root(
        "PutKeyPolicy",
        json!({"KeyId": id, "PolicyName": "default", "Policy": shared}),
    )
    .await
    .ok();
    let blob = h.call(&other, "Encrypt", encrypt).await.blob("CiphertextBlob");
    let d = h.call(&other, "Decrypt", json!({"CiphertextBlob": b64(&blob)})).await;
    assert_eq!(d.blob("Plaintext"), b"x");
    h.call(&other, "DescribeKey", json!({"KeyId": arn})).await.ok();
    h.call(&other, "DisableKey", json!({"KeyId": arn}))
        .await
        .err("NotFoundException");
}

#[tokio::test]
async fn kms_condition_keys() {
    let h = harness().await;
    let (grace, _) = h.user("grace").await;
    let policy = key_policy(json!([
        root_admin(),
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/grace")},
         "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:project": "alpha", "kms:CallerAccount": ACCOUNT}}},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/grace")},
         "Action": "kms:GenerateDataKey", "Resource": "*",
         "Condition": {"StringEquals": {"kms:RequestAlias": "alias/approved"}}},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/grace")},
         "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["project"]},
                       "Null": {"kms:EncryptionContextKeys": "false"}}},
    ]));
    let (id, _) = key_with(&h, &policy).await;
    h.root("CreateAlias", json!({"AliasName": "alias/approved", "TargetKeyId": id}))
        .await
        .ok();
    h.root("CreateAlias", json!({"AliasName": "alias/other", "TargetKeyId": id}))
        .await
        .ok();
    let enc = |project: &str| json!({"KeyId": id, "Plaintext": b64(b"x"), "EncryptionContext": {"project": project}});
    let blob = h.call(&grace, "Encrypt", enc("alpha")).await.blob("CiphertextBlob");
    h.call(&grace, "Encrypt", enc("beta"))
        .await
        .err("AccessDeniedException");
    h.call(&grace, "Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x")}))
        .await
        .err("AccessDeniedException");
    let gdk = |key: &str| json!({"KeyId": key, "KeySpec": "AES_256"});
    h.call(&grace, "GenerateDataKey", gdk("alias/approved")).await.ok();
    h.call(&grace, "GenerateDataKey", gdk("alias/other"))
        .await
        .err("AccessDeniedException");
    h.call(&grace, "GenerateDataKey", gdk(&id))
        .await
        .err("AccessDeniedException");
    let d = h
        .call(
            &grace,
            "Decrypt",
            json!({"CiphertextBlob": b64(&blob), "EncryptionContext": {"project": "alpha"}}),
        )
        .await;
    assert_eq!(d.blob("Plaintext"), b"x");
    let plain = h
        .root("Encrypt", json!({"KeyId": id, "Plaintext": b64(b"y")}))
        .await
        .blob("CiphertextBlob");
    h.call(&grace, "Decrypt", json!({"CiphertextBlob": b64(&plain)}))
        .await
        .err("AccessDeniedException");
}
