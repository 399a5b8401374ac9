//! SigV4 header parsing: the `Authorization`, `x-amz-date` and
//! `x-amz-content-sha256` headers of every S3 request (s3s, before any
//! signature check, so unauthenticated), and our own `strongbox_sigv4`
//! `parse_authorization` used by the IAM, STS and KMS endpoints.
//!
//! Each parser runs on the whole input and on each of its lines. An input
//! starting `REQ ` is instead a whole request for `strongbox_sigv4::verify`
//! (IAM, KMS: canonical URI, query and headers, payload hash, clock skew,
//! signature): `REQ METHOD URI`, `name: value` header lines, a blank line,
//! the body.
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
//! - `verify` never accepts the request as sent (that would need an HMAC
//!   under our secret); the request signed with `sign` verifies, and no
//!   longer does with its body, method, query or host changed;
//! - `AmzContentSha256::parse` gives `SingleChunk` only for a 64-hex or
//!   44-char base64 digest, and the streaming/trailer flags are consistent.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use s3s_sigv4::{AmzContentSha256, AmzDate, AuthorizationV4};
use std::time::{Duration, SystemTime};
use strongbox_sigv4::{Request, SigningParams, sign, verify};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(req) = text.strip_prefix("REQ ") {
        return request(req);
    }
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

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn request(s: &str) {
    let (head, body) = s.split_once("\n\n").unwrap_or((s, ""));
    let body = body.as_bytes();
    let mut lines = head.split('\n');
    let Some((method, uri)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let (Ok(method), Ok(uri)) = (Method::from_bytes(method.as_bytes()), uri.parse::<Uri>()) else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((n, v)) = line.split_once(':')
            && let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.trim().as_bytes()),
                HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(n, v);
        }
    }
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let req = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    assert!(
        verify(&req, body, SECRET.as_bytes(), now).is_err(),
        "an unsigned request verified"
    );

    let params = SigningParams {
        access_key: "AKIDEXAMPLE",
        secret: SECRET,
        region: "us-east-1",
        service: "iam",
    };
    let mut signed = headers.clone();
    if sign(&method, &uri, &mut signed, body, &params, now).is_err() {
        return;
    }
    let ok = |m: &Method, u: &Uri, h: &HeaderMap, b: &[u8]| {
        verify(
            &Request {
                method: m,
                uri: u,
                headers: h,
            },
            b,
            SECRET.as_bytes(),
            now,
        )
        .is_ok()
    };
    assert!(
        ok(&method, &uri, &signed, body),
        "a request we signed does not verify: {signed:?}"
    );
    let mut longer = body.to_vec();
    longer.push(b'x');
    assert!(!ok(&method, &uri, &signed, &longer), "verified with another body");
    let other = if method == Method::POST {
        Method::PUT
    } else {
        Method::POST
    };
    assert!(!ok(&other, &uri, &signed, body), "verified with another method");
    let query = match uri.query() {
        Some(q) => format!("{q}&fuzz-extra=1"),
        None => "fuzz-extra=1".to_owned(),
    };
    if let Ok(u) = format!("{}?{query}", uri.path()).parse::<Uri>() {
        assert!(!ok(&method, &u, &signed, body), "verified with another query");
    }
    let mut moved = signed.clone();
    moved.insert(http::header::HOST, HeaderValue::from_static("evil.example"));
    if signed.get(http::header::HOST) != moved.get(http::header::HOST) {
        assert!(!ok(&method, &uri, &moved, body), "verified with another host");
    }
}
