//! Policy JSON parsing, as reached from PutBucketPolicy and the admin API.
//!
//! Oracles:
//! - `Policy::parse` never panics, for either policy kind, on any UTF-8 input
//!   (non-UTF-8 bytes are rejected before parsing, as the server does);
//! - every error it returns carries a message and, when it has a position,
//!   a 1-based line and column that lie inside the input;
//! - a parsed policy evaluates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, evaluate,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let kinds = [PolicyKind::Bucket { bucket: "amzn-s3-demo-bucket".into() }, PolicyKind::Identity];
    for kind in &kinds {
        match Policy::parse(text, kind) {
            Ok(policy) => decide(&policy),
            Err(err) => {
                assert!(!err.message.is_empty());
                if let Some(pos) = err.position {
                    assert!(pos.line >= 1 && pos.column >= 1);
                    assert!(pos.line <= text.lines().count().max(1) + 1);
                }
            }
        }
    }
});

fn decide(policy: &Policy) {
    let mut context = ContextKeys::new();
    context.insert("aws:username", "JohnDoe");
    context.insert("aws:SourceIp", "192.0.2.1");
    context.insert("aws:SecureTransport", "true");
    context.insert("s3:TlsVersion", "1.2");
    context.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
    let named = [NamedPolicy { name: "fuzz", policy }];
    let a = Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some("arn:aws:iam::111122223333:user/JohnDoe"),
                account: Some("111122223333"),
                ..Default::default()
            },
            action: "s3:GetObject",
            resource: "arn:aws:s3:::amzn-s3-demo-bucket/home/JohnDoe/a",
            context: &context,
        },
        identity_policies: &named,
        resource_policy: Some(NamedPolicy { name: "fuzz", policy }),
        resource_owner: Some("444455556666"),
        permissions_boundary: Some(NamedPolicy { name: "fuzz", policy }),
        session_policies: &named,
    };
    let _ = evaluate(&a);
}
