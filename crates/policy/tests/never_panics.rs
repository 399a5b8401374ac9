//! The parser must answer every input with `Ok` or `Err`, never a panic:
//! arbitrary strings, arbitrary JSON values, policy-shaped JSON with random
//! scalars, and AWS examples with random edits. Parsed policies must then
//! evaluate without panicking on arbitrary request strings.

use proptest::prelude::*;
use serde_json::{Value, json};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

fn kinds() -> [PolicyKind; 2] {
    [PolicyKind::Bucket { bucket: "b".into() }, PolicyKind::Identity]
}

fn parse_both(text: &str) {
    for kind in kinds() {
        if let Ok(policy) = Policy::parse(text, &kind) {
            evaluate_with(&policy, "s3:GetObject", "arn:aws:s3:::b/k", "v");
        }
    }
}

fn evaluate_with(policy: &Policy, action: &str, resource: &str, value: &str) {
    let mut context = ContextKeys::new();
    for key in [
        "k",
        "aws:username",
        "aws:SourceIp",
        "aws:CurrentTime",
        "s3:prefix",
        "aws:SourceArn",
    ] {
        context.insert(key, value);
    }
    let named = [NamedPolicy { name: "p", policy }];
    let a = Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some(value),
                account: Some(value),
                ..Default::default()
            },
            action,
            resource,
            context: &context,
        },
        identity_policies: &named,
        resource_policy: Some(NamedPolicy { name: "p", policy }),
        resource_owner: Some(value),
        permissions_boundary: None,
        session_policies: &[],
    };
    let _ = evaluate(&a);
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "*",
            "s3:*",
            "arn:aws:s3:::b/*",
            "Allow",
            "Deny",
            "2012-10-17",
            "${",
            "${a, '",
            "1.2"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let key = prop::sample::select(vec![
            "Version",
            "Statement",
            "Effect",
            "Principal",
            "NotPrincipal",
            "AWS",
            "Service",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "StringLike",
            "NumericLessThan",
            "Null",
            "Bool",
            "IpAddress",
            "ForAllValues:StringEquals",
            "DateLessThanIfExists",
            "ArnLike",
            "BinaryEquals",
            "k",
            "Sid",
            "Id",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

const SEED: &str = include_str!("aws_examples/cloudfront_oac.json");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        parse_both(&text);
        parse_both(&format!("{{{text}"));
    }

    #[test]
    fn arbitrary_json(value in json_value()) {
        parse_both(&value.to_string());
        parse_both(&json!({"Version": "2012-10-17", "Statement": value}).to_string());
    }

    #[test]
    fn edited_examples(at in 0usize..2000, insert in ".{0,3}", cut in 0usize..4) {
        let mut text = SEED.to_owned();
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) { at -= 1; }
        let mut end = (at + cut).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        text.replace_range(at..end, &insert);
        parse_both(&text);
    }

    #[test]
    fn arbitrary_requests(action in ".{0,20}", resource in ".{0,30}", value in ".{0,20}") {
        let policy = Policy::parse(SEED, &PolicyKind::Bucket { bucket: "amzn-s3-demo-bucket".into() });
        prop_assert!(policy.is_ok());
        if let Ok(policy) = policy {
            evaluate_with(&policy, &action, &resource, &value);
        }
    }
}

#[test]
fn pathological_inputs() {
    parse_both(&"[".repeat(50_000));
    parse_both(&"{\"a\":".repeat(10_000));
    parse_both(&format!("\"{}", "\\u".repeat(1000)));
    parse_both(
        "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {\"NumericEquals\": {\"k\": 1e400}}}}",
    );
    let star = format!("arn:{}", "*".repeat(2000));
    let policy = Policy::parse(
        &format!(r#"{{"Statement": {{"Effect": "Allow", "Action": "*", "Resource": "{star}"}}}}"#),
        &PolicyKind::Identity,
    );
    if let Ok(policy) = policy {
        evaluate_with(&policy, "s3:x", &"a".repeat(5000), "v");
    }
}
