//! The IAM part of the contract: users, keys, groups, inline and managed
//! policies, attachments, delete conflicts, quotas, and `user_policies`.
use super::acct;
use crate::*;

const ACCOUNT: &str = "111122223333";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

fn user(name: &str, path: &str) -> IamUser {
    IamUser {
        account_id: acct(ACCOUNT),
        name: name.into(),
        user_id: format!("AIDA{}", name.to_ascii_uppercase()),
        path: path.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user{path}{name}"),
        created_ms: 7,
    }
}

fn group(name: &str) -> IamGroup {
    IamGroup {
        account_id: acct(ACCOUNT),
        name: name.into(),
        group_id: format!("AGPA{}", name.to_ascii_uppercase()),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:group/{name}"),
        created_ms: 8,
    }
}

fn policy(name: &str) -> ManagedPolicy {
    ManagedPolicy {
        account_id: acct(ACCOUNT),
        name: name.into(),
        policy_id: format!("ANPA{}", name.to_ascii_uppercase()),
        path: "/".into(),
        arn: policy_arn(name),
        description: Some("d".into()),
        default_version_id: String::new(),
        attachment_count: 0,
        created_ms: 9,
        updated_ms: 9,
    }
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

fn key(id: &str, user: Option<&str>) -> AccessKey {
    AccessKey {
        credential: Credential {
            access_key: id.into(),
            account_id: acct(ACCOUNT),
            secret_sealed: vec![1],
            is_root: user.is_none(),
            active: true,
            user_name: user.map(str::to_owned),
        },
        created_ms: 11,
    }
}

/// Runs the IAM checks; the account `111122223333` must exist.
pub async fn run(s: &dyn MetaStore) {
    users(s).await;
    access_keys(s).await;
    groups(s).await;
    inline_policies(s).await;
    managed_policies(s).await;
    attachments_and_user_policies(s).await;
    delete_conflicts(s).await;
}

async fn users(s: &dyn MetaStore) {
    assert_eq!(s.create_user(&user("Alice", "/")).await.ok(), Some(Ok(())));
    assert_eq!(
        s.create_user(&user("alice", "/x/")).await.ok(),
        Some(Err(Refused::AlreadyExists)),
        "names are case-insensitive"
    );
    assert!(s.create_user(&user("bob", "/eng/")).await.is_ok());
    let got = s.get_user(ACCOUNT, "ALICE").await.ok().flatten();
    assert_eq!(got, Some(user("Alice", "/")), "stored as given, found in any case");
    assert_eq!(s.get_user("999999999999", "Alice").await.ok().flatten(), None);
    let names = |v: Vec<IamUser>| v.into_iter().map(|u| u.name).collect::<Vec<_>>();
    assert_eq!(
        s.list_users(ACCOUNT, "/").await.map(names).ok(),
        Some(vec!["Alice".into(), "bob".into()])
    );
    assert_eq!(
        s.list_users(ACCOUNT, "/eng/").await.map(names).ok(),
        Some(vec!["bob".into()])
    );
    assert_eq!(s.delete_user(ACCOUNT, "BOB").await.ok(), Some(Ok(())));
    assert_eq!(s.delete_user(ACCOUNT, "bob").await.ok(), Some(Err(Refused::NoSuchUser)));
}

async fn access_keys(s: &dyn MetaStore) {
    assert_eq!(
        s.create_access_key(&key("AKU1", Some("nobody"))).await.ok(),
        Some(Err(Refused::NoSuchUser))
    );
    assert_eq!(
        s.create_access_key(&key("AKU1", Some("alice"))).await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.create_access_key(&key("AKU1", Some("alice"))).await.ok(),
        Some(Err(Refused::AlreadyExists))
    );
    assert_eq!(
        s.create_access_key(&key("AKU2", Some("Alice"))).await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.create_access_key(&key("AKU3", Some("alice"))).await.ok(),
        Some(Err(Refused::LimitExceeded)),
        "two keys per user"
    );
    let listed = s.list_credentials(ACCOUNT, Some("ALICE")).await.unwrap_or_default();
    let ids: Vec<_> = listed.iter().map(|k| k.credential.access_key.as_str()).collect();
    assert_eq!(ids, ["AKU1", "AKU2"]);
    assert!(
        listed
            .iter()
            .all(|k| k.credential.user_name.as_deref() == Some("Alice") && k.created_ms == 11),
        "stored under the user's spelling: {listed:?}"
    );
    assert_eq!(
        s.get_credential("AKU1").await.ok().flatten().and_then(|c| c.user_name),
        Some("Alice".into())
    );
    let root_keys = s.list_credentials(ACCOUNT, None).await.unwrap_or_default();
    assert!(root_keys.iter().all(|k| k.credential.user_name.is_none()) && !root_keys.is_empty());
    assert_eq!(s.set_credential_active("AKU2", false).await.ok(), Some(true));
    assert_eq!(
        s.get_credential("AKU2").await.ok().flatten().map(|c| c.active),
        Some(false)
    );
    assert_eq!(s.set_credential_active("nope", false).await.ok(), Some(false));
    assert_eq!(s.delete_credential("AKU2").await.ok(), Some(true));
    assert_eq!(s.delete_credential("AKU2").await.ok(), Some(false));
    assert_eq!(s.get_credential("AKU2").await.ok().flatten(), None);
}

async fn groups(s: &dyn MetaStore) {
    assert_eq!(s.create_group(&group("devs")).await.ok(), Some(Ok(())));
    assert_eq!(
        s.create_group(&group("DEVS")).await.ok(),
        Some(Err(Refused::AlreadyExists))
    );
    assert!(s.create_group(&group("ops")).await.is_ok());
    assert_eq!(s.get_group(ACCOUNT, "Devs").await.ok().flatten(), Some(group("devs")));
    assert_eq!(s.list_groups(ACCOUNT, "/").await.map(|g| g.len()).ok(), Some(2));
    assert_eq!(
        s.add_user_to_group(ACCOUNT, "devs", "nobody").await.ok(),
        Some(Err(Refused::NoSuchUser))
    );
    assert_eq!(
        s.add_user_to_group(ACCOUNT, "nope", "alice").await.ok(),
        Some(Err(Refused::NoSuchGroup))
    );
    assert_eq!(s.add_user_to_group(ACCOUNT, "devs", "alice").await.ok(), Some(Ok(())));
    assert_eq!(
        s.add_user_to_group(ACCOUNT, "DEVS", "ALICE").await.ok(),
        Some(Ok(())),
        "adding again is a no-op"
    );
    let members = s
        .group_members(ACCOUNT, "devs")
        .await
        .ok()
        .and_then(std::result::Result::ok);
    assert_eq!(
        members.map(|m| m.into_iter().map(|u| u.name).collect::<Vec<_>>()),
        Some(vec!["Alice".into()])
    );
    let of_alice = s
        .groups_for_user(ACCOUNT, "alice")
        .await
        .ok()
        .and_then(std::result::Result::ok);
    assert_eq!(of_alice.map(|g| g.len()), Some(1));
    assert_eq!(
        s.groups_for_user(ACCOUNT, "nobody").await.ok(),
        Some(Err(Refused::NoSuchUser))
    );
    assert_eq!(
        s.remove_user_from_group(ACCOUNT, "ops", "alice").await.ok(),
        Some(Err(Refused::NotMember))
    );
    assert_eq!(s.delete_group(ACCOUNT, "ops").await.ok(), Some(Ok(())));
    assert_eq!(
        s.delete_group(ACCOUNT, "devs").await.ok(),
        Some(Err(Refused::Conflict(Conflict::GroupMembers)))
    );
    assert_eq!(
        s.delete_group(ACCOUNT, "ops").await.ok(),
        Some(Err(Refused::NoSuchGroup))
    );
}

async fn inline_policies(s: &dyn MetaStore) {
    let alice = Entity::User("alice");
    assert_eq!(
        s.put_inline_policy(ACCOUNT, Entity::User("nobody"), "p", DOC)
            .await
            .ok(),
        Some(Err(Refused::NoSuchUser))
    );
    assert_eq!(s.put_inline_policy(ACCOUNT, alice, "P1", DOC).await.ok(), Some(Ok(())));
    let other = DOC.replace("s3:*", "s3:Get*");
    assert_eq!(
        s.put_inline_policy(ACCOUNT, alice, "p1", &other).await.ok(),
        Some(Ok(()))
    );
    let got = s.get_inline_policy(ACCOUNT, alice, "p1").await.ok();
    assert_eq!(
        got,
        Some(Ok(NamedDocument {
            name: "P1".into(),
            document: other.clone()
        })),
        "replaced in place under its first spelling"
    );
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(limits::USER_INLINE_CHARS));
    assert_eq!(
        s.put_inline_policy(ACCOUNT, alice, "big", &big).await.ok(),
        Some(Err(Refused::LimitExceeded))
    );
    let fits = format!("{{\"x\":\"{}\"}}", "a".repeat(limits::USER_INLINE_CHARS));
    assert_eq!(
        s.put_inline_policy(ACCOUNT, Entity::Group("devs"), "big", &fits)
            .await
            .ok(),
        Some(Ok(())),
        "groups have the larger quota"
    );
    assert_eq!(
        s.list_inline_policies(ACCOUNT, alice).await.ok(),
        Some(Ok(vec!["P1".to_owned()]))
    );
    assert_eq!(
        s.get_inline_policy(ACCOUNT, alice, "nope").await.ok(),
        Some(Err(Refused::NoSuchInlinePolicy))
    );
    assert_eq!(
        s.delete_inline_policy(ACCOUNT, Entity::Group("devs"), "BIG").await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.delete_inline_policy(ACCOUNT, Entity::Group("devs"), "big").await.ok(),
        Some(Err(Refused::NoSuchInlinePolicy))
    );
    assert_eq!(
        s.put_inline_policy(ACCOUNT, Entity::Group("devs"), "g1", DOC)
            .await
            .ok(),
        Some(Ok(()))
    );
}

async fn managed_policies(s: &dyn MetaStore) {
    let arn = policy_arn("Pol");
    let created = s
        .create_policy(&policy("Pol"), DOC)
        .await
        .ok()
        .and_then(std::result::Result::ok);
    assert_eq!(
        created
            .as_ref()
            .map(|p| (p.default_version_id.as_str(), p.attachment_count)),
        Some(("v1", 0))
    );
    assert_eq!(
        s.create_policy(&policy("POL"), DOC).await.ok().map(|r| r.err()),
        Some(Some(Refused::AlreadyExists))
    );
    assert_eq!(s.get_policy(ACCOUNT, &arn).await.ok().flatten(), created);
    assert_eq!(s.get_policy(ACCOUNT, &policy_arn("nope")).await.ok().flatten(), None);
    let v2 = s.create_policy_version(ACCOUNT, &arn, "{}", false, 20).await.ok();
    assert_eq!(
        v2.and_then(std::result::Result::ok)
            .map(|v| (v.version_id, v.is_default)),
        Some(("v2".to_owned(), false))
    );
    for _ in 0..3 {
        assert!(matches!(
            s.create_policy_version(ACCOUNT, &arn, DOC, true, 30).await,
            Ok(Ok(_))
        ));
    }
    assert_eq!(
        s.create_policy_version(ACCOUNT, &arn, DOC, true, 40)
            .await
            .ok()
            .map(|r| r.err()),
        Some(Some(Refused::LimitExceeded)),
        "five versions at most"
    );
    let ids = |v: Vec<PolicyVersion>| v.into_iter().map(|v| (v.version_id, v.is_default)).collect::<Vec<_>>();
    assert_eq!(
        s.list_policy_versions(ACCOUNT, &arn)
            .await
            .ok()
            .and_then(std::result::Result::ok)
            .map(ids),
        Some(vec![
            ("v5".into(), true),
            ("v4".into(), false),
            ("v3".into(), false),
            ("v2".into(), false),
            ("v1".into(), false)
        ])
    );
    assert_eq!(
        s.delete_policy_version(ACCOUNT, &arn, "v5").await.ok(),
        Some(Err(Refused::Conflict(Conflict::DefaultVersion)))
    );
    assert_eq!(s.delete_policy_version(ACCOUNT, &arn, "v4").await.ok(), Some(Ok(())));
    assert_eq!(
        s.delete_policy_version(ACCOUNT, &arn, "v4").await.ok(),
        Some(Err(Refused::NoSuchPolicyVersion))
    );
    let v6 = s.create_policy_version(ACCOUNT, &arn, DOC, false, 50).await.ok();
    assert_eq!(
        v6.and_then(std::result::Result::ok).map(|v| v.version_id),
        Some("v6".into()),
        "version ids are never reused"
    );
    assert_eq!(
        s.set_default_policy_version(ACCOUNT, &arn, "v2", 60).await.ok(),
        Some(Ok(()))
    );
    let v2 = s
        .get_policy_version(ACCOUNT, &arn, "v2")
        .await
        .ok()
        .and_then(std::result::Result::ok);
    assert_eq!(v2.map(|v| (v.document, v.is_default)), Some(("{}".into(), true)));
    assert_eq!(
        s.get_policy_version(ACCOUNT, &arn, "x1").await.ok(),
        Some(Err(Refused::NoSuchPolicyVersion))
    );
    assert_eq!(
        s.set_default_policy_version(ACCOUNT, &arn, "v9", 60).await.ok(),
        Some(Err(Refused::NoSuchPolicyVersion))
    );
    assert_eq!(
        s.delete_policy(ACCOUNT, &arn).await.ok(),
        Some(Err(Refused::Conflict(Conflict::PolicyVersions)))
    );
    for v in ["v1", "v3", "v5", "v6"] {
        assert_eq!(
            s.delete_policy_version(ACCOUNT, &arn, v).await.ok(),
            Some(Ok(())),
            "{v}"
        );
    }
    assert_eq!(
        s.set_default_policy_version(ACCOUNT, &arn, "v2", 70).await.ok(),
        Some(Ok(()))
    );
    assert!(s.create_policy(&policy("Other"), DOC).await.is_ok());
    assert_eq!(
        s.list_policies(ACCOUNT, "/", false).await.map(|v| v.len()).ok(),
        Some(2)
    );
    assert_eq!(s.list_policies(ACCOUNT, "/", true).await.map(|v| v.len()).ok(), Some(0));
    assert_eq!(s.delete_policy(ACCOUNT, &policy_arn("other")).await.ok(), Some(Ok(())));
    assert_eq!(
        s.delete_policy(ACCOUNT, &policy_arn("other")).await.ok(),
        Some(Err(Refused::NoSuchPolicy))
    );
}

async fn attachments_and_user_policies(s: &dyn MetaStore) {
    let arn = policy_arn("Pol");
    let alice = Entity::User("alice");
    let s3_read = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    assert_eq!(s.attach_policy(ACCOUNT, alice, &arn).await.ok(), Some(Ok(())));
    assert_eq!(
        s.attach_policy(ACCOUNT, alice, &arn).await.ok(),
        Some(Ok(())),
        "idempotent"
    );
    assert_eq!(
        s.attach_policy(ACCOUNT, alice, &policy_arn("nope")).await.ok(),
        Some(Err(Refused::NoSuchPolicy))
    );
    assert_eq!(
        s.attach_policy(ACCOUNT, alice, "arn:aws:iam::aws:policy/NotAThing")
            .await
            .ok(),
        Some(Err(Refused::NoSuchPolicy))
    );
    assert_eq!(
        s.attach_policy(ACCOUNT, alice, "arn:aws:iam::999999999999:policy/Pol")
            .await
            .ok(),
        Some(Err(Refused::NoSuchPolicy)),
        "another account's policy"
    );
    assert_eq!(
        s.attach_policy(ACCOUNT, Entity::Group("devs"), s3_read).await.ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.attach_policy(ACCOUNT, Entity::Group("nope"), s3_read).await.ok(),
        Some(Err(Refused::NoSuchGroup))
    );
    assert_eq!(s.attachment_count(ACCOUNT, &arn).await.ok(), Some(1));
    assert_eq!(s.attachment_count(ACCOUNT, s3_read).await.ok(), Some(1));
    assert_eq!(
        s.get_policy(ACCOUNT, &arn)
            .await
            .ok()
            .flatten()
            .map(|p| p.attachment_count),
        Some(1)
    );
    assert_eq!(s.list_policies(ACCOUNT, "/", true).await.map(|v| v.len()).ok(), Some(1));
    assert_eq!(
        s.attached_policies(ACCOUNT, alice).await.ok(),
        Some(Ok(vec![AttachedPolicy {
            name: "Pol".into(),
            arn: arn.clone()
        }]))
    );
    let names: Vec<String> = s
        .user_policies(ACCOUNT, "ALICE")
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        names,
        [
            "user/Alice/inline/P1".to_owned(),
            format!("user/Alice/attached/{arn}"),
            "group/devs/inline/g1".to_owned(),
            format!("group/devs/attached/{s3_read}"),
        ]
    );
    let docs = s.user_policies(ACCOUNT, "alice").await.unwrap_or_default();
    assert_eq!(
        docs.get(1).map(|d| d.document.as_str()),
        Some("{}"),
        "the default version (v2)"
    );
    assert!(
        docs.get(3).is_some_and(|d| d.document.contains("s3:Get*")),
        "built-in resolved"
    );
    assert!(s.user_policies(ACCOUNT, "nobody").await.is_ok_and(|v| v.is_empty()));
    assert_eq!(
        s.delete_policy(ACCOUNT, &arn).await.ok(),
        Some(Err(Refused::Conflict(Conflict::PolicyAttached)))
    );
    for n in 0..limits::ATTACHED_POLICIES {
        let name = format!("Many{n}");
        assert!(s.create_policy(&policy(&name), DOC).await.is_ok());
        let outcome = s
            .attach_policy(ACCOUNT, Entity::Group("devs"), &policy_arn(&name))
            .await
            .ok();
        let expected = if n + 1 < limits::ATTACHED_POLICIES {
            Ok(())
        } else {
            Err(Refused::LimitExceeded)
        };
        assert_eq!(outcome, Some(expected), "attachment {n}");
    }
}

async fn delete_conflicts(s: &dyn MetaStore) {
    let conflict = |c| Some(Err(Refused::Conflict(c)));
    assert_eq!(
        s.delete_user(ACCOUNT, "alice").await.ok(),
        conflict(Conflict::AccessKeys)
    );
    assert_eq!(s.delete_credential("AKU1").await.ok(), Some(true));
    assert_eq!(
        s.delete_user(ACCOUNT, "alice").await.ok(),
        conflict(Conflict::InlinePolicies)
    );
    assert!(
        s.delete_inline_policy(ACCOUNT, Entity::User("alice"), "p1")
            .await
            .is_ok()
    );
    assert_eq!(
        s.delete_user(ACCOUNT, "alice").await.ok(),
        conflict(Conflict::AttachedPolicies)
    );
    assert_eq!(
        s.detach_policy(ACCOUNT, Entity::User("alice"), &policy_arn("POL"))
            .await
            .ok(),
        Some(Ok(()))
    );
    assert_eq!(
        s.detach_policy(ACCOUNT, Entity::User("alice"), &policy_arn("Pol"))
            .await
            .ok(),
        Some(Err(Refused::NotAttached))
    );
    assert_eq!(
        s.delete_user(ACCOUNT, "alice").await.ok(),
        conflict(Conflict::GroupMemberships)
    );
    assert_eq!(
        s.remove_user_from_group(ACCOUNT, "devs", "alice").await.ok(),
        Some(Ok(()))
    );
    assert_eq!(s.delete_user(ACCOUNT, "alice").await.ok(), Some(Ok(())));
    assert_eq!(
        s.delete_group(ACCOUNT, "devs").await.ok(),
        conflict(Conflict::InlinePolicies)
    );
    assert!(
        s.delete_inline_policy(ACCOUNT, Entity::Group("devs"), "g1")
            .await
            .is_ok()
    );
    assert_eq!(
        s.delete_group(ACCOUNT, "devs").await.ok(),
        conflict(Conflict::AttachedPolicies)
    );
    let attached = s
        .attached_policies(ACCOUNT, Entity::Group("devs"))
        .await
        .ok()
        .and_then(std::result::Result::ok);
    for a in attached.unwrap_or_default() {
        assert_eq!(
            s.detach_policy(ACCOUNT, Entity::Group("devs"), &a.arn).await.ok(),
            Some(Ok(()))
        );
    }
    assert_eq!(s.delete_group(ACCOUNT, "devs").await.ok(), Some(Ok(())));
    assert_eq!(s.delete_policy(ACCOUNT, &policy_arn("Pol")).await.ok(), Some(Ok(())));
}
