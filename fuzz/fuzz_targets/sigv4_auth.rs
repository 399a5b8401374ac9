//! SigV4 header parsing: the `Authorization`, `x-amz-date` and
//! `x-amz-content-sha256` headers of every S3 request (s3s, before any
//! signature check, so unauthenticated), and our own `strongbox_sigv4`
//! `parse_authorization` used by the IAM, STS and KMS endpoints.
//!
//! Each parser runs on the whole input and on each of its lines.
//!
//! Oracles:
//! - no parser panics;
//! - `AuthorizationV4::parse` accepts only lower-case 64-hex signatures, and
//!   what it accepts, re-rendered in the canonical form, parses back to the
//!   same fields;
//! - `parse_authorization` returns a shape-valid header (8-digit date,
//!   non-empty scope parts and header names, 64 lower-case hex signature)
//!   that re-renders and parses back to itself;
//! - `AmzDate::parse` output formats (`fmt_iso8601`) to a string that parses
//!   back to the same date; `to_time` never panics;
//! - `AmzContentSha256::parse` gives `SingleChunk` only for a 64-hex or
//!   44-char base64 digest, and the streaming/trailer flags are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s_sigv4::{AmzContentSha256, AmzDate, AuthorizationV4};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check(text);
    for line in text.lines() {
        check(line);
    }
});

fn check(s: &str) {
    s3s_authorization(s);
    ours(s);
    amz_date(s);
    content_sha256(s);
}

fn s3s_authorization(s: &str) {
    let Ok(a) = AuthorizationV4::parse(s) else { return };
    assert_eq!(a.signature.len(), 64);
    assert!(a.signature.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(a.credential.date.len(), 8);
    let c = &a.credential;
    let rendered = format!(
        "{} Credential={}/{}/{}/{}/aws4_request,SignedHeaders={},Signature={}",
        a.algorithm,
        c.access_key_id,
        c.date,
        c.aws_region,
        c.aws_service,
        a.signed_headers.join(";"),
        a.signature
    );
    let b = AuthorizationV4::parse(&rendered).expect("a re-rendered header parses");
    assert_eq!(a.algorithm, b.algorithm);
    assert_eq!(c.access_key_id, b.credential.access_key_id);
    assert_eq!(c.date, b.credential.date);
    assert_eq!(c.aws_region, b.credential.aws_region);
    assert_eq!(c.aws_service, b.credential.aws_service);
    assert_eq!(a.signed_headers, b.signed_headers);
    assert_eq!(a.signature, b.signature);
}

fn ours(s: &str) {
    let Ok(h) = strongbox_sigv4::parse_authorization(s) else {
        return;
    };
    assert!(h.date.len() == 8 && h.date.bytes().all(|b| b.is_ascii_digit()));
    assert!(!h.access_key.is_empty() && !h.region.is_empty() && !h.service.is_empty());
    assert!(!h.signed_headers.is_empty() && h.signed_headers.iter().all(|n| !n.is_empty()));
    assert!(h.signature.len() == 64 && h.signature.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    assert!(h.scope().ends_with("/aws4_request"));
    let rendered = format!(
        "{} Credential={}/{}, SignedHeaders={}, Signature={}",
        strongbox_sigv4::ALGORITHM,
        h.access_key,
        h.scope(),
        h.signed_headers.join(";"),
        h.signature
    );
    assert_eq!(
        strongbox_sigv4::parse_authorization(&rendered).as_ref(),
        Ok(&h),
        "{rendered}"
    );
}

fn amz_date(s: &str) {
    let Ok(d) = AmzDate::parse(s) else { return };
    let iso = d.fmt_iso8601();
    let again = AmzDate::parse(&iso).expect("a formatted date parses");
    assert_eq!(again.fmt_iso8601(), iso);
    assert_eq!(d.fmt_date(), again.fmt_date());
    let _ = d.to_time();
}

fn content_sha256(s: &str) {
    let Ok(v) = AmzContentSha256::parse(s) else { return };
    match v {
        AmzContentSha256::SingleChunk(_) => assert!(s.len() == 64 || s.len() == 44, "{s:?}"),
        AmzContentSha256::UnsignedPayload => assert_eq!(s, "UNSIGNED-PAYLOAD"),
        other => {
            assert!(other.is_streaming());
            assert_eq!(other.has_trailer(), s.ends_with("-TRAILER"));
        }
    }
}
