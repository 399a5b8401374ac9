//! Users and access keys, validation and pagination.
use crate::support::*;
use http::StatusCode;

#[tokio::test]
async fn delete_user_conflicts_while_it_has_keys() {
    let h = harness().await;
    let key = h.user_with_key("carol").await;
    let r = h.root(&[("Action", "DeleteUser"), ("UserName", "carol")]).await;
    r.assert_error(StatusCode::CONFLICT, "DeleteConflict");
    assert_eq!(
        r.tag("Message").as_deref(),
        Some("Cannot delete entity, must delete access keys first.")
    );
    h.root(&[
        ("Action", "DeleteAccessKey"),
        ("UserName", "carol"),
        ("AccessKeyId", &key.id),
    ])
    .await
    .assert_ok();
    let deleted = h.root(&[("Action", "DeleteUser"), ("UserName", "carol")]).await;
    deleted.assert_ok();
    assert!(
        deleted
            .body
            .contains("<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata>")
    );
    let gone = h.root(&[("Action", "GetUser"), ("UserName", "carol")]).await;
    gone.assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
    assert_eq!(
        gone.tag("Message").as_deref(),
        Some("The user with name carol cannot be found.")
    );
}

#[tokio::test]
async fn access_keys_list_update_and_limit() {
    let h = harness().await;
    let first = h.user_with_key("dave").await;
    h.root(&[("Action", "CreateAccessKey"), ("UserName", "dave")])
        .await
        .assert_ok();
    h.root(&[("Action", "CreateAccessKey"), ("UserName", "dave")])
        .await
        .assert_error(StatusCode::CONFLICT, "LimitExceeded");
    let listed = h.root(&[("Action", "ListAccessKeys"), ("UserName", "dave")]).await;
    listed.assert_ok();
    assert_eq!(listed.body.matches("<AccessKeyId>").count(), 2);
    assert!(!listed.body.contains("SecretAccessKey"), "secrets are shown once");
    h.root(&[
        ("Action", "UpdateAccessKey"),
        ("UserName", "dave"),
        ("AccessKeyId", &first.id),
        ("Status", "Inactive"),
    ])
    .await
    .assert_ok();
    h.call(&first, &[("Action", "GetUser")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "InvalidClientTokenId");
    h.root(&[
        ("Action", "UpdateAccessKey"),
        ("UserName", "dave"),
        ("AccessKeyId", &h.root.id),
        ("Status", "Inactive"),
    ])
    .await
    .assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
    let root_keys = h.root(&[("Action", "ListAccessKeys")]).await;
    root_keys.assert_ok();
    assert_eq!(root_keys.tag("AccessKeyId").as_deref(), Some(h.root.id.as_str()));
}

#[tokio::test]
async fn get_user_answers_for_the_caller() {
    let h = harness().await;
    let root = h.root(&[("Action", "GetUser")]).await;
    root.assert_ok();
    assert_eq!(root.tag("UserId").as_deref(), Some(ACCOUNT));
    assert_eq!(root.tag("Arn").as_deref(), Some("arn:aws:iam::111122223333:root"));
    let erin = h.user_with_key("erin").await;
    h.root(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "erin"),
        ("PolicyName", "self"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#,
        ),
    ])
    .await
    .assert_ok();
    let me = h.call(&erin, &[("Action", "GetUser")]).await;
    me.assert_ok();
    assert_eq!(me.tag("UserName").as_deref(), Some("erin"));
    h.call(&erin, &[("Action", "GetUser"), ("UserName", "root-ish")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
}

#[tokio::test]
async fn parameters_are_validated_and_lists_paginate() {
    let h = harness().await;
    h.root(&[("Action", "CreateUser"), ("UserName", "no spaces")])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "ValidationError");
    h.root(&[("Action", "CreateUser")])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "ValidationError");
    h.root(&[("Action", "CreateUser"), ("UserName", "k"), ("Path", "nopath")])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "ValidationError");
    h.root(&[("Action", "FlyToTheMoon")])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "InvalidAction");
    for name in ["u1", "u2", "u3"] {
        h.root(&[("Action", "CreateUser"), ("UserName", name)])
            .await
            .assert_ok();
    }
    h.root(&[("Action", "CreateUser"), ("UserName", "U1")])
        .await
        .assert_error(StatusCode::CONFLICT, "EntityAlreadyExists");
    let first = h.root(&[("Action", "ListUsers"), ("MaxItems", "2")]).await;
    assert_eq!(first.tag("IsTruncated").as_deref(), Some("true"));
    assert_eq!(first.body.matches("<member>").count(), 2);
    let marker = first.tag("Marker").unwrap();
    let second = h
        .root(&[("Action", "ListUsers"), ("MaxItems", "2"), ("Marker", &marker)])
        .await;
    assert_eq!(second.tag("IsTruncated").as_deref(), Some("false"));
    assert_eq!(second.tag("UserName").as_deref(), Some("u3"));
}
