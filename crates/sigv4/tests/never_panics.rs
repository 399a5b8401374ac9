//! Whatever arrives in the `Authorization` header, the URI or the other
//! headers, parsing and verification return a value and never panic.

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use proptest::prelude::*;
use std::time::{Duration, SystemTime};
use strongbox_sigv4::{Request, parse_authorization, verify};

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "AWS4-HMAC-SHA256 Credential=[A-Z0-9/]{0,40}, SignedHeaders=[a-z;-]{0,30}, Signature=[0-9a-f]{0,70}",
        "AWS4-HMAC-SHA256 Credential=AK/2015083[0-9]/[a-z0-9-]{0,12}/[a-z]{0,5}/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}",
    ]
}

proptest! {
    #[test]
    fn parsing_never_panics(header in header_text()) {
        let _ = parse_authorization(&header);
    }

    #[test]
    fn verifying_never_panics(
        authorization in header_text(),
        path in "(/[a-zA-Z0-9%._~-]{0,8}){0,4}/?",
        query in "([a-zA-Z0-9%+=&]{0,20})",
        date in prop_oneof![Just("20150830T123600Z".to_owned()), "[0-9TZ]{0,18}"],
        extra in proptest::collection::vec(("[a-z-]{1,10}", "[ -~]{0,20}"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        skew in 0u64..4_000_000_000,
    ) {
        let uri: Uri = format!("{path}?{query}").parse().unwrap_or_else(|_| Uri::from_static("/"));
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&authorization) {
            headers.insert("authorization", v);
        }
        headers.insert("x-amz-date", HeaderValue::from_str(&date).unwrap());
        for (k, v) in extra {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                headers.append(k, v);
            }
        }
        let req = Request { method: &Method::POST, uri: &uri, headers: &headers };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(skew);
        let _ = verify(&req, &body, b"secret", now);
    }
}
