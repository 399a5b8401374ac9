//! Aliases: names, uniqueness, listing, retargeting and deletion.
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn alias_names_are_checked() {
    let h = harness().await;
    let (id, _) = h.key().await;
    let create = |name: &str| json!({"AliasName": name, "TargetKeyId": id});
    let msg = h.root("CreateAlias", create("nope")).await.err("ValidationException");
    assert!(msg.starts_with("Alias must start with the prefix \"alias/\""), "{msg}");
    h.root("CreateAlias", create("alias/aws/mine"))
        .await
        .err("NotAuthorizedException");
    h.root("CreateAlias", create("alias/has space"))
        .await
        .err("ValidationException");
    h.root("CreateAlias", create("alias/"))
        .await
        .err("InvalidAliasNameException");
    h.root("CreateAlias", create("alias/a:b"))
        .await
        .err("InvalidAliasNameException");
    h.root("CreateAlias", create("alias/ok_name-1/x")).await.ok();
    let msg = h
        .root("CreateAlias", create("alias/ok_name-1/x"))
        .await
        .err("AlreadyExistsException");
    assert_eq!(
        msg,
        format!("An alias with the name arn:aws:kms:us-east-1:{ACCOUNT}:alias/ok_name-1/x already exists")
    );
    let msg = h
        .root(
            "CreateAlias",
            json!({"AliasName": "alias/second", "TargetKeyId": "alias/ok_name-1/x"}),
        )
        .await
        .err("ValidationException");
    assert_eq!(msg, "Aliases must refer to keys. Not aliases");
    h.root(
        "CreateAlias",
        json!({"AliasName": "alias/x", "TargetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    )
    .await
    .err("NotFoundException");
}

#[tokio::test]
async fn list_update_delete() {
    let h = harness().await;
    let (k1, arn1) = h.key().await;
    let (k2, _) = h.key().await;
    for (name, key) in [("alias/b", &k1), ("alias/a", &k1), ("alias/c", &k2)] {
        h.root("CreateAlias", json!({"AliasName": name, "TargetKeyId": key}))
            .await
            .ok();
    }
    let all = h.root("ListAliases", json!({})).await;
    let names: Vec<&str> = all.ok()["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AliasName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alias/a", "alias/b", "alias/c"]);
    let first = &all.ok()["Aliases"][0];
    assert_eq!(first["AliasArn"], format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/a"));
    assert_eq!(first["TargetKeyId"], k1.as_str());
    assert!(first["CreationDate"].as_f64().is_some() && first["LastUpdatedDate"].as_f64().is_some());
    let of_k1 = h.root("ListAliases", json!({"KeyId": arn1})).await;
    assert_eq!(of_k1.ok()["Aliases"].as_array().unwrap().len(), 2);
    let paged = h.root("ListAliases", json!({"Limit": 1})).await;
    assert_eq!(paged.ok()["Truncated"], true);
    let next = h
        .root("ListAliases", json!({"Limit": 2, "Marker": paged.ok()["NextMarker"]}))
        .await;
    assert_eq!(next.ok()["Aliases"][0]["AliasName"], "alias/b");

    h.root("UpdateAlias", json!({"AliasName": "alias/a", "TargetKeyId": k2}))
        .await
        .ok();
    let d = h.root("DescribeKey", json!({"KeyId": "alias/a"})).await;
    assert_eq!(d.ok()["KeyMetadata"]["KeyId"], k2.as_str());
    h.root("UpdateAlias", json!({"AliasName": "alias/none", "TargetKeyId": k2}))
        .await
        .err("NotFoundException");
    h.root("DeleteAlias", json!({"AliasName": "alias/a"})).await.ok();
    let msg = h
        .root("DeleteAlias", json!({"AliasName": "alias/a"}))
        .await
        .err("NotFoundException");
    assert_eq!(
        msg,
        format!("Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/a is not found.")
    );
    h.root("DeleteAlias", json!({"AliasName": "alias/aws/s3"}))
        .await
        .err("NotAuthorizedException");
}

#[tokio::test]
async fn an_alias_cannot_point_at_a_key_pending_deletion() {
    let h = harness().await;
    let (k1, _) = h.key().await;
    let (k2, _) = h.key().await;
    h.root("CreateAlias", json!({"AliasName": "alias/a", "TargetKeyId": k1}))
        .await
        .ok();
    h.root("ScheduleKeyDeletion", json!({"KeyId": k2})).await.ok();
    h.root("UpdateAlias", json!({"AliasName": "alias/a", "TargetKeyId": k2}))
        .await
        .err("KMSInvalidStateException");
    h.root("CreateAlias", json!({"AliasName": "alias/b", "TargetKeyId": k2}))
        .await
        .err("KMSInvalidStateException");
}
