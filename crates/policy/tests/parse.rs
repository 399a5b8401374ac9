//! Parsing and validation: what AWS accepts, what it rejects with
//! `MalformedPolicy`, and where the error points.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

use strongbox_policy::{
    ConditionValue, Effect, Match, OperatorKind, Policy, PolicyKind, Position, PrincipalEntry, Principals,
    SetQualifier, Version,
};

fn bucket() -> PolicyKind {
    PolicyKind::Bucket {
        bucket: "examplebucket".into(),
    }
}

fn error(json: &str, kind: &PolicyKind) -> (String, Option<(usize, usize)>) {
    let err = Policy::parse(json, kind).unwrap_err();
    (
        err.message,
        err.position.map(|Position { line, column }| (line, column)),
    )
}

const GOOD: &str = r#"{
  "Version": "2012-10-17",
  "Id": "P1",
  "Statement": [{
    "Sid": "Public",
    "Effect": "Allow",
    "Principal": {"AWS": ["*", "111122223333", "arn:aws:iam::111122223333:user/a/b"]},
    "Action": ["s3:GetObject", "S3:List*"],
    "Resource": ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/${aws:username}/*"],
    "Condition": {"ForAnyValue:StringLikeIfExists": {"S3:Prefix": ["a", 1, true]}, "Null": {"k": "true"}}
  }]
}"#;

#[test]
fn parses_a_full_bucket_policy() {
    let policy = Policy::parse(GOOD, &bucket()).unwrap();
    assert_eq!(policy.version, Version::V2012_10_17);
    assert_eq!(policy.id.as_deref(), Some("P1"));
    let s = &policy.statements[0];
    assert_eq!(s.sid.as_deref(), Some("Public"));
    assert_eq!(s.effect, Effect::Allow);
    let Some(Match::Any(Principals::List(entries))) = &s.principal else {
        panic!()
    };
    assert_eq!(
        entries,
        &[
            PrincipalEntry::AnyAws,
            PrincipalEntry::Account("111122223333".into()),
            PrincipalEntry::Arn("arn:aws:iam::111122223333:user/a/b".into())
        ]
    );
    let like = &s.conditions[0];
    assert_eq!(like.operator.kind, OperatorKind::StringLike);
    assert!(like.operator.if_exists);
    assert_eq!(like.operator.set, Some(SetQualifier::ForAnyValue));
    let texts: Vec<&str> = like
        .values
        .iter()
        .map(|v| match v {
            ConditionValue::Text(t) => t.as_str(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(texts, ["a", "1", "true"]);
    assert_eq!(s.conditions[1].operator.kind, OperatorKind::Null);
}

#[test]
fn single_statement_object_and_missing_version() {
    let json = r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "arn:aws:s3:::examplebucket/*"}}"#;
    let policy = Policy::parse(json, &bucket()).unwrap();
    assert_eq!(policy.version, Version::V2008_10_17);
    assert_eq!(policy.statements.len(), 1);
    assert_eq!(policy.statements[0].principal, Some(Match::Any(Principals::Everyone)));
}

#[test]
fn unknown_fields_are_errors_with_positions() {
    let json = "{\n  \"Statement\": [{\n    \"Efect\": \"Allow\"\n  }]\n}";
    assert_eq!(error(json, &bucket()), ("Unknown field Efect".into(), Some((3, 5))));
    let top = r#"{"Version": "2012-10-17", "Statment": []}"#;
    assert_eq!(error(top, &bucket()).0, "Unknown field Statment");
}

#[test]
fn invalid_condition_operator_is_named() {
    let json = r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket",
 "Condition": {"StringEqualz": {"a": "b"}}}}"#;
    assert_eq!(
        error(json, &bucket()),
        ("Invalid Condition type : StringEqualz".into(), Some((2, 16)))
    );
    for bad in [
        "stringequals",
        "NullIfExists",
        "ForAllValues:Null",
        "ForSomeValues:StringEquals",
        "StringEqualsIfexists",
    ] {
        let json = json.replace("StringEqualz", bad);
        assert!(error(&json, &bucket()).0.starts_with("Invalid Condition type"), "{bad}");
    }
    let json = json.replace("StringEqualz", "ForAllValues:StringNotEqualsIgnoreCaseIfExists");
    Policy::parse(&json, &bucket()).unwrap();
}

fn statement(body: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{{{body}}}]}}"#)
}

#[test]
fn bucket_policy_rules() {
    let cases = [
        (
            r#""Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Missing required field Principal",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "iam:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Policy has invalid action",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3", "Resource": "arn:aws:s3:::examplebucket""#,
            "Policy has invalid action",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": [], "Resource": "arn:aws:s3:::examplebucket""#,
            "Policy has invalid action",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::otherbucket/*""#,
            "Policy has invalid resource",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucketx""#,
            "Policy has invalid resource",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*""#,
            "Policy has invalid resource",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3:*""#,
            "Missing required field Resource",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Missing required field Action",
        ),
        (
            r#""Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Missing required field Effect",
        ),
        (
            r#""Effect": "allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Invalid effect",
        ),
        (
            r#""Effect": "Allow", "Principal": "me", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Invalid principal in policy",
        ),
        (
            r#""Effect": "Allow", "Principal": {"AWS": "12345"}, "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Invalid principal in policy",
        ),
        (
            r#""Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:group/g"}, "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Invalid principal in policy",
        ),
        (
            r#""Effect": "Allow", "Principal": {"Aws": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Invalid principal in policy",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "arn:aws:s3:::examplebucket""#,
            "Statement cannot contain both Action and NotAction",
        ),
    ];
    for (body, message) in cases {
        assert_eq!(error(&statement(body), &bucket()).0, message, "{body}");
    }
}

#[test]
fn accepted_principal_forms() {
    let forms = [
        r#"{"AWS": "arn:aws:iam::111122223333:root"}"#,
        r#"{"AWS": "arn:aws:iam::111122223333:role/r"}"#,
        r#"{"AWS": "arn:aws:sts::111122223333:assumed-role/r/session"}"#,
        r#"{"Service": "cloudfront.amazonaws.com"}"#,
        r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
        r#"{"Federated": "cognito-identity.amazonaws.com"}"#,
        r#"{"AWS": ["111122223333", "444455556666"], "Service": ["a.amazonaws.com"]}"#,
    ];
    for form in forms {
        let body = format!(
            r#""Effect": "Allow", "NotPrincipal": {form}, "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#
        );
        Policy::parse(&statement(&body), &bucket()).unwrap();
    }
}

#[test]
fn identity_policy_rules() {
    let ok = r#""Effect": "Allow", "Action": ["iam:*", "s3:Get*"], "Resource": ["*", "arn:aws:s3:::any/*"]"#;
    Policy::parse(&statement(ok), &PolicyKind::Identity).unwrap();
    let with_principal = r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*""#;
    assert_eq!(
        error(&statement(with_principal), &PolicyKind::Identity).0,
        "Has prohibited field Principal"
    );
    let bad_resource = r#""Effect": "Allow", "Action": "s3:*", "Resource": "bucket/*""#;
    assert_eq!(
        error(&statement(bad_resource), &PolicyKind::Identity).0,
        "Policy has invalid resource"
    );
}

#[test]
fn document_level_errors() {
    let first = "Policies must be valid JSON and the first byte must be '{'";
    for bad in ["", "[]", "\"x\"", "null"] {
        assert_eq!(error(bad, &bucket()).0, first);
    }
    assert!(error("{", &bucket()).1.is_some());
    assert_eq!(
        error(r#"{"Version": "2012-10-17"}"#, &bucket()).0,
        "Missing required field Statement"
    );
    assert_eq!(
        error(r#"{"Version": "2012-10-18", "Statement": []}"#, &bucket()),
        ("Invalid policy version".into(), Some((1, 13)))
    );
    assert_eq!(
        error(r#"{"Version": "2012-10-17", "Statement": []}"#, &bucket()).0,
        "Missing required field Statement"
    );
}

#[test]
fn size_limits() {
    let pad = " ".repeat(20_480);
    let too_big = format!(
        "{}{pad}",
        statement(r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket""#)
    );
    assert_eq!(
        error(&too_big, &bucket()).0,
        "Policy document exceeds the maximum allowed size"
    );
    // Whitespace does not count for identity policies.
    let spaced = format!(
        "{}{pad}",
        statement(r#""Effect": "Allow", "Action": "s3:*", "Resource": "*""#)
    );
    Policy::parse(&spaced, &PolicyKind::Identity).unwrap();
    let many = vec![r#""s3:GetObject""#; 500].join(",");
    let long = statement(&format!(r#""Effect": "Allow", "Action": [{many}], "Resource": "*""#));
    assert_eq!(
        error(&long, &PolicyKind::Identity).0,
        "Policy document exceeds the maximum allowed size"
    );
}

#[test]
fn condition_values_must_be_scalars() {
    let body = r#""Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket", "Condition": {"StringEquals": {"k": {"a": 1}}}"#;
    assert!(
        error(&statement(body), &bucket())
            .0
            .starts_with("Invalid Condition value")
    );
    let null = body.replace(r#"{"a": 1}"#, "[null]");
    assert!(
        error(&statement(&null), &bucket())
            .0
            .starts_with("Invalid Condition value")
    );
    // Unknown keys are fine; unreadable values parse but never match.
    let odd = body.replace(
        r#""StringEquals": {"k": {"a": 1}}"#,
        r#""NumericLessThan": {"no:such-key": "abc"}"#,
    );
    let policy = Policy::parse(&statement(&odd), &bucket()).unwrap();
    assert_eq!(
        policy.statements[0].conditions[0].values,
        [ConditionValue::Number(None)]
    );
}

#[test]
fn duplicate_fields_are_rejected() {
    let json = r#"{"Version": "2012-10-17", "Version": "2008-10-17", "Statement": []}"#;
    assert_eq!(
        error(json, &bucket()),
        ("Duplicate field Version".into(), Some((1, 27)))
    );
}

#[test]
fn statement_ids_must_be_unique() {
    let a = r#"{"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::examplebucket"}"#;
    let json = format!("{{\"Version\": \"2012-10-17\", \"Statement\": [{a},\n  {a}]}}");
    let expected = (
        "Statement IDs (SID) in a single policy must be unique".to_owned(),
        Some((2, 3)),
    );
    assert_eq!(error(&json, &bucket()), expected);
}
