//! Nanoseconds per authorization decision (budget: < 2 µs for the
//! 20-statement policy), with divan:
//! - `one_statement`, `twenty_statements`: a cross-account caller whose
//!   identity policy allows `s3:*`, against a 1- and a 20-statement bucket
//!   policy (every statement of the 20 is examined);
//! - `iam_user_same_account`: an IAM user of the bucket's account with a
//!   user policy, two group policies and a permissions boundary, against the
//!   20-statement bucket policy: 37 statements in five policies;
//! - `parse_twenty_statements`: reading the 20-statement policy from JSON,
//!   what a policy-cache miss costs.
//!
//! Run: `cargo bench --ignore-rust-version -p strongbox-policy --bench eval`
//! (add `-- --sample-count 20` for a quick run).
#![expect(clippy::unwrap_used, reason = "benchmark setup: any failure aborts the run")]

use divan::Bencher;
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

fn main() {
    divan::main();
}

const CALLER: &str = "arn:aws:iam::444455556666:user/Dave";
const CALLER_ACCOUNT: &str = "444455556666";

#[divan::bench]
fn one_statement(bencher: Bencher) {
    cross_account(bencher, ONE, "arn:aws:s3:::b/photo.jpg");
}

#[divan::bench]
fn twenty_statements(bencher: Bencher) {
    cross_account(bencher, &twenty(), "arn:aws:s3:::b/home/Dave/photo.jpg");
}

#[divan::bench]
fn iam_user_same_account(bencher: Bencher) {
    let bucket = bucket_policy(&twenty());
    let user = identity_policy(&identity_statements("User", 5));
    let group_a = identity_policy(&identity_statements("GroupA", 5));
    let group_b = identity_policy(&identity_statements("GroupB", 5));
    let boundary = identity_policy(
        r#"{"Version": "2012-10-17", "Statement": [
          {"Sid": "S3Only", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
          {"Sid": "NoBucketAdmin", "Effect": "Deny", "Action": ["s3:PutBucketPolicy", "s3:DeleteBucket"], "Resource": "*"}
        ]}"#,
    );
    let identities = [
        NamedPolicy {
            name: "user/Dave/inline",
            policy: &user,
        },
        NamedPolicy {
            name: "group/a",
            policy: &group_a,
        },
        NamedPolicy {
            name: "group/b",
            policy: &group_b,
        },
    ];
    let context = context();
    let a = Authorization {
        permissions_boundary: Some(NamedPolicy {
            name: "boundary",
            policy: &boundary,
        }),
        resource_owner: Some(CALLER_ACCOUNT),
        ..authorization(&context, "arn:aws:s3:::b/home/Dave/photo.jpg", &identities, &bucket)
    };
    assert!(evaluate(&a).is_allowed(), "the benchmark request must be allowed");
    bencher.bench(|| evaluate(divan::black_box(&a)));
}

#[divan::bench]
fn parse_twenty_statements(bencher: Bencher) {
    let json = twenty();
    let kind = PolicyKind::Bucket { bucket: "b".into() };
    bencher.bench(|| Policy::parse(divan::black_box(&json), &kind).unwrap());
}

/// The original cases: a caller of another account whose identity policy
/// allows everything, so the bucket policy decides.
fn cross_account(bencher: Bencher, json: &str, resource: &str) {
    let bucket = bucket_policy(json);
    let identity = identity_policy(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
    );
    let identities = [NamedPolicy {
        name: "user",
        policy: &identity,
    }];
    let context = context();
    let a = authorization(&context, resource, &identities, &bucket);
    assert!(evaluate(&a).is_allowed(), "the benchmark request must be allowed");
    bencher.bench(|| evaluate(divan::black_box(&a)));
}

/// GetObject by Dave on `resource`, in the bucket of account 111122223333.
fn authorization<'a>(
    context: &'a ContextKeys,
    resource: &'a str,
    identities: &'a [NamedPolicy<'a>],
    bucket: &'a Policy,
) -> Authorization<'a> {
    Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some(CALLER),
                account: Some(CALLER_ACCOUNT),
                ..Default::default()
            },
            action: "s3:GetObject",
            resource,
            context,
        },
        identity_policies: identities,
        resource_policy: Some(NamedPolicy {
            name: "bucket",
            policy: bucket,
        }),
        resource_owner: Some("111122223333"),
        permissions_boundary: None,
        session_policies: &[],
    }
}

fn context() -> ContextKeys {
    let mut context = ContextKeys::new();
    context.insert("aws:username", "Dave");
    context.insert("aws:SourceIp", "10.1.2.3");
    context.insert("aws:SecureTransport", "true");
    context.insert("s3:TlsVersion", "1.3");
    context.insert("aws:PrincipalAccount", CALLER_ACCOUNT);
    context.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
    context
}

fn bucket_policy(json: &str) -> Policy {
    Policy::parse(json, &PolicyKind::Bucket { bucket: "b".into() }).unwrap()
}

fn identity_policy(json: &str) -> Policy {
    Policy::parse(json, &PolicyKind::Identity).unwrap()
}

/// `n` identity statements of one group, none matching GetObject on the
/// home prefix except the last, so each is examined.
fn identity_statements(group: &str, n: usize) -> String {
    let statements: Vec<String> = (0..n)
        .map(|i| {
            if i + 1 == n {
                format!(
                    r#"{{"Sid": "{group}Home", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                      "Resource": "arn:aws:s3:::b/home/${{aws:username}}/*"}}"#
                )
            } else {
                format!(
                    r#"{{"Sid": "{group}{i}", "Effect": "Allow", "Action": ["s3:List*", "s3:GetBucket*"],
                      "Resource": "arn:aws:s3:::team-{i}", "Condition": {{"IpAddress": {{"aws:SourceIp": "10.{i}.0.0/16"}}}}}}"#
                )
            }
        })
        .collect();
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        statements.join(",")
    )
}

const ONE: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/Dave"},
   "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
]}"#;

/// Twenty statements of the kinds found in real bucket policies; the request
/// matches late ones so every statement is examined.
fn twenty() -> String {
    let mut statements = Vec::new();
    for i in 0..6 {
        statements.push(format!(
            r#"{{"Sid": "User{i}", "Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::444455556666:user/u{i}"}},
              "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::b/home/u{i}/*"}}"#
        ));
    }
    for i in 0..4 {
        statements.push(format!(
            r#"{{"Sid": "Ip{i}", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::b/*",
              "Condition": {{"NotIpAddress": {{"aws:SourceIp": ["10.{i}.0.0/16", "2001:db8:{i}::/48"]}}}}}}"#
        ));
    }
    statements.push(
        r#"{"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": false}}}"#
            .into(),
    );
    statements.push(
        r#"{"Sid": "TlsVersion", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}"#
            .into(),
    );
    statements.push(
        r#"{"Sid": "Kms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}"#
            .into(),
    );
    for i in 0..6 {
        statements.push(format!(
            r#"{{"Sid": "Prefix{i}", "Effect": "Allow", "Principal": {{"AWS": "444455556666"}}, "Action": "s3:ListBucket",
              "Resource": "arn:aws:s3:::b", "Condition": {{"StringLike": {{"s3:prefix": ["p{i}/${{aws:username}}/*", "p{i}/"]}},
              "DateLessThan": {{"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}}}}"#
        ));
    }
    statements.push(
        r#"{"Sid": "Home", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/Dave"},
            "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/home/${aws:username}/*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "444455556666"}}}"#
            .into(),
    );
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        statements.join(",")
    )
}
