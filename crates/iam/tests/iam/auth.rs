//! Authentication and authorization: signatures, unknown and inactive keys,
//! routing, implicit and explicit denies.
use crate::support::*;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use strongbox_iam::is_iam_request;

#[tokio::test]
async fn root_creates_a_user_who_needs_a_policy_to_list_users() {
    let h = harness().await;
    let created = h
        .root(&[("Action", "CreateUser"), ("UserName", "alice"), ("Path", "/eng/")])
        .await;
    created.assert_ok();
    assert!(created.body.contains("<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult><User><Path>/eng/</Path><UserName>alice</UserName><UserId>AIDA"));
    assert_eq!(
        created.tag("Arn").as_deref(),
        Some("arn:aws:iam::111122223333:user/eng/alice")
    );
    assert!(created.tag("CreateDate").unwrap().ends_with('Z'));
    assert!(
        created
            .body
            .ends_with("<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateUserResponse>")
    );

    let key = h.root(&[("Action", "CreateAccessKey"), ("UserName", "alice")]).await;
    key.assert_ok();
    assert_eq!(key.tag("Status").as_deref(), Some("Active"));
    assert_eq!(key.tag("SecretAccessKey").map(|s| s.len()), Some(40));
    let alice = Keys {
        id: key.tag("AccessKeyId").unwrap(),
        secret: key.tag("SecretAccessKey").unwrap(),
    };
    assert!(alice.id.starts_with("AKIA") && alice.id.len() == 20);

    let denied = h.call(&alice, &[("Action", "ListUsers")]).await;
    denied.assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    assert_eq!(
        denied.tag("Message").as_deref(),
        Some(
            "User: arn:aws:iam::111122223333:user/eng/alice is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::111122223333:user/* because no identity-based policy allows the iam:ListUsers action"
        )
    );

    h.root(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "alice"),
        ("PolicyName", "list"),
        ("PolicyDocument", &allow("iam:ListUsers")),
    ])
    .await
    .assert_ok();
    let listed = h.call(&alice, &[("Action", "ListUsers")]).await;
    listed.assert_ok();
    assert!(
        listed
            .body
            .contains("<Users><member><Path>/eng/</Path><UserName>alice</UserName>")
    );
    assert_eq!(listed.tag("IsTruncated").as_deref(), Some("false"));
    h.call(&alice, &[("Action", "CreateUser"), ("UserName", "mallory")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "AccessDenied");
}

#[tokio::test]
async fn a_bad_signature_and_an_unknown_key_are_refused() {
    let h = harness().await;
    let wrong = Keys {
        id: h.root.id.clone(),
        secret: "not-the-secret".into(),
    };
    h.call(&wrong, &[("Action", "ListUsers")])
        .await
        .assert_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    let unknown = Keys {
        id: "AKIANOSUCHKEY0000000".into(),
        secret: "whatever".into(),
    };
    let r = h.call(&unknown, &[("Action", "ListUsers")]).await;
    r.assert_error(StatusCode::FORBIDDEN, "InvalidClientTokenId");
    assert_eq!(
        r.tag("Message").as_deref(),
        Some("The security token included in the request is invalid.")
    );

    let body = form(&[("Action", "ListUsers")]);
    let mut tampered = signed(&h.root, &body);
    h.send(&tampered, "Action=CreateUser&UserName=x&Version=2010-05-08")
        .await
        .assert_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    tampered.remove("authorization");
    h.send(&tampered, &body)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MissingAuthenticationToken");
    tampered.insert(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
    );
    h.send(&tampered, &body)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "IncompleteSignature");
}

#[tokio::test]
async fn requests_signed_for_iam_are_recognized() {
    let h = harness().await;
    let body = form(&[("Action", "ListUsers")]);
    let headers = signed(&h.root, &body);
    let uri: Uri = ENDPOINT.parse().unwrap();
    assert!(is_iam_request(&headers, &uri));
    assert!(!is_iam_request(&HeaderMap::new(), &uri));
    let presigned: Uri = "http://h/?X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fiam%2Faws4_request"
        .parse()
        .unwrap();
    assert!(is_iam_request(&HeaderMap::new(), &presigned));
}

#[tokio::test]
async fn an_explicit_deny_wins() {
    let h = harness().await;
    let ivy = h.user_with_key("ivy").await;
    h.root(&[
        ("Action", "AttachUserPolicy"),
        ("UserName", "ivy"),
        ("PolicyArn", "arn:aws:iam::aws:policy/IAMFullAccess"),
    ])
    .await
    .assert_ok();
    h.root(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "ivy"),
        ("PolicyName", "no-delete"),
        (
            "PolicyDocument",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:Delete*","Resource":"*"}]}"#,
        ),
    ])
    .await
    .assert_ok();
    h.call(&ivy, &[("Action", "CreateUser"), ("UserName", "jack")])
        .await
        .assert_ok();
    let r = h.call(&ivy, &[("Action", "DeleteUser"), ("UserName", "jack")]).await;
    r.assert_error(StatusCode::FORBIDDEN, "AccessDenied");
    assert!(
        r.tag("Message")
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy")
    );
}
