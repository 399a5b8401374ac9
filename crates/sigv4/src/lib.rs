//! AWS Signature Version 4 for Strongbox's non-S3 protocols (IAM now, KMS
//! and STS later): parsing the `Authorization` header, rebuilding the
//! canonical request the way AWS does for services other than S3 (path
//! segments encoded twice, dot segments removed), and checking the
//! signature in constant time. [`sign`] produces the same header, for tests
//! and for Strongbox's own clients.
//!
//! Pure and sync: no I/O, the clock is an argument, and the caller looks up
//! the secret for [`AuthHeader::access_key`]. S3's variants (unsigned and
//! chunked payloads, presigned URLs, single path encoding) are s3s's job and
//! not handled here. Secrets are never logged nor kept beyond a call.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod canonical;
mod clock;
mod error;
mod header;
mod signer;

pub use error::SigV4Error;
pub use header::{ALGORITHM, AuthHeader, parse_authorization};
pub use signer::{SigningParams, sign};

use std::time::{Duration, SystemTime};

/// How far the request time may be from the server's clock (AWS: 15 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of an HTTP request that SigV4 covers (the body is passed apart).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
    pub headers: &'a http::HeaderMap,
}

/// True when the request carries a SigV4 `Authorization` header whose
/// credential scope names `service` (e.g. `iam`). Nothing is verified.
pub fn is_signed_for(headers: &http::HeaderMap, service: &str) -> bool {
    let Some(value) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match parse_authorization(value) {
        Ok(auth) => auth.service == service,
        // A malformed header still names its service in the credential scope;
        // routing on it lets that service answer in its own error format.
        Err(_) => scope_service(value) == Some(service),
    }
}

/// The service of `Credential=<key>/<date>/<region>/<service>/aws4_request`.
fn scope_service(value: &str) -> Option<&str> {
    let rest = value.strip_prefix(ALGORITHM)?;
    let scope = rest.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let mut parts = scope.rsplit('/');
    (parts.next()? == "aws4_request").then_some(())?;
    parts.next()
}

/// Verifies the request's SigV4 header signature with `secret` (the secret
/// access key of the header's access key id) at time `now`. Checks, in
/// order: the header's form (`host` must be signed), `x-amz-date` and its agreement with the
/// credential scope date, the clock skew, the payload hash, the signature.
pub fn verify(req: &Request<'_>, body: &[u8], secret: &[u8], now: SystemTime) -> Result<(), SigV4Error> {
    let value = req
        .headers
        .get(http::header::AUTHORIZATION)
        .ok_or(SigV4Error::MissingAuthorization)?;
    let auth = parse_authorization(value.to_str().map_err(|_| SigV4Error::malformed("not ASCII"))?)?;
    verify_parsed(req, &auth, body, secret, now)
}

/// [`verify`] with the header already parsed (the caller needed its access key).
pub fn verify_parsed(
    req: &Request<'_>,
    auth: &AuthHeader,
    body: &[u8],
    secret: &[u8],
    now: SystemTime,
) -> Result<(), SigV4Error> {
    if !auth.signed_headers.iter().any(|h| h == "host") {
        // Unsigned, the host would let a signature be replayed against another endpoint.
        return Err(SigV4Error::malformed(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let amz_date = req
        .headers
        .get("x-amz-date")
        .ok_or(SigV4Error::MissingDate)?
        .to_str()
        .map_err(|_| SigV4Error::MalformedDate)?;
    let signed_at = clock::parse_amz_date(amz_date).ok_or(SigV4Error::MalformedDate)?;
    if amz_date.get(..8) != Some(auth.date.as_str()) {
        return Err(SigV4Error::ScopeDateMismatch);
    }
    clock::check_skew(amz_date, signed_at, now)?;
    let payload_hash = canonical::payload_hash(req.headers, body)?;
    let canonical = canonical::request(req, &auth.signed_headers, &payload_hash)?;
    let string_to_sign = signer::string_to_sign(amz_date, &auth.scope(), &canonical);
    let key = signer::signing_key(secret, &auth.date, &auth.region, &auth.service);
    let provided = hex::decode(&auth.signature).map_err(|_| SigV4Error::malformed("Signature is not hex"))?;
    // hmac::verify compares in constant time.
    ring::hmac::verify(&key, string_to_sign.as_bytes(), &provided).map_err(|_| SigV4Error::SignatureMismatch)
}

#[cfg(test)]
mod tests {
    #[test]
    fn malformed_headers_route_by_their_scope() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/iam/aws4_request"),
        );
        assert!(super::is_signed_for(&h, "iam"));
        assert!(!super::is_signed_for(&h, "kms"));
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("AWS4-HMAC-SHA256 nothing"),
        );
        assert!(!super::is_signed_for(&h, "iam"));
    }
}
