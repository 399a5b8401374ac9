//! AWS's published example policies (S3 user guide, IAM user guide) with the
//! decisions AWS documents for them. The JSON files double as fuzz seeds.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

const BUCKET: &str = "amzn-s3-demo-bucket";
const OWNER: &str = "111122223333";
const OWNER_ROOT: &str = "arn:aws:iam::111122223333:root";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny,
    Implicit,
}

fn example(name: &str) -> Policy {
    let path = format!("{}/tests/aws_examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let json = std::fs::read_to_string(path).unwrap();
    let kind = if name.starts_with("identity_") {
        PolicyKind::Identity
    } else {
        PolicyKind::Bucket { bucket: BUCKET.into() }
    };
    Policy::parse(&json, &kind).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Request<'a> {
    principal: PrincipalFacts<'a>,
    action: &'a str,
    resource: &'a str,
    context: &'a [(&'a str, &'a str)],
}

fn root<'a>(action: &'a str, resource: &'a str, context: &'a [(&'a str, &'a str)]) -> Request<'a> {
    let principal = PrincipalFacts {
        arn: Some(OWNER_ROOT),
        account: Some(OWNER),
        ..Default::default()
    };
    Request {
        principal,
        action,
        resource,
        context,
    }
}

fn request<'a>(
    principal: PrincipalFacts<'a>,
    action: &'a str,
    resource: &'a str,
    context: &'a [(&'a str, &'a str)],
) -> Request<'a> {
    Request {
        principal,
        action,
        resource,
        context,
    }
}

fn decide(bucket_policy: Option<&Policy>, identity: &[&Policy], r: &Request<'_>) -> Expect {
    let mut context = ContextKeys::new();
    for (k, v) in r.context {
        context.insert(k, v);
    }
    let identity: Vec<NamedPolicy> = identity
        .iter()
        .map(|p| NamedPolicy {
            name: "identity",
            policy: p,
        })
        .collect();
    let a = Authorization {
        facts: RequestFacts {
            principal: r.principal,
            action: r.action,
            resource: r.resource,
            context: &context,
        },
        identity_policies: &identity,
        resource_policy: bucket_policy.map(|p| NamedPolicy {
            name: "bucket",
            policy: p,
        }),
        resource_owner: Some(OWNER),
        permissions_boundary: None,
        session_policies: &[],
    };
    match evaluate(&a) {
        strongbox_policy::Verdict::Allow { .. } => Expect::Allow,
        strongbox_policy::Verdict::ExplicitDeny { .. } => Expect::Deny,
        strongbox_policy::Verdict::ImplicitDeny => Expect::Implicit,
    }
}

const OBJ: &str = "arn:aws:s3:::amzn-s3-demo-bucket/photo.jpg";
const BKT: &str = "arn:aws:s3:::amzn-s3-demo-bucket";

#[test]
fn deny_insecure_transport_boolean_and_string_forms() {
    for name in ["deny_http_bool", "deny_http_string"] {
        let p = example(name);
        assert_eq!(
            decide(
                Some(&p),
                &[],
                &root("s3:GetObject", OBJ, &[("aws:SecureTransport", "false")])
            ),
            Expect::Deny
        );
        assert_eq!(
            decide(
                Some(&p),
                &[],
                &root("s3:ListBucket", BKT, &[("aws:SecureTransport", "false")])
            ),
            Expect::Deny
        );
        assert_eq!(
            decide(
                Some(&p),
                &[],
                &root("s3:GetObject", OBJ, &[("aws:SecureTransport", "true")])
            ),
            Expect::Allow
        );
    }
}

#[test]
fn enforce_tls_1_2() {
    let p = example("enforce_tls12");
    for (version, expected) in [
        ("1.0", Expect::Deny),
        ("1.1", Expect::Deny),
        ("1.2", Expect::Allow),
        ("1.3", Expect::Allow),
    ] {
        assert_eq!(
            decide(Some(&p), &[], &root("s3:PutObject", OBJ, &[("s3:TlsVersion", version)])),
            expected,
            "{version}"
        );
    }
}

#[test]
fn require_sse_kms_on_put() {
    let p = example("require_sse_kms");
    let kms = [("s3:x-amz-server-side-encryption", "aws:kms")];
    let aes = [("s3:x-amz-server-side-encryption", "AES256")];
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &kms)), Expect::Allow);
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &aes)), Expect::Deny);
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &[])), Expect::Deny);
    assert_eq!(decide(Some(&p), &[], &root("s3:GetObject", OBJ, &[])), Expect::Allow);
}

#[test]
fn require_sse_c_on_put() {
    let p = example("require_sse_c");
    let ssec = [("s3:x-amz-server-side-encryption-customer-algorithm", "AES256")];
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &ssec)), Expect::Allow);
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &[])), Expect::Deny);
}

#[test]
fn cloudfront_origin_access_control() {
    let p = example("cloudfront_oac");
    let cloudfront = PrincipalFacts {
        service: Some("cloudfront.amazonaws.com"),
        ..Default::default()
    };
    let ours = [(
        "aws:SourceArn",
        "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE",
    )];
    let theirs = [("aws:SourceArn", "arn:aws:cloudfront::444455556666:distribution/E2")];
    assert_eq!(
        decide(Some(&p), &[], &request(cloudfront, "s3:GetObject", OBJ, &ours)),
        Expect::Allow
    );
    assert_eq!(
        decide(Some(&p), &[], &request(cloudfront, "s3:GetObject", OBJ, &theirs)),
        Expect::Deny
    );
    let anonymous = Request {
        principal: PrincipalFacts::default(),
        action: "s3:GetObject",
        resource: OBJ,
        context: &[],
    };
    assert_eq!(decide(Some(&p), &[], &anonymous), Expect::Deny);
    assert_eq!(decide(Some(&p), &[], &root("s3:GetObject", OBJ, &[])), Expect::Deny);
    assert_eq!(decide(Some(&p), &[], &root("s3:PutObject", OBJ, &[])), Expect::Allow);
}

#[test]
fn ip_deny_outside_allow_list() {
    let p = example("ip_deny_outside");
    for (ip, expected) in [
        ("11.11.11.11", Expect::Allow),
        ("22.22.22.22", Expect::Allow),
        ("2001:db8:1234:5678::99", Expect::Allow),
        ("11.11.11.12", Expect::Deny),
        ("2001:db8:1234:5679::1", Expect::Deny),
    ] {
        assert_eq!(
            decide(Some(&p), &[], &root("s3:GetObject", OBJ, &[("aws:SourceIp", ip)])),
            expected,
            "{ip}"
        );
    }
}

#[test]
fn ip_public_read_with_exceptions() {
    let p = example("ip_allow_public_read");
    for (ip, expected) in [
        ("192.0.2.1", Expect::Allow),
        ("192.0.2.188", Expect::Implicit),
        ("198.51.100.1", Expect::Implicit),
        ("2001:db8:1234:5678::1", Expect::Allow),
        ("2001:db8:1234:5678:abcd::1", Expect::Implicit),
    ] {
        let context = [("aws:SourceIp", ip)];
        assert_eq!(
            decide(
                Some(&p),
                &[],
                &request(PrincipalFacts::default(), "s3:GetObject", OBJ, &context)
            ),
            expected,
            "{ip}"
        );
    }
    assert_eq!(
        decide(
            Some(&p),
            &[],
            &request(PrincipalFacts::default(), "s3:GetObject", OBJ, &[])
        ),
        Expect::Implicit
    );
}

#[test]
fn per_user_home_directories_in_a_bucket_policy() {
    let p = example("home_directories");
    let john = PrincipalFacts {
        arn: Some("arn:aws:iam::111122223333:user/JohnDoe"),
        account: Some(OWNER),
        ..Default::default()
    };
    let user = ("aws:username", "JohnDoe");
    let own = "arn:aws:s3:::amzn-s3-demo-bucket/home/JohnDoe/notes.txt";
    let other = "arn:aws:s3:::amzn-s3-demo-bucket/home/Jane/notes.txt";
    assert_eq!(
        decide(Some(&p), &[], &request(john, "s3:PutObject", own, &[user])),
        Expect::Allow
    );
    assert_eq!(
        decide(Some(&p), &[], &request(john, "s3:PutObject", other, &[user])),
        Expect::Implicit
    );
    assert_eq!(
        decide(
            Some(&p),
            &[],
            &request(john, "s3:ListBucket", BKT, &[user, ("s3:prefix", "home/JohnDoe/")])
        ),
        Expect::Allow
    );
    assert_eq!(
        decide(
            Some(&p),
            &[],
            &request(john, "s3:ListBucket", BKT, &[user, ("s3:prefix", "home/Jane/")])
        ),
        Expect::Implicit
    );
    assert_eq!(
        decide(
            Some(&p),
            &[],
            &request(
                john,
                "s3:ListBucket",
                BKT,
                &[user, ("s3:prefix", "home/"), ("s3:delimiter", "/")]
            )
        ),
        Expect::Allow
    );
    assert_eq!(
        decide(
            Some(&p),
            &[],
            &request(john, "s3:ListBucket", BKT, &[user, ("s3:prefix", "home/")])
        ),
        Expect::Implicit
    );
}

#[test]
fn per_user_home_directories_in_an_identity_policy() {
    let identity = example("identity_home_prefix");
    let alice = PrincipalFacts {
        arn: Some("arn:aws:iam::111122223333:user/alice"),
        account: Some(OWNER),
        ..Default::default()
    };
    let user = ("aws:username", "alice");
    let own = "arn:aws:s3:::amzn-s3-demo-bucket/alice/a";
    assert_eq!(
        decide(None, &[&identity], &request(alice, "s3:GetObject", own, &[user])),
        Expect::Allow
    );
    assert_eq!(
        decide(
            None,
            &[&identity],
            &request(alice, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/bob/a", &[user])
        ),
        Expect::Implicit
    );
    assert_eq!(
        decide(
            None,
            &[&identity],
            &request(alice, "s3:ListBucket", BKT, &[user, ("s3:prefix", "alice")])
        ),
        Expect::Allow
    );
    assert_eq!(
        decide(
            None,
            &[&identity],
            &request(alice, "s3:ListBucket", BKT, &[user, ("s3:prefix", "alice/x/")])
        ),
        Expect::Allow
    );
    assert_eq!(
        decide(
            None,
            &[&identity],
            &request(alice, "s3:ListBucket", BKT, &[user, ("s3:prefix", "")])
        ),
        Expect::Implicit
    );
    assert_eq!(
        decide(None, &[&identity], &request(alice, "s3:GetObject", own, &[])),
        Expect::Implicit,
        "no username: no match"
    );
}

#[test]
fn cross_account_grants() {
    let p = example("cross_account");
    let allow_all = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
        &PolicyKind::Identity,
    )
    .unwrap();
    let dave = PrincipalFacts {
        arn: Some("arn:aws:iam::444455556666:user/Dave"),
        account: Some("444455556666"),
        ..Default::default()
    };
    let other_root = PrincipalFacts {
        arn: Some("arn:aws:iam::444455556666:root"),
        account: Some("444455556666"),
        ..Default::default()
    };
    let stranger = PrincipalFacts {
        arn: Some("arn:aws:iam::777788889999:root"),
        account: Some("777788889999"),
        ..Default::default()
    };
    assert_eq!(
        decide(Some(&p), &[], &request(other_root, "s3:ListBucket", BKT, &[])),
        Expect::Allow
    );
    assert_eq!(
        decide(Some(&p), &[], &request(dave, "s3:ListBucket", BKT, &[])),
        Expect::Implicit,
        "Dave needs an identity policy"
    );
    assert_eq!(
        decide(Some(&p), &[&allow_all], &request(dave, "s3:ListBucket", BKT, &[])),
        Expect::Allow
    );
    assert_eq!(
        decide(Some(&p), &[&allow_all], &request(dave, "s3:GetObject", OBJ, &[])),
        Expect::Allow
    );
    assert_eq!(
        decide(Some(&p), &[&allow_all], &request(dave, "s3:PutObject", OBJ, &[])),
        Expect::Implicit
    );
    assert_eq!(
        decide(Some(&p), &[], &request(other_root, "s3:GetObject", OBJ, &[])),
        Expect::Implicit,
        "only Dave was named"
    );
    assert_eq!(
        decide(Some(&p), &[], &request(stranger, "s3:ListBucket", BKT, &[])),
        Expect::Implicit
    );
}
