//! AWS's SigV4 test suite vectors (credentials `AKIDEXAMPLE` /
//! `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, scope
//! `20150830/us-east-1/service`), verified through the public API, then
//! sign → verify round trips and the ways a request can be tampered with.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use http::{HeaderMap, HeaderValue, Method, Uri};
use std::time::{Duration, SystemTime};
use strongbox_sigv4::{Request, SigV4Error, SigningParams, is_signed_for, parse_authorization, sign, verify};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SCOPE: &str = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

/// 2015-08-30T12:36:00Z, the suite's request time.
fn suite_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

struct Vector {
    name: &'static str,
    method: Method,
    uri: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    signed: &'static str,
    signature: &'static str,
}

fn vectors() -> Vec<Vector> {
    let base: &'static [(&str, &str)] = &[("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")];
    vec![
        Vector {
            name: "get-vanilla",
            method: Method::GET,
            uri: "/",
            headers: base,
            body: "",
            signed: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-vanilla-query-order-key-case",
            method: Method::GET,
            uri: "/?Param2=value2&Param1=value1",
            headers: base,
            body: "",
            signed: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            method: Method::GET,
            uri: "/?%E1%88%B4=bar",
            headers: base,
            body: "",
            signed: "host;x-amz-date",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "get-unreserved",
            method: Method::GET,
            uri: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: base,
            body: "",
            signed: "host;x-amz-date",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        },
        Vector {
            name: "get-header-key-duplicate",
            method: Method::GET,
            uri: "/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("my-header1", "value2"),
                ("my-header1", "value2"),
                ("my-header1", "value1"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: "",
            signed: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        },
        Vector {
            name: "post-vanilla",
            method: Method::POST,
            uri: "/",
            headers: base,
            body: "",
            signed: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        },
        Vector {
            name: "post-header-key-sort",
            method: Method::POST,
            uri: "/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("my-header1", "value1"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: "",
            signed: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        },
        Vector {
            name: "post-header-value-case",
            method: Method::POST,
            uri: "/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("my-header1", "VALUE1"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: "",
            signed: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        },
        Vector {
            name: "post-x-www-form-urlencoded",
            method: Method::POST,
            uri: "/",
            headers: &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: "Param1=value1",
            signed: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        },
    ]
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn with_authorization(mut h: HeaderMap, signed: &str, signature: &str) -> HeaderMap {
    let value = format!("AWS4-HMAC-SHA256 {SCOPE}, SignedHeaders={signed}, Signature={signature}");
    h.insert("authorization", HeaderValue::from_str(&value).unwrap());
    h
}

fn check(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<(), SigV4Error> {
    let req = Request { method, uri, headers };
    verify(&req, body, SECRET.as_bytes(), now)
}

#[test]
fn the_aws_test_suite_verifies() {
    for v in vectors() {
        let uri: Uri = v.uri.parse().unwrap();
        let headers = with_authorization(header_map(v.headers), v.signed, v.signature);
        assert_eq!(
            check(&v.method, &uri, &headers, v.body.as_bytes(), suite_time()),
            Ok(()),
            "{}",
            v.name
        );
    }
}

#[test]
fn every_suite_vector_fails_with_one_bit_of_signature_changed() {
    for v in vectors() {
        let uri: Uri = v.uri.parse().unwrap();
        let mut wrong = v.signature.to_owned();
        wrong.replace_range(..1, if wrong.starts_with('0') { "1" } else { "0" });
        let headers = with_authorization(header_map(v.headers), v.signed, &wrong);
        assert_eq!(
            check(&v.method, &uri, &headers, v.body.as_bytes(), suite_time()),
            Err(SigV4Error::SignatureMismatch),
            "{}",
            v.name
        );
    }
}

#[test]
fn signing_the_suite_request_reproduces_the_suite_signature() {
    let params = SigningParams {
        access_key: "AKIDEXAMPLE",
        secret: SECRET,
        region: "us-east-1",
        service: "service",
    };
    let uri: Uri = "https://example.amazonaws.com/".parse().unwrap();
    let mut h = header_map(&[("content-type", "application/x-www-form-urlencoded")]);
    sign(&Method::POST, &uri, &mut h, b"Param1=value1", &params, suite_time()).unwrap();
    assert_eq!(
        h.get("authorization").unwrap(),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    );
}

struct Signed {
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn iam_request(now: SystemTime) -> Signed {
    let params = SigningParams {
        access_key: "AKIAEXAMPLE",
        secret: SECRET,
        region: "us-east-1",
        service: "iam",
    };
    let uri: Uri = "http://127.0.0.1:9080/".parse().unwrap();
    let mut headers = header_map(&[("content-type", "application/x-www-form-urlencoded; charset=utf-8")]);
    let body = b"Action=ListUsers&Version=2010-05-08".to_vec();
    sign(&Method::POST, &uri, &mut headers, &body, &params, now).unwrap();
    Signed { uri, headers, body }
}

#[test]
fn sign_then_verify_round_trips() {
    let now = SystemTime::now();
    let s = iam_request(now);
    assert_eq!(check(&Method::POST, &s.uri, &s.headers, &s.body, now), Ok(()));
    assert!(is_signed_for(&s.headers, "iam"));
    assert!(!is_signed_for(&s.headers, "s3"));
    let auth = parse_authorization(s.headers.get("authorization").unwrap().to_str().unwrap()).unwrap();
    assert_eq!(auth.access_key, "AKIAEXAMPLE");
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
}

#[test]
fn tampering_is_detected() {
    let now = SystemTime::now();
    let s = iam_request(now);
    let post = Method::POST;
    assert_eq!(
        check(&post, &s.uri, &s.headers, b"Action=CreateUser&Version=2010-05-08", now),
        Err(SigV4Error::SignatureMismatch),
        "body"
    );
    assert_eq!(
        check(&Method::PUT, &s.uri, &s.headers, &s.body, now),
        Err(SigV4Error::SignatureMismatch),
        "method"
    );
    let other: Uri = "http://127.0.0.1:9080/x".parse().unwrap();
    assert_eq!(
        check(&post, &other, &s.headers, &s.body, now),
        Err(SigV4Error::SignatureMismatch),
        "path"
    );
    let query: Uri = "http://127.0.0.1:9080/?a=b".parse().unwrap();
    assert_eq!(
        check(&post, &query, &s.headers, &s.body, now),
        Err(SigV4Error::SignatureMismatch),
        "query"
    );
    let mut h = s.headers.clone();
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        check(&post, &s.uri, &h, &s.body, now),
        Err(SigV4Error::SignatureMismatch),
        "signed header"
    );
    let mut h = s.headers.clone();
    h.insert("x-unsigned", HeaderValue::from_static("fine"));
    assert_eq!(
        check(&post, &s.uri, &h, &s.body, now),
        Ok(()),
        "unsigned headers do not matter"
    );
    let wrong_secret = Request {
        method: &post,
        uri: &s.uri,
        headers: &s.headers,
    };
    assert_eq!(
        verify(&wrong_secret, &s.body, b"not-the-secret", now),
        Err(SigV4Error::SignatureMismatch)
    );
    let mut h = s.headers.clone();
    h.remove("content-type");
    assert_eq!(
        check(&post, &s.uri, &h, &s.body, now),
        Err(SigV4Error::MissingSignedHeader("content-type".into()))
    );
}

#[test]
fn dates_are_checked() {
    let now = SystemTime::now();
    let s = iam_request(now);
    let post = Method::POST;
    let later = now + Duration::from_secs(16 * 60);
    assert!(matches!(
        check(&post, &s.uri, &s.headers, &s.body, later),
        Err(SigV4Error::TimeSkewed(m)) if m.starts_with("Signature expired")
    ));
    let earlier = now - Duration::from_secs(16 * 60);
    assert!(matches!(
        check(&post, &s.uri, &s.headers, &s.body, earlier),
        Err(SigV4Error::TimeSkewed(m)) if m.starts_with("Signature not yet current")
    ));
    let mut h = s.headers.clone();
    h.remove("x-amz-date");
    assert_eq!(check(&post, &s.uri, &h, &s.body, now), Err(SigV4Error::MissingDate));
    let mut h = s.headers.clone();
    h.insert("x-amz-date", HeaderValue::from_static("2015-08-30T12:36:00Z"));
    assert_eq!(check(&post, &s.uri, &h, &s.body, now), Err(SigV4Error::MalformedDate));
    // The suite request's header, with the scope dated a day earlier than x-amz-date.
    let uri: Uri = "/".parse().unwrap();
    let mut h = header_map(&[("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")]);
    let value = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150829/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    h.insert("authorization", HeaderValue::from_static(value));
    assert_eq!(
        check(&Method::GET, &uri, &h, b"", suite_time()),
        Err(SigV4Error::ScopeDateMismatch)
    );
}

#[test]
fn unsigned_and_malformed_requests_are_told_apart() {
    let uri: Uri = "/".parse().unwrap();
    let h = header_map(&[("host", "h"), ("x-amz-date", "20150830T123600Z")]);
    assert_eq!(
        check(&Method::GET, &uri, &h, b"", suite_time()),
        Err(SigV4Error::MissingAuthorization)
    );
    let mut bad = h.clone();
    bad.insert(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AK"),
    );
    assert!(matches!(
        check(&Method::GET, &uri, &bad, b"", suite_time()),
        Err(SigV4Error::MalformedAuthorization(_))
    ));
    let mut no_host = h.clone();
    let value = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    no_host.insert("authorization", HeaderValue::from_static(value));
    assert!(matches!(
        check(&Method::GET, &uri, &no_host, b"", suite_time()),
        Err(SigV4Error::MalformedAuthorization(m)) if m.contains("'Host'")
    ));
    let mut v2 = h;
    v2.insert(
        "authorization",
        HeaderValue::from_static("AWS AKIDEXAMPLE:c2lnbmF0dXJl"),
    );
    assert_eq!(
        check(&Method::GET, &uri, &v2, b"", suite_time()),
        Err(SigV4Error::UnsupportedAlgorithm("AWS".into()))
    );
}
