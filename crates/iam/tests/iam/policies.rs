//! Inline and managed policies, versions, attachments and groups.
use crate::support::*;
use http::StatusCode;
use percent_encoding::percent_decode_str;

#[tokio::test]
async fn a_malformed_policy_is_refused_naming_the_problem() {
    let h = harness().await;
    h.root(&[("Action", "CreateUser"), ("UserName", "bob")])
        .await
        .assert_ok();
    let no_resource = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers"}]}"#;
    let r = h
        .root(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "bob"),
            ("PolicyName", "p"),
            ("PolicyDocument", no_resource),
        ])
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "MalformedPolicyDocument");
    assert!(
        r.tag("Message").unwrap().contains("Missing required field Resource"),
        "{}",
        r.body
    );
    let r = h
        .root(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", "{not json"),
        ])
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "MalformedPolicyDocument");
}

#[tokio::test]
async fn inline_policies_round_trip_url_encoded() {
    let h = harness().await;
    h.root(&[("Action", "CreateUser"), ("UserName", "Frank")])
        .await
        .assert_ok();
    let doc = allow("s3:GetObject");
    h.root(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "frank"),
        ("PolicyName", "Read"),
        ("PolicyDocument", &doc),
    ])
    .await
    .assert_ok();
    let got = h
        .root(&[
            ("Action", "GetUserPolicy"),
            ("UserName", "FRANK"),
            ("PolicyName", "read"),
        ])
        .await;
    got.assert_ok();
    assert_eq!(got.tag("UserName").as_deref(), Some("Frank"));
    assert_eq!(got.tag("PolicyName").as_deref(), Some("Read"));
    let encoded = got.tag("PolicyDocument").unwrap();
    assert!(!encoded.contains('{'), "URL-encoded: {encoded}");
    assert_eq!(percent_decode_str(&encoded).decode_utf8().unwrap(), doc);
    let listed = h.root(&[("Action", "ListUserPolicies"), ("UserName", "frank")]).await;
    assert!(listed.body.contains("<PolicyNames><member>Read</member></PolicyNames>"));
    h.root(&[
        ("Action", "DeleteUserPolicy"),
        ("UserName", "frank"),
        ("PolicyName", "Read"),
    ])
    .await
    .assert_ok();
    h.root(&[
        ("Action", "GetUserPolicy"),
        ("UserName", "frank"),
        ("PolicyName", "Read"),
    ])
    .await
    .assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(2100)
    );
    let r = h
        .root(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "frank"),
            ("PolicyName", "big"),
            ("PolicyDocument", &big),
        ])
        .await;
    r.assert_error(StatusCode::CONFLICT, "LimitExceeded");
    assert_eq!(
        r.tag("Message").as_deref(),
        Some("Maximum policy size of 2048 bytes exceeded for user frank")
    );
}

#[tokio::test]
async fn managed_policies_attach_version_and_decide() {
    let h = harness().await;
    let gina = h.user_with_key("gina").await;
    let created = h
        .root(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "ListThem"),
            ("Description", "lists users"),
            ("PolicyDocument", &allow("iam:ListUsers")),
        ])
        .await;
    created.assert_ok();
    let arn = created.tag("Arn").unwrap();
    assert_eq!(arn, "arn:aws:iam::111122223333:policy/ListThem");
    assert_eq!(created.tag("DefaultVersionId").as_deref(), Some("v1"));
    assert!(created.tag("PolicyId").unwrap().starts_with("ANPA"));
    h.root(&[
        ("Action", "CreatePolicy"),
        ("PolicyName", "listthem"),
        ("PolicyDocument", &allow("s3:*")),
    ])
    .await
    .assert_error(StatusCode::CONFLICT, "EntityAlreadyExists");

    h.call(&gina, &[("Action", "ListUsers")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    h.root(&[
        ("Action", "AttachUserPolicy"),
        ("UserName", "gina"),
        ("PolicyArn", &arn),
    ])
    .await
    .assert_ok();
    h.call(&gina, &[("Action", "ListUsers")]).await.assert_ok();
    let attached = h
        .root(&[("Action", "ListAttachedUserPolicies"), ("UserName", "gina")])
        .await;
    assert!(attached.body.contains(&format!(
        "<AttachedPolicies><member><PolicyName>ListThem</PolicyName><PolicyArn>{arn}</PolicyArn></member></AttachedPolicies>"
    )));
    assert_eq!(
        h.root(&[("Action", "GetPolicy"), ("PolicyArn", &arn)])
            .await
            .tag("AttachmentCount")
            .as_deref(),
        Some("1")
    );

    // A new default version that no longer allows ListUsers takes effect at once.
    let v2 = h
        .root(&[
            ("Action", "CreatePolicyVersion"),
            ("PolicyArn", &arn),
            ("PolicyDocument", &allow("iam:GetUser")),
            ("SetAsDefault", "true"),
        ])
        .await;
    v2.assert_ok();
    assert_eq!(v2.tag("VersionId").as_deref(), Some("v2"));
    h.call(&gina, &[("Action", "ListUsers")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    let v1 = h
        .root(&[("Action", "GetPolicyVersion"), ("PolicyArn", &arn), ("VersionId", "v1")])
        .await;
    assert_eq!(
        percent_decode_str(&v1.tag("Document").unwrap()).decode_utf8().unwrap(),
        allow("iam:ListUsers")
    );
    assert_eq!(v1.tag("IsDefaultVersion").as_deref(), Some("false"));
    let versions = h.root(&[("Action", "ListPolicyVersions"), ("PolicyArn", &arn)]).await;
    assert!(
        versions
            .body
            .contains("<Versions><member><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion>")
    );

    let r = h.root(&[("Action", "DeletePolicy"), ("PolicyArn", &arn)]).await;
    r.assert_error(StatusCode::CONFLICT, "DeleteConflict");
    h.root(&[
        ("Action", "DetachUserPolicy"),
        ("UserName", "gina"),
        ("PolicyArn", &arn),
    ])
    .await
    .assert_ok();
    h.root(&[
        ("Action", "DetachUserPolicy"),
        ("UserName", "gina"),
        ("PolicyArn", &arn),
    ])
    .await
    .assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
    h.root(&[
        ("Action", "DeletePolicyVersion"),
        ("PolicyArn", &arn),
        ("VersionId", "v2"),
    ])
    .await
    .assert_error(StatusCode::CONFLICT, "DeleteConflict");
    h.root(&[
        ("Action", "DeletePolicyVersion"),
        ("PolicyArn", &arn),
        ("VersionId", "v1"),
    ])
    .await
    .assert_ok();
    h.root(&[("Action", "DeletePolicy"), ("PolicyArn", &arn)])
        .await
        .assert_ok();
    h.root(&[("Action", "GetPolicy"), ("PolicyArn", &arn)])
        .await
        .assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
}

#[tokio::test]
async fn groups_carry_aws_managed_policies_to_their_members() {
    let h = harness().await;
    let hank = h.user_with_key("hank").await;
    let group = h.root(&[("Action", "CreateGroup"), ("GroupName", "readers")]).await;
    group.assert_ok();
    assert_eq!(
        group.tag("Arn").as_deref(),
        Some("arn:aws:iam::111122223333:group/readers")
    );
    assert!(group.tag("GroupId").unwrap().starts_with("AGPA"));
    let read_only = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
    h.root(&[
        ("Action", "AttachGroupPolicy"),
        ("GroupName", "readers"),
        ("PolicyArn", read_only),
    ])
    .await
    .assert_ok();
    h.root(&[
        ("Action", "AttachGroupPolicy"),
        ("GroupName", "readers"),
        ("PolicyArn", "arn:aws:iam::aws:policy/NoSuchThing"),
    ])
    .await
    .assert_error(StatusCode::NOT_FOUND, "NoSuchEntity");
    h.call(&hank, &[("Action", "ListGroups")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    h.root(&[
        ("Action", "AddUserToGroup"),
        ("GroupName", "readers"),
        ("UserName", "hank"),
    ])
    .await
    .assert_ok();
    h.call(&hank, &[("Action", "ListGroups")]).await.assert_ok();
    let got = h.call(&hank, &[("Action", "GetGroup"), ("GroupName", "readers")]).await;
    got.assert_ok();
    assert!(
        got.body
            .contains("<Users><member><Path>/</Path><UserName>hank</UserName>")
    );
    h.call(&hank, &[("Action", "CreateGroup"), ("GroupName", "writers")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    let aws = h
        .root(&[("Action", "ListPolicies"), ("Scope", "AWS"), ("OnlyAttached", "true")])
        .await;
    aws.assert_ok();
    assert_eq!(aws.body.matches("<member>").count(), 1);
    assert_eq!(aws.tag("PolicyName").as_deref(), Some("IAMReadOnlyAccess"));
    let of_hank = h.root(&[("Action", "ListGroupsForUser"), ("UserName", "hank")]).await;
    assert_eq!(of_hank.tag("GroupName").as_deref(), Some("readers"));

    h.root(&[("Action", "DeleteGroup"), ("GroupName", "readers")])
        .await
        .assert_error(StatusCode::CONFLICT, "DeleteConflict");
    h.root(&[
        ("Action", "RemoveUserFromGroup"),
        ("GroupName", "readers"),
        ("UserName", "hank"),
    ])
    .await
    .assert_ok();
    h.root(&[
        ("Action", "DetachGroupPolicy"),
        ("GroupName", "readers"),
        ("PolicyArn", read_only),
    ])
    .await
    .assert_ok();
    h.root(&[("Action", "DeleteGroup"), ("GroupName", "readers")])
        .await
        .assert_ok();
}
