//! SigV2 parsing as s3s does it before any signature check (unauthenticated):
//! the `Authorization: AWS <key>:<sig>` header, the POST-form V2 signature
//! fields, and the string-to-sign built from a request's method, path,
//! query and headers.
//!
//! Input: line 1 is the `Authorization` header, line 2 the method, line 3
//! the path, line 4 a query string, and the remaining lines `name: value`
//! headers (also used as `name=value` POST fields).
//!
//! Oracles:
//! - nothing panics;
//! - an accepted header starts with `AWS `, and `AWS {key}:{sig}` re-parses
//!   to the same key and signature;
//! - `PostSignatureV2::extract` succeeds only when each required field is
//!   present exactly once, and then returns those values;
//! - the string to sign is deterministic and `calculate_signature` gives a
//!   28-character base64 HMAC-SHA1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s_sigv2::{AuthorizationV2, PostSignatureV2};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let header = lines.next().unwrap_or_default();
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let query = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();

    authorization(header);
    authorization(text);

    let fields: Vec<(String, String)> = rest
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    post_fields(&fields);

    let headers: Vec<(&str, &str)> = rest.iter().filter_map(|l| l.split_once(':')).collect();
    let mut qs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    // The OrderedQs contract: sorted by name, stable.
    qs.sort_by(|a, b| a.0.cmp(&b.0));
    for mode in [s3s_sigv2::Mode::HeaderAuth, s3s_sigv2::Mode::PresignedUrl] {
        let a = s3s_sigv2::create_string_to_sign(mode, method, path, Some(&qs), &headers, None);
        let b = s3s_sigv2::create_string_to_sign(mode, method, path, Some(&qs), &headers, None);
        assert_eq!(a, b);
        let _ = s3s_sigv2::create_string_to_sign(mode, method, path, None, &headers, Some("amzn-s3-demo-bucket"));
        assert_eq!(s3s_sigv2::calculate_signature(header, &a).len(), 28);
    }
});

fn authorization(s: &str) {
    let Ok(a) = AuthorizationV2::parse(s) else { return };
    assert!(s.starts_with("AWS "));
    let again = format!("AWS {}:{}", a.access_key, a.signature);
    let b = AuthorizationV2::parse(&again).expect("a re-rendered header parses");
    assert_eq!((a.access_key, a.signature), (b.access_key, b.signature));
}

fn post_fields(fields: &[(String, String)]) {
    let count = |name: &str| fields.iter().filter(|(k, _)| k == name).count();
    let required = ["awsaccesskeyid", "signature", "policy"];
    match PostSignatureV2::extract(fields) {
        Ok(_) => assert!(required.iter().all(|n| count(n) == 1), "{fields:?}"),
        Err(_) => {}
    }
}
