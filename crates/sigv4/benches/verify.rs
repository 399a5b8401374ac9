//! Nanoseconds per SigV4 verification, signature included (the derived
//! signing key is not cached by either verifier):
//! - `strongbox`: this crate's [`verify`], which authenticates the IAM
//!   and KMS APIs: AWS's published GET example (4 signed headers) and a
//!   request with 11 signed headers signed by [`sign`];
//! - `s3s`: S3 requests are verified by s3s 0.17, not by this crate.
//!   Its steps are private, so the bench replays them with the public
//!   `s3s-sigv4` primitives in the same order (parse, date checks, signed
//!   header collection, canonical request, signing key, HMAC, compare),
//!   leaving out config checks, the clock and the secret lookup: AWS's GET
//!   example, the 11-header request, and AWS's presigned-URL example.
//!
//! Run: `cargo bench --ignore-rust-version -p strongbox-sigv4 --bench verify`
//! (add `-- --sample-count 20` for a quick run).
#![expect(clippy::unwrap_used, reason = "benchmark setup: any failure aborts the run")]

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Method, Uri};
use strongbox_sigv4::{Request, SigningParams, sign, verify};

fn main() {
    divan::main();
}

/// The key pair, bucket and time of AWS's SigV4 examples for S3
/// ("Signature calculations for the Authorization header" and
/// "Authenticating requests: using query parameters").
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// 2013-05-24T00:00:00Z.
const EXAMPLE_TIME: u64 = 1_369_353_600;

/// AWS's GET Object example: `Range: bytes=0-9`, 4 signed headers.
fn aws_get_example() -> (Method, Uri, HeaderMap) {
    let authorization = "AWS4-HMAC-SHA256 \
        Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
        SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
        Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    let headers = headers(&[
        ("host", HOST),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
        ("authorization", authorization),
    ]);
    (Method::GET, Uri::from_static("/test.txt"), headers)
}

/// A GET as an SDK sends it, signed with every header it carries:
/// 11 signed headers once [`sign`] has added `x-amz-date`.
fn eleven_header_get() -> (Method, Uri, HeaderMap) {
    let method = Method::GET;
    let uri = Uri::from_static("/photos/2026/img-0001.jpg?versionId=3HL4kqtJlcpXroDTDmJ");
    let mut headers = headers(&[
        ("host", HOST),
        ("accept", "*/*"),
        ("amz-sdk-invocation-id", "0b7f3a5e-6c1d-4c69-9a3f-2a8e1d5c7b90"),
        ("amz-sdk-request", "attempt=1; max=3"),
        ("if-none-match", "\"9b2cf535f27731c974343645a3985328\""),
        ("range", "bytes=0-65535"),
        ("user-agent", "aws-sdk-rust/1.3.0 os/linux lang/rust/1.95.0"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-expected-bucket-owner", "111122223333"),
        ("x-amz-request-payer", "requester"),
    ]);
    let params = SigningParams {
        access_key: ACCESS_KEY,
        secret: SECRET,
        region: "us-east-1",
        service: "s3",
    };
    sign(&method, &uri, &mut headers, b"", &params, example_time()).unwrap();
    (method, uri, headers)
}

mod strongbox {
    use super::*;

    #[divan::bench]
    fn get_4_signed_headers(bencher: divan::Bencher) {
        run(bencher, aws_get_example());
    }

    #[divan::bench]
    fn get_11_signed_headers(bencher: divan::Bencher) {
        run(bencher, eleven_header_get());
    }

    fn run(bencher: divan::Bencher, (method, uri, headers): (Method, Uri, HeaderMap)) {
        let req = Request {
            method: &method,
            uri: &uri,
            headers: &headers,
        };
        let now = example_time();
        verify(&req, b"", SECRET.as_bytes(), now).unwrap();
        bencher.bench(|| verify(divan::black_box(&req), b"", SECRET.as_bytes(), now));
    }
}

mod s3s {
    use super::*;
    use ::s3s_sigv4::{
        AmzContentSha256, AmzDate, AuthorizationV4, Payload, PresignedUrlV4, calculate_signature_with_key,
        create_canonical_request, create_presigned_canonical_request, create_string_to_sign, derive_signing_key,
    };

    #[divan::bench]
    fn get_4_signed_headers(bencher: divan::Bencher) {
        let (method, uri, headers) = aws_get_example();
        assert!(verify_header(&method, uri.path(), &[], &headers, SECRET));
        bencher.bench(|| verify_header(&method, uri.path(), &[], divan::black_box(&headers), SECRET));
    }

    #[divan::bench]
    fn get_11_signed_headers(bencher: divan::Bencher) {
        let (method, uri, headers) = eleven_header_get();
        let query = decoded_query(uri.query().unwrap_or(""));
        assert!(verify_header(&method, uri.path(), &query, &headers, SECRET));
        bencher.bench(|| verify_header(&method, uri.path(), &query, divan::black_box(&headers), SECRET));
    }

    /// AWS's presigned GET example: 86400 s expiry, `host` signed.
    #[divan::bench]
    fn presigned_get(bencher: divan::Bencher) {
        let query = decoded_query(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        );
        let headers = headers(&[("host", HOST)]);
        assert!(verify_presigned(&Method::GET, "/test.txt", &query, &headers, SECRET));
        bencher.bench(|| verify_presigned(&Method::GET, "/test.txt", divan::black_box(&query), &headers, SECRET));
    }

    /// s3s 0.17's `v4_check_header_auth`, minus config, clock and secret lookup.
    fn verify_header(method: &Method, path: &str, query: &[(String, String)], hs: &HeaderMap, secret: &str) -> bool {
        let auth = AuthorizationV4::parse(header(hs, "authorization")).unwrap();
        let amz_date = AmzDate::parse(header(hs, "x-amz-date")).unwrap();
        if auth.algorithm != "AWS4-HMAC-SHA256" || auth.credential.date != amz_date.fmt_date().as_str() {
            return false;
        }
        let payload_hash = match AmzContentSha256::parse(header(hs, "x-amz-content-sha256")).unwrap() {
            AmzContentSha256::SingleChunk(sum) => hex::encode(sum),
            _ => return false,
        };
        let signed = signed_headers(hs, &auth.signed_headers);
        let canonical = create_canonical_request(
            method.as_str(),
            path,
            query,
            &signed,
            Payload::SingleChunk(&payload_hash),
        );
        let (region, service) = (auth.credential.aws_region, auth.credential.aws_service);
        signature_matches(&canonical, &amz_date, region, service, secret, auth.signature)
    }

    /// s3s 0.17's `v4_check_presigned_url`, minus config, clock and secret lookup.
    fn verify_presigned(method: &Method, path: &str, query: &[(String, String)], hs: &HeaderMap, secret: &str) -> bool {
        let url = PresignedUrlV4::parse(query, 7 * 24 * 3600).unwrap();
        if url.algorithm != "AWS4-HMAC-SHA256" || url.credential.date != url.amz_date.fmt_date().as_str() {
            return false;
        }
        let signed = signed_headers(hs, &url.signed_headers);
        let canonical = create_presigned_canonical_request(method.as_str(), path, query, &signed);
        let (region, service) = (url.credential.aws_region, url.credential.aws_service);
        signature_matches(&canonical, &url.amz_date, region, service, secret, url.signature)
    }

    fn signature_matches(
        canonical: &str,
        amz_date: &AmzDate,
        region: &str,
        service: &str,
        secret: &str,
        signature: &str,
    ) -> bool {
        let Ok(expected) = hex::decode(signature) else {
            return false;
        };
        let string_to_sign = create_string_to_sign(canonical, amz_date, region, service);
        let key = derive_signing_key(secret, amz_date, region, service);
        let computed = calculate_signature_with_key(&string_to_sign, &key);
        // s3s compares in constant time; for 32 bytes the difference is a few ns.
        computed.as_slice() == expected.as_slice()
    }

    fn signed_headers<'a>(hs: &'a HeaderMap, names: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        names
            .iter()
            .flat_map(|&name| hs.get_all(name).iter().map(move |v| (name, v.to_str().unwrap())))
            .collect()
    }

    fn header<'a>(hs: &'a HeaderMap, name: &str) -> &'a str {
        hs.get(name).unwrap().to_str().unwrap()
    }

    /// Percent-decoded query pairs sorted by name, as s3s's `OrderedQs` holds them.
    fn decoded_query(query: &str) -> Vec<(String, String)> {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .unwrap()
                .into_owned()
        };
        let mut pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        pairs.sort();
        pairs
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn example_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(EXAMPLE_TIME)
}
