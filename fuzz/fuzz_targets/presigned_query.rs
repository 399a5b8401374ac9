//! Presigned URLs: the query string of every S3 request is decoded by s3s
//! (`OrderedQs::parse`) and, when it carries `X-Amz-Algorithm` or
//! `AWSAccessKeyId`, parsed as a SigV4 (`PresignedUrlV4`, max expiry 7 days,
//! what the server configures) or SigV2 (`PresignedUrlV2`) presigned URL,
//! then canonicalised for the signature check. All before authentication.
//!
//! Input: the raw query string (after `?`); a first line `METHOD /path`,
//! if present, gives the method and path for the canonical request.
//!
//! Oracles:
//! - nothing panics;
//! - `OrderedQs` is sorted by name, `get_unique` agrees with `get_all`
//!   (one value, or none for absent/duplicated names);
//! - an accepted V4 URL has X-Amz-Expires ≤ 604800, a 64 lower-hex
//!   signature, a date whose `fmt_iso8601` is the X-Amz-Date value,
//!   and ASCII signed headers; an accepted V2 URL has exactly one of
//!   each of its three fields;
//! - the canonical request is deterministic and its last line is
//!   `UNSIGNED-PAYLOAD`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s::OrderedQs;
use s3s_sigv2::PresignedUrlV2;
use s3s_sigv4::PresignedUrlV4;

const MAX_EXPIRES: u32 = 7 * 24 * 3600;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (request_line, query) = match text.split_once('\n') {
        Some((l, q)) => (l, q),
        None => ("GET /amzn-s3-demo-bucket/key", text),
    };
    let (method, path) = request_line.split_once(' ').unwrap_or(("GET", request_line));
    let Ok(qs) = OrderedQs::parse(query) else { return };
    let pairs: &[(String, String)] = qs.as_ref();
    assert!(pairs.windows(2).all(|w| w[0].0 <= w[1].0), "not sorted: {pairs:?}");
    for (name, _) in pairs {
        let n = qs.get_all(name).count();
        assert!(n >= 1 && qs.has(name));
        assert_eq!(qs.get_unique(name).is_some(), n == 1, "{name:?}");
    }

    if let Ok(v4) = PresignedUrlV4::parse(pairs, MAX_EXPIRES) {
        assert!(v4.expires.as_secs() >= 0 && v4.expires.as_secs() <= i64::from(MAX_EXPIRES));
        assert_eq!(v4.signature.len(), 64);
        assert!(v4.signature.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(Some(v4.amz_date.fmt_iso8601().as_str()), qs.get_unique("X-Amz-Date"));
        assert!(v4.signed_headers.iter().all(|h| h.is_ascii()));
        let headers: Vec<(&str, &str)> = v4.signed_headers.iter().map(|h| (*h, "v")).collect();
        let a = s3s_sigv4::create_presigned_canonical_request(method, path, pairs, headers.as_slice());
        let b =
            s3s_sigv4::create_presigned_canonical_request_with_raw_uri_path(method, path, pairs, headers.as_slice());
        assert!(a.ends_with("UNSIGNED-PAYLOAD") && b.ends_with("UNSIGNED-PAYLOAD"));
        assert_eq!(
            a,
            s3s_sigv4::create_presigned_canonical_request(method, path, pairs, headers.as_slice())
        );
        let sts =
            s3s_sigv4::create_string_to_sign(&a, &v4.amz_date, v4.credential.aws_region, v4.credential.aws_service);
        let key = s3s_sigv4::derive_signing_key(
            b"secret",
            &v4.amz_date,
            v4.credential.aws_region,
            v4.credential.aws_service,
        );
        let _ = s3s_sigv4::calculate_signature_with_key(&sts, &key);
    }

    if let Ok(v2) = PresignedUrlV2::parse(pairs) {
        for name in ["AWSAccessKeyId", "Expires", "Signature"] {
            assert_eq!(qs.get_all(name).count(), 1, "{name}");
        }
        assert_eq!(Some(v2.access_key), qs.get_unique("AWSAccessKeyId"));
        assert!(v2.expires_time.as_second() >= 0);
        let sts = s3s_sigv2::create_string_to_sign(s3s_sigv2::Mode::PresignedUrl, method, path, Some(pairs), &[], None);
        assert_eq!(s3s_sigv2::calculate_signature("secret", &sts).len(), 28);
    }
});
