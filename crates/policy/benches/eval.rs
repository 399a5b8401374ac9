//! `cargo bench -p strongbox-policy`: nanoseconds per decision for a
//! 1-statement and a 20-statement bucket policy (budget: < 2 µs for 20).
//! A plain timing loop (no criterion: CI builds every target, compile time
//! matters).
#![expect(clippy::unwrap_used, reason = "benchmark setup: any failure aborts the run")]

use std::hint::black_box;
use std::time::Instant;

use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

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

fn bench(name: &str, json: &str, resource: &str) {
    let kind = PolicyKind::Bucket { bucket: "b".into() };
    let policy = Policy::parse(json, &kind).unwrap();
    let identity = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
        &PolicyKind::Identity,
    )
    .unwrap();
    let mut context = ContextKeys::new();
    context.insert("aws:username", "Dave");
    context.insert("aws:SourceIp", "10.1.2.3");
    context.insert("aws:SecureTransport", "true");
    context.insert("s3:TlsVersion", "1.3");
    context.insert("aws:PrincipalAccount", "444455556666");
    context.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
    let identities = [NamedPolicy {
        name: "user",
        policy: &identity,
    }];
    let a = Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some("arn:aws:iam::444455556666:user/Dave"),
                account: Some("444455556666"),
                ..Default::default()
            },
            action: "s3:GetObject",
            resource,
            context: &context,
        },
        identity_policies: &identities,
        resource_policy: Some(NamedPolicy {
            name: "bucket",
            policy: &policy,
        }),
        resource_owner: Some("111122223333"),
        permissions_boundary: None,
        session_policies: &[],
    };
    assert!(
        evaluate(&a).is_allowed(),
        "{name}: the benchmark request must be allowed"
    );
    let rounds = 200_000u32;
    for _ in 0..rounds / 10 {
        black_box(evaluate(black_box(&a)));
    }
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(evaluate(black_box(&a)));
    }
    let ns = start.elapsed().as_nanos() / u128::from(rounds);
    println!("{name}: {ns} ns/decision ({} statements)", policy.statements.len());
}

fn main() {
    bench("1-statement policy", ONE, "arn:aws:s3:::b/photo.jpg");
    bench("20-statement policy", &twenty(), "arn:aws:s3:::b/home/Dave/photo.jpg");
}
