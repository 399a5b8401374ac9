//! Role sessions (STS temporary credentials) as KMS callers: their role's
//! policies, permissions boundary and session policies all bear on the
//! decision, and the audit names the session and the role that issued it.
use crate::support::*;
use serde_json::json;
use strongbox_identity::{SessionClaims, SessionOf};
use strongbox_kms::{EncryptionContext, KmsError, read_events};
use strongbox_meta::{Entity, IamRole, IamStore};
use strongbox_policy::Principal;
use strongbox_types::AccountId;

fn ctx() -> EncryptionContext {
    [("aws:s3:arn".to_owned(), "arn:aws:s3:::bucket/key".to_owned())].into()
}

/// Creates role `name` (with `boundary`, a policy ARN) whose inline policy allows `kms:*`.
async fn role(h: &Harness, name: &str, boundary: Option<&str>) -> IamRole {
    let role = IamRole {
        account_id: AccountId::parse(ACCOUNT).unwrap(),
        name: name.into(),
        role_id: format!("AROA{}", name.to_ascii_uppercase()),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        trust_policy: "{}".into(),
        description: None,
        max_session_s: 3600,
        tags: vec![],
        created_ms: 1,
    };
    assert_eq!(h.meta.create_role(&role, boundary).await.unwrap(), Ok(()));
    let r = h
        .meta
        .put_inline_policy(ACCOUNT, Entity::Role(name), "kms", &allow("kms:*"))
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    role
}

fn session_of(h: &Harness, role: &IamRole, policy: Option<String>) -> strongbox_kms::KmsCaller {
    let claims = SessionClaims {
        access_key: "ASIASESSION000000001".into(),
        account: ACCOUNT.into(),
        of: SessionOf::Role {
            name: role.name.clone(),
            role_id: role.role_id.clone(),
            arn: role.arn.clone(),
            session_name: "s1".into(),
        },
        issued_ms: 1_000,
        expires_ms: i64::MAX,
        mfa_ms: None,
        policy,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: Some("alice".into()),
        chained: false,
    };
    let principal = Principal::AssumedRole {
        account: role.account_id.clone(),
        role_name: role.name.clone(),
        role_id: role.role_id.clone(),
        role_arn: role.arn.clone(),
        session_name: "s1".into(),
    };
    h.s3_caller_as(principal, Some(claims))
}

#[tokio::test]
async fn a_role_session_uses_its_roles_policies_and_is_audited_as_assumed_role() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let app = role(&h, "app", None).await;
    let caller = session_of(&h, &app, None);
    let generated = h.kms.generate_data_key(&caller, &id, &ctx()).await.unwrap();
    let opened = h
        .kms
        .decrypt(&caller, &generated.ciphertext_blob, &ctx())
        .await
        .unwrap();
    assert_eq!(opened.plaintext, generated.plaintext);

    let events = read_events(h.dir.path(), Some(&arn), None).unwrap();
    let event = events
        .iter()
        .find(|e| e["eventName"] == "GenerateDataKey")
        .expect("GenerateDataKey is audited");
    let who = &event["userIdentity"];
    assert_eq!(who["type"], "AssumedRole");
    assert_eq!(who["arn"], format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"));
    assert_eq!(who["principalId"], "AROAAPP:s1");
    assert_eq!(who["sessionContext"]["sessionIssuer"]["arn"], app.arn);
    assert_eq!(who["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(who["sessionContext"]["attributes"]["mfaAuthenticated"], "false");
    assert_eq!(who["sessionContext"]["sourceIdentity"], "alice");
}

#[tokio::test]
async fn session_policies_and_boundaries_narrow_a_role_session() {
    let h = harness().await;
    let (id, arn) = h.key().await;
    let app = role(&h, "app", None).await;
    // The session policy allows Decrypt only: the role's kms:* is narrowed.
    let narrowed = session_of(&h, &app, Some(allow("kms:Decrypt")));
    let r = h.kms.generate_data_key(&narrowed, &id, &ctx()).await;
    let Err(KmsError::AccessDenied(msg)) = r else {
        panic!("expected AccessDenied, got {r:?}")
    };
    assert!(
        msg.starts_with(&format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/app/s1 is not authorized to perform: kms:GenerateDataKey on resource: {arn}"
        )),
        "{msg}"
    );
    let full = session_of(&h, &app, None);
    let generated = h.kms.generate_data_key(&full, &id, &ctx()).await.unwrap();
    h.kms
        .decrypt(&narrowed, &generated.ciphertext_blob, &ctx())
        .await
        .unwrap();

    // A boundary without any kms action removes kms:* from the role.
    let bounded = role(&h, "bounded", Some("arn:aws:iam::aws:policy/AmazonS3FullAccess")).await;
    let r = h
        .kms
        .generate_data_key(&session_of(&h, &bounded, None), &id, &ctx())
        .await;
    assert!(matches!(r, Err(KmsError::AccessDenied(_))), "{r:?}");

    // Deleting the role's policy ends what existing sessions can do.
    let r = h
        .meta
        .delete_inline_policy(ACCOUNT, Entity::Role("app"), "kms")
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    let r = h.kms.generate_data_key(&full, &id, &ctx()).await;
    assert!(matches!(r, Err(KmsError::AccessDenied(_))), "{r:?}");
}

#[tokio::test]
async fn a_key_policy_naming_the_role_allows_its_sessions_without_identity_policies() {
    let h = harness().await;
    let (id, _) = h.key().await;
    let app = role(&h, "app", None).await;
    let r = h
        .meta
        .delete_inline_policy(ACCOUNT, Entity::Role("app"), "kms")
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    let caller = session_of(&h, &app, None);
    assert!(h.kms.generate_data_key(&caller, &id, &ctx()).await.is_err());
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": app.arn}, "Action": "kms:GenerateDataKey", "Resource": "*"}
    ]});
    h.root(
        "PutKeyPolicy",
        json!({"KeyId": id, "PolicyName": "default", "Policy": policy.to_string()}),
    )
    .await
    .ok();
    h.kms.generate_data_key(&caller, &id, &ctx()).await.unwrap();
}
