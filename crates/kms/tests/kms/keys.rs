//! Key lifecycle, listing, policies, tags and protocol errors.
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn create_and_describe_by_every_identifier() {
    let h = harness().await;
    let r = h
        .root(
            "CreateKey",
            json!({"Description": "d1", "Tags": [{"TagKey": "team", "TagValue": "a"}]}),
        )
        .await;
    let m = r.ok()["KeyMetadata"].clone();
    let (id, arn) = (m["KeyId"].as_str().unwrap(), m["Arn"].as_str().unwrap());
    assert_eq!(arn, format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"));
    assert_eq!(m["AWSAccountId"], ACCOUNT);
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["Enabled"], true);
    assert_eq!(m["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(m["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["Origin"], "AWS_KMS");
    assert_eq!(m["KeyManager"], "CUSTOMER");
    assert_eq!(m["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
    assert!(m["CreationDate"].as_f64().unwrap() > 1.6e9, "epoch seconds");
    assert!(m.get("DeletionDate").is_none());
    h.root("CreateAlias", json!({"AliasName": "alias/d1", "TargetKeyId": id}))
        .await
        .ok();
    let alias_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/d1");
    for name in [id, arn, "alias/d1", alias_arn.as_str(), &id.to_ascii_uppercase()] {
        let d = h.root("DescribeKey", json!({"KeyId": name})).await;
        assert_eq!(d.ok()["KeyMetadata"]["Arn"], arn, "{name}");
    }
    let tags = h.root("ListResourceTags", json!({"KeyId": id})).await;
    assert_eq!(tags.ok()["Tags"], json!([{"TagKey": "team", "TagValue": "a"}]));
}

#[tokio::test]
async fn unknown_keys_and_identifiers() {
    let h = harness().await;
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let msg = h
        .root("DescribeKey", json!({"KeyId": missing}))
        .await
        .err("NotFoundException");
    assert_eq!(
        msg,
        format!("Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist")
    );
    let msg = h
        .root("DescribeKey", json!({"KeyId": "foo"}))
        .await
        .err("NotFoundException");
    assert_eq!(msg, "Invalid keyId 'foo'");
    let msg = h
        .root("DescribeKey", json!({"KeyId": "alias/none"}))
        .await
        .err("NotFoundException");
    assert_eq!(
        msg,
        format!("Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/none is not found.")
    );
    let other_region = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{missing}");
    let msg = h
        .root("DescribeKey", json!({"KeyId": other_region}))
        .await
        .err("NotFoundException");
    assert_eq!(msg, "Invalid arn eu-west-1");
    let msg = h.root("DescribeKey", json!({})).await.err("ValidationException");
    assert!(
        msg.contains("'keyId' failed to satisfy constraint: Member must not be null"),
        "{msg}"
    );
}

#[tokio::test]
async fn list_keys_pages() {
    let h = harness().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(h.key().await.0);
    }
    ids.sort();
    let first = h.root("ListKeys", json!({"Limit": 2})).await;
    let body = first.ok();
    assert_eq!(body["Truncated"], true);
    let page1: Vec<&str> = body["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyId"].as_str().unwrap())
        .collect();
    assert_eq!(page1, [ids[0].as_str(), ids[1].as_str()]);
    let second = h
        .root("ListKeys", json!({"Limit": 2, "Marker": body["NextMarker"]}))
        .await;
    let body = second.ok();
    assert_eq!(body["Truncated"], false);
    assert!(body.get("NextMarker").is_none());
    assert_eq!(body["Keys"][0]["KeyId"], ids[2].as_str());
    assert!(body["Keys"][0]["KeyArn"].as_str().unwrap().ends_with(&ids[2]));
    h.root("ListKeys", json!({"Limit": 0})).await.err("ValidationException");
    h.root("ListKeys", json!({"Marker": "bogus"}))
        .await
        .err("InvalidMarkerException");
    let other = h.call(&h.other_root.clone(), "ListKeys", json!({})).await;
    assert_eq!(other.ok()["Keys"], json!([]), "other accounts' keys are not listed");
}

#[tokio::test]
async fn disable_enable_and_scheduled_deletion() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    h.root("CreateAlias", json!({"AliasName": "alias/doomed", "TargetKeyId": id}))
        .await
        .ok();
    let encrypt = json!({"KeyId": id, "Plaintext": b64(b"x")});
    let msg = h
        .root("DisableKey", json!({"KeyId": "alias/doomed"}))
        .await
        .err("NotFoundException");
    assert_eq!(
        msg, "Invalid keyId 'alias/doomed'",
        "management operations take key ids and ARNs only"
    );
    h.root("DisableKey", json!({"KeyId": id})).await.ok();
    let d = h.root("DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(
        (
            d.ok()["KeyMetadata"]["KeyState"].clone(),
            d.ok()["KeyMetadata"]["Enabled"].clone()
        ),
        (json!("Disabled"), json!(false))
    );
    let msg = h.root("Encrypt", encrypt.clone()).await.err("DisabledException");
    assert_eq!(msg, format!("{arn} is disabled."));
    h.root("EnableKey", json!({"KeyId": id})).await.ok();
    h.root("Encrypt", encrypt.clone()).await.ok();

    h.root("ScheduleKeyDeletion", json!({"KeyId": id, "PendingWindowInDays": 6}))
        .await
        .err("ValidationException");
    h.root("ScheduleKeyDeletion", json!({"KeyId": id, "PendingWindowInDays": 31}))
        .await
        .err("ValidationException");
    h.root("CancelKeyDeletion", json!({"KeyId": id}))
        .await
        .err("KMSInvalidStateException");
    let s = h
        .root("ScheduleKeyDeletion", json!({"KeyId": id, "PendingWindowInDays": 7}))
        .await;
    let body = s.ok();
    assert_eq!(
        (body["KeyId"].as_str(), body["KeyState"].as_str()),
        (Some(arn.as_str()), Some("PendingDeletion"))
    );
    assert_eq!(body["PendingWindowInDays"], 7);
    let deletion = body["DeletionDate"].as_f64().unwrap();
    let d = h.root("DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(d.ok()["KeyMetadata"]["DeletionDate"].as_f64(), Some(deletion));
    let msg = h.root("Encrypt", encrypt.clone()).await.err("KMSInvalidStateException");
    assert_eq!(msg, format!("{arn} is pending deletion."));
    h.root("EnableKey", json!({"KeyId": id}))
        .await
        .err("KMSInvalidStateException");
    h.root("ScheduleKeyDeletion", json!({"KeyId": id}))
        .await
        .err("KMSInvalidStateException");

    let c = h.root("CancelKeyDeletion", json!({"KeyId": id})).await;
    assert_eq!(c.ok()["KeyId"], arn.as_str());
    let d = h.root("DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(
        d.ok()["KeyMetadata"]["KeyState"],
        "Disabled",
        "a cancelled deletion leaves the key disabled"
    );
    assert!(d.ok()["KeyMetadata"].get("DeletionDate").is_none());

    h.root("ScheduleKeyDeletion", json!({"KeyId": id, "PendingWindowInDays": 7}))
        .await
        .ok();
    h.advance_days(6);
    h.root("DescribeKey", json!({"KeyId": id})).await.ok();
    h.advance_days(2);
    let msg = h
        .root("DescribeKey", json!({"KeyId": id}))
        .await
        .err("NotFoundException");
    assert_eq!(msg, format!("Key '{arn}' does not exist"));
    h.root("DescribeKey", json!({"KeyId": "alias/doomed"}))
        .await
        .err("NotFoundException");
    let keys = h.root("ListKeys", json!({})).await;
    assert_eq!(keys.ok()["Keys"], json!([]));
}

#[tokio::test]
async fn create_key_validation() {
    let h = harness().await;
    h.root("CreateKey", json!({"KeySpec": "RSA_2048"}))
        .await
        .err("UnsupportedOperationException");
    h.root("CreateKey", json!({"CustomerMasterKeySpec": "HMAC_256"}))
        .await
        .err("UnsupportedOperationException");
    let msg = h
        .root("CreateKey", json!({"KeySpec": "AES"}))
        .await
        .err("ValidationException");
    assert!(msg.contains("Value 'AES' at 'keySpec'"), "{msg}");
    h.root("CreateKey", json!({"KeyUsage": "SIGN_VERIFY"}))
        .await
        .err("UnsupportedOperationException");
    h.root("CreateKey", json!({"Origin": "EXTERNAL"}))
        .await
        .err("UnsupportedOperationException");
    h.root(
        "CreateKey",
        json!({"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}),
    )
    .await
    .ok();
    h.root("CreateKey", json!({"Tags": [{"TagKey": "aws:x", "TagValue": "v"}]}))
        .await
        .err("TagException");
    h.root("CreateKey", json!({"Policy": "{not json"}))
        .await
        .err("MalformedPolicyDocumentException");
}

#[tokio::test]
async fn key_policy_get_put_and_lockout_check() {
    let h = harness().await;
    let (id, _) = h.key().await;
    let p = h
        .root("GetKeyPolicy", json!({"KeyId": id, "PolicyName": "default"}))
        .await;
    let policy: serde_json::Value = serde_json::from_str(p.ok()["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Sid"], "Enable IAM User Permissions");
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(policy["Statement"][0]["Action"], "kms:*");
    assert_eq!(p.ok()["PolicyName"], "default");
    h.root("GetKeyPolicy", json!({"KeyId": id, "PolicyName": "other"}))
        .await
        .err("NotFoundException");
    let names = h.root("ListKeyPolicies", json!({"KeyId": id})).await;
    assert_eq!(names.ok()["PolicyNames"], json!(["default"]));

    let mut updated = policy.clone();
    updated["Statement"][0]["Sid"] = json!("Root");
    h.root(
        "PutKeyPolicy",
        json!({"KeyId": id, "PolicyName": "default", "Policy": updated.to_string()}),
    )
    .await
    .ok();
    let p = h.root("GetKeyPolicy", json!({"KeyId": id})).await;
    assert_eq!(p.ok()["Policy"], updated.to_string());

    let bad = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]});
    let msg = h
        .root(
            "PutKeyPolicy",
            json!({"KeyId": id, "PolicyName": "default", "Policy": bad.to_string()}),
        )
        .await
        .err("MalformedPolicyDocumentException");
    assert!(msg.contains("Principal"), "{msg}");
    let lockout = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:Encrypt", "Resource": "*"}]});
    let put = json!({"KeyId": id, "PolicyName": "default", "Policy": lockout.to_string()});
    let msg = h
        .root("PutKeyPolicy", put.clone())
        .await
        .err("MalformedPolicyDocumentException");
    assert_eq!(
        msg,
        "The new key policy will not allow you to update the key policy in the future."
    );
    let mut bypass = put;
    bypass["BypassPolicyLockoutSafetyCheck"] = json!(true);
    h.root("PutKeyPolicy", bypass).await.ok();
    h.root("GetKeyPolicy", json!({"KeyId": id}))
        .await
        .err("AccessDeniedException");
    h.root("Encrypt", json!({"KeyId": id, "Plaintext": b64(b"still")}))
        .await
        .ok();
}

#[tokio::test]
async fn tags() {
    let h = harness().await;
    let (id, _) = h.key().await;
    let tag = |k: &str, v: &str| json!({"TagKey": k, "TagValue": v});
    h.root(
        "TagResource",
        json!({"KeyId": id, "Tags": [tag("b", "2"), tag("a", "1")]}),
    )
    .await
    .ok();
    h.root("TagResource", json!({"KeyId": id, "Tags": [tag("a", "one")]}))
        .await
        .ok();
    let list = h.root("ListResourceTags", json!({"KeyId": id})).await;
    assert_eq!(list.ok()["Tags"], json!([tag("a", "one"), tag("b", "2")]));
    assert_eq!(list.ok()["Truncated"], false);
    h.root("UntagResource", json!({"KeyId": id, "TagKeys": ["a", "zzz"]}))
        .await
        .ok();
    let list = h.root("ListResourceTags", json!({"KeyId": id})).await;
    assert_eq!(list.ok()["Tags"], json!([tag("b", "2")]));
    h.root("TagResource", json!({"KeyId": id, "Tags": [tag("AWS:x", "1")]}))
        .await
        .err("TagException");
    let long = "k".repeat(129);
    h.root("TagResource", json!({"KeyId": id, "Tags": [tag(&long, "1")]}))
        .await
        .err("ValidationException");
}

#[tokio::test]
async fn protocol_errors() {
    let h = harness().await;
    let r = h.root("NoSuchOperation", json!({})).await;
    r.err("UnknownOperationException");
    let body = "{not json";
    let headers = signed(&h.root, "ListKeys", body);
    h.send(&headers, body).await.err("SerializationException");
    let wrong = Keys {
        id: h.root.id.clone(),
        secret: "wrong".into(),
    };
    h.call(&wrong, "ListKeys", json!({}))
        .await
        .err("InvalidSignatureException");
    let unknown = Keys {
        id: "AKIANOSUCHKEY0000000".into(),
        secret: "x".into(),
    };
    h.call(&unknown, "ListKeys", json!({}))
        .await
        .err("UnrecognizedClientException");
    let mut headers = signed(&h.root, "ListKeys", "{}");
    headers.remove(http::header::AUTHORIZATION);
    h.send(&headers, "{}").await.err("MissingAuthenticationTokenException");
    let r = h.root("ListKeys", json!({"Limit": "x"})).await;
    r.err("SerializationException");
}
