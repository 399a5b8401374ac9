//! Every condition operator, its `IfExists` form, the set qualifiers, absent
//! keys and policy variables, mostly with values from AWS's documentation.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

const USER: &str = "arn:aws:iam::111122223333:user/alice";

/// Whether an identity-policy Allow guarded by `condition` allows a request
/// with context `pairs` (a key may repeat for several values).
fn holds_in(version: &str, condition: &str, pairs: &[(&str, &str)], resource_pattern: &str, resource: &str) -> bool {
    let json = format!(
        r#"{{{version} "Statement": {{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "{resource_pattern}", "Condition": {condition}}}}}"#
    );
    let policy = Policy::parse(&json, &PolicyKind::Identity).unwrap();
    let mut context = ContextKeys::new();
    for (k, v) in pairs {
        context.insert(k, v);
    }
    let facts = RequestFacts {
        principal: PrincipalFacts {
            arn: Some(USER),
            account: Some("111122223333"),
            ..Default::default()
        },
        action: "s3:GetObject",
        resource,
        context: &context,
    };
    let named = [NamedPolicy {
        name: "p",
        policy: &policy,
    }];
    let a = Authorization {
        facts,
        identity_policies: &named,
        resource_policy: None,
        resource_owner: Some("111122223333"),
        permissions_boundary: None,
        session_policies: &[],
    };
    evaluate(&a).is_allowed()
}

fn holds(condition: &str, pairs: &[(&str, &str)]) -> bool {
    holds_in(r#""Version": "2012-10-17","#, condition, pairs, "*", "arn:aws:s3:::b/k")
}

#[test]
fn string_operators() {
    let eq = r#"{"StringEquals": {"aws:PrincipalTag/job": ["iamuser-admin", "iamuser-read-only"]}}"#;
    assert!(holds(eq, &[("aws:PrincipalTag/job", "iamuser-read-only")]));
    assert!(
        holds(eq, &[("AWS:principaltag/JOB", "iamuser-admin")]),
        "key names are case-insensitive"
    );
    assert!(!holds(eq, &[("aws:PrincipalTag/job", "IAMUSER-ADMIN")]));
    assert!(!holds(eq, &[]));
    let star = r#"{"StringEquals": {"k": "a*"}}"#;
    assert!(!holds(star, &[("k", "abc")]), "StringEquals has no wildcards");
    assert!(holds(star, &[("k", "a*")]));
    let ne = r#"{"StringNotEquals": {"k": ["a", "b"]}}"#;
    assert!(holds(ne, &[("k", "c")]));
    assert!(!holds(ne, &[("k", "b")]));
    assert!(holds(ne, &[]), "negated operators hold for an absent key");
    let ic = r#"{"StringEqualsIgnoreCase": {"k": "ÉTÉ"}}"#;
    assert!(holds(ic, &[("k", "été")]));
    let nic = r#"{"StringNotEqualsIgnoreCase": {"k": "Abc"}}"#;
    assert!(!holds(nic, &[("k", "aBC")]));
    assert!(holds(nic, &[("k", "abd")]));
    let like = r#"{"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}"#;
    assert!(holds(like, &[("s3:prefix", "home/alice/x"), ("aws:username", "alice")]));
    assert!(holds(like, &[("s3:prefix", "")]));
    assert!(!holds(like, &[("s3:prefix", "home/bob/x"), ("aws:username", "alice")]));
    assert!(
        !holds(like, &[("s3:prefix", "home/alice/x")]),
        "missing variable matches nothing"
    );
    let q = r#"{"StringLike": {"k": "a?c"}}"#;
    assert!(holds(q, &[("k", "a😀c")]));
    assert!(!holds(q, &[("k", "abbc")]));
    let not_like = r#"{"StringNotLike": {"k": ["x*", "y*"]}}"#;
    assert!(holds(not_like, &[("k", "zz")]));
    assert!(!holds(not_like, &[("k", "yz")]));
}

#[test]
fn numeric_operators_compare_decimals() {
    let tls = r#"{"NumericLessThan": {"s3:TlsVersion": 1.2}}"#;
    assert!(holds(tls, &[("s3:TlsVersion", "1.1")]));
    assert!(!holds(tls, &[("s3:TlsVersion", "1.2")]));
    assert!(!holds(tls, &[("s3:TlsVersion", "1.3")]));
    assert!(holds(tls, &[("s3:TlsVersion", "1.10")]), "1.10 is 1.1, not ten tenths");
    assert!(
        !holds(tls, &[("s3:TlsVersion", "abc")]),
        "unreadable request value: false"
    );
    let cases = [
        ("NumericEquals", "10", "10.0", true),
        ("NumericEquals", "10", "9", false),
        ("NumericNotEquals", "10", "9", true),
        ("NumericNotEquals", "10", "10", false),
        ("NumericLessThanEquals", "10", "10", true),
        ("NumericGreaterThan", "10", "10.01", true),
        ("NumericGreaterThan", "10", "9.99", false),
        ("NumericGreaterThanEquals", "-1", "-1", true),
        ("NumericLessThan", "\"1e2\"", "99", true),
    ];
    for (op, policy, request, expected) in cases {
        let c = format!(r#"{{"{op}": {{"s3:max-keys": {policy}}}}}"#);
        assert_eq!(
            holds(&c, &[("s3:max-keys", request)]),
            expected,
            "{op} {policy} {request}"
        );
    }
    assert!(
        !holds(r#"{"NumericNotEquals": {"k": "ten"}}"#, &[("k", "9")]),
        "unreadable policy value: false"
    );
    assert!(!holds(r#"{"NumericNotEquals": {"k": "10"}}"#, &[("k", "nine")]));
    assert!(holds(r#"{"NumericNotEquals": {"k": "10"}}"#, &[]));
}

#[test]
fn date_operators() {
    let before = r#"{"DateLessThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#;
    assert!(holds(before, &[("aws:CurrentTime", "2020-03-31T23:59:59Z")]));
    assert!(!holds(before, &[("aws:CurrentTime", "2020-04-01T00:00:00Z")]));
    assert!(holds(before, &[("aws:CurrentTime", "1585699199")]), "epoch seconds");
    assert!(holds(before, &[("aws:CurrentTime", "2020-04-01T01:59:59+02:00")]));
    let cases = [
        ("DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", true),
        ("DateNotEquals", "2020-01-01", "2020-01-02", true),
        ("DateLessThanEquals", "2020-01-01", "2020-01-01", true),
        ("DateGreaterThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", true),
        ("DateGreaterThanEquals", "1577836800", "2020-01-01T00:00:00Z", true),
        ("DateGreaterThan", "2020-01-01", "not a date", false),
    ];
    for (op, policy, request, expected) in cases {
        let c = format!(r#"{{"{op}": {{"aws:CurrentTime": "{policy}"}}}}"#);
        assert_eq!(
            holds(&c, &[("aws:CurrentTime", request)]),
            expected,
            "{op} {policy} {request}"
        );
    }
}

#[test]
fn bool_binary_null() {
    for c in [
        r#"{"Bool": {"aws:SecureTransport": false}}"#,
        r#"{"Bool": {"aws:SecureTransport": "false"}}"#,
    ] {
        assert!(holds(c, &[("aws:SecureTransport", "false")]));
        assert!(!holds(c, &[("aws:SecureTransport", "true")]));
        assert!(!holds(c, &[]));
    }
    assert!(holds(
        r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#,
        &[("aws:MultiFactorAuthPresent", "TRUE")]
    ));
    let bin = r#"{"BinaryEquals": {"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#;
    assert!(holds(bin, &[("k", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")]));
    assert!(!holds(bin, &[("k", "QmluYXJ5")]));
    assert!(!holds(bin, &[("k", "not base64!")]));
    let null_true = r#"{"Null": {"aws:TokenIssueTime": "true"}}"#;
    assert!(holds(null_true, &[]));
    assert!(!holds(null_true, &[("aws:TokenIssueTime", "x")]));
    let null_false = r#"{"Null": {"aws:TokenIssueTime": false}}"#;
    assert!(holds(null_false, &[("aws:tokenissuetime", "x")]));
    assert!(!holds(null_false, &[]));
}

#[test]
fn ip_operators() {
    let allow = r#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64", "203.0.113.7"]}}"#;
    assert!(holds(allow, &[("aws:SourceIp", "192.0.2.44")]));
    assert!(holds(allow, &[("aws:SourceIp", "2001:db8:1234:5678::abcd")]));
    assert!(holds(allow, &[("aws:SourceIp", "203.0.113.7")]));
    assert!(!holds(allow, &[("aws:SourceIp", "203.0.113.8")]));
    assert!(!holds(allow, &[("aws:SourceIp", "2001:db8:1234:5679::1")]));
    assert!(!holds(allow, &[("aws:SourceIp", "garbage")]));
    let deny_list = r#"{"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#;
    assert!(holds(deny_list, &[("aws:SourceIp", "198.51.100.1")]));
    assert!(!holds(deny_list, &[("aws:SourceIp", "192.0.2.1")]));
}

#[test]
fn arn_operators_compare_components() {
    let like = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/*"}}"#;
    assert!(holds(
        like,
        &[(
            "aws:SourceArn",
            "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"
        )]
    ));
    assert!(!holds(
        like,
        &[("aws:SourceArn", "arn:aws:cloudfront::444455556666:distribution/E1")]
    ));
    let cross = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}"#;
    assert!(holds(cross, &[("aws:SourceArn", "arn:aws:s3:::bucket:with:colons")]));
    let star_account = r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}}"#;
    assert!(holds(
        star_account,
        &[("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic")]
    ));
    assert!(!holds(
        star_account,
        &[("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:other")]
    ));
    let wildcard_cannot_span = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:*"}}"#;
    assert!(!holds(wildcard_cannot_span, &[("aws:SourceArn", "arn:aws:s3:::b")]));
    assert!(!holds(like, &[("aws:SourceArn", "not-an-arn")]));
    let not = r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:iam::111122223333:role/*"}}"#;
    assert!(holds(not, &[("aws:SourceArn", "arn:aws:iam::111122223333:user/x")]));
    assert!(!holds(not, &[("aws:SourceArn", "arn:aws:iam::111122223333:role/x")]));
    let ne = r#"{"ArnNotEquals": {"aws:SourceArn": "arn:aws:iam::111122223333:role/x"}}"#;
    assert!(holds(ne, &[]));
}

#[test]
fn if_exists_forms() {
    let c = r#"{"StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.micro"]}}"#;
    assert!(holds(c, &[]));
    assert!(holds(c, &[("ec2:InstanceType", "t2.micro")]));
    assert!(!holds(c, &[("ec2:InstanceType", "m5.large")]));
    assert!(holds(r#"{"NumericLessThanIfExists": {"k": 3}}"#, &[]));
    assert!(holds(r#"{"BoolIfExists": {"k": "true"}}"#, &[]));
    assert!(holds(r#"{"IpAddressIfExists": {"k": "10.0.0.0/8"}}"#, &[]));
    assert!(holds(r#"{"ArnLikeIfExists": {"k": "arn:*:*:*:*:*"}}"#, &[]));
    assert!(holds(r#"{"DateLessThanIfExists": {"k": "2020-01-01"}}"#, &[]));
    assert!(holds(r#"{"BinaryEqualsIfExists": {"k": "AA=="}}"#, &[]));
}

#[test]
fn set_qualifiers() {
    let all = r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}"#;
    assert!(holds(
        all,
        &[("aws:TagKeys", "environment"), ("aws:TagKeys", "cost-center")]
    ));
    assert!(!holds(all, &[("aws:TagKeys", "environment"), ("aws:TagKeys", "owner")]));
    assert!(holds(all, &[]), "ForAllValues holds for an absent key");
    let any = r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}"#;
    assert!(holds(any, &[("aws:TagKeys", "owner"), ("aws:TagKeys", "environment")]));
    assert!(!holds(any, &[("aws:TagKeys", "owner")]));
    assert!(!holds(any, &[]), "ForAnyValue is false for an absent key");
    let any_not = r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}}"#;
    assert!(holds(any_not, &[("aws:TagKeys", "a"), ("aws:TagKeys", "b")]));
    assert!(!holds(any_not, &[("aws:TagKeys", "a")]));
    let all_not = r#"{"ForAllValues:StringNotLike": {"aws:TagKeys": "a*"}}"#;
    assert!(!holds(all_not, &[("aws:TagKeys", "ab"), ("aws:TagKeys", "b")]));
    assert!(holds(all_not, &[("aws:TagKeys", "b"), ("aws:TagKeys", "c")]));
    let plain_not = r#"{"StringNotEquals": {"k": "a"}}"#;
    assert!(
        !holds(plain_not, &[("k", "a"), ("k", "b")]),
        "a plain negated operator needs every value to differ"
    );
}

#[test]
fn keys_and_operators_and_together() {
    let c = r#"{"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}"#;
    assert!(holds(c, &[("a", "1"), ("b", "2"), ("c", "true")]));
    assert!(!holds(c, &[("a", "1"), ("b", "2"), ("c", "false")]));
    assert!(!holds(c, &[("a", "1"), ("c", "true")]));
}

#[test]
fn policy_variables() {
    let r = "arn:aws:s3:::b/home/alice/file";
    let v12 = r#""Version": "2012-10-17","#;
    assert!(holds_in(
        v12,
        "{}",
        &[("aws:username", "alice")],
        "arn:aws:s3:::b/home/${aws:username}/*",
        r
    ));
    assert!(holds_in(
        v12,
        "{}",
        &[("AWS:UserName", "alice")],
        "arn:aws:s3:::b/home/${aws:USERNAME}/*",
        r
    ));
    assert!(!holds_in(
        v12,
        "{}",
        &[("aws:username", "bob")],
        "arn:aws:s3:::b/home/${aws:username}/*",
        r
    ));
    assert!(!holds_in(v12, "{}", &[], "arn:aws:s3:::b/home/${aws:username}/*", r));
    assert!(holds_in(
        v12,
        "{}",
        &[],
        "arn:aws:s3:::b/home/${aws:username, 'alice'}/*",
        r
    ));
    // 2008-10-17 (or no Version): no substitution.
    assert!(!holds_in(
        "",
        "{}",
        &[("aws:username", "alice")],
        "arn:aws:s3:::b/home/${aws:username}/*",
        r
    ));
    assert!(holds_in(
        "",
        "{}",
        &[],
        "arn:aws:s3:::b/home/$*/*",
        "arn:aws:s3:::b/home/${aws:username}/x"
    ));
    // Literal escapes.
    assert!(holds_in(
        v12,
        "{}",
        &[],
        "arn:aws:s3:::b/${*}${?}${$}",
        "arn:aws:s3:::b/*?$"
    ));
    assert!(!holds_in(v12, "{}", &[], "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x"));
    // Variables in condition values.
    let c = r#"{"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}"#;
    assert!(holds(
        c,
        &[
            ("aws:PrincipalAccount", "111122223333"),
            ("aws:ResourceAccount", "111122223333")
        ]
    ));
    assert!(!holds(
        c,
        &[
            ("aws:PrincipalAccount", "111122223333"),
            ("aws:ResourceAccount", "444455556666")
        ]
    ));
    let ip = r#"{"StringEquals": {"k": "${aws:SourceIp}"}}"#;
    assert!(holds(ip, &[("k", "10.0.0.1"), ("aws:SourceIp", "10.0.0.1")]));
}
