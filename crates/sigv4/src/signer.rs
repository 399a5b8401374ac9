//! The signature itself: the string to sign, the derived signing key (an
//! HMAC-SHA256 chain over date, region, service and `aws4_request`), and
//! [`sign`], which adds SigV4 headers to a request.
use crate::{ALGORITHM, Request, SigV4Error, canonical, clock};
use http::{HeaderMap, HeaderValue, Method, Uri};
use ring::{digest, hmac};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Who signs, and for which scope.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    pub access_key: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl std::fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Signs a request as AWS SDKs do for non-S3 services: sets `x-amz-date`
/// (from `now`), `host` (from the URI, when absent) and `authorization`,
/// signing every header present. The payload hash is the body's SHA-256.
pub fn sign(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    body: &[u8],
    params: &SigningParams<'_>,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    let amz_date = clock::format_amz_date(now)?;
    let date = amz_date.get(..8).unwrap_or_default().to_owned();
    headers.insert("x-amz-date", header_value(&amz_date)?);
    headers.remove(http::header::AUTHORIZATION);
    if !headers.contains_key(http::header::HOST) {
        let authority = uri
            .authority()
            .ok_or_else(|| SigV4Error::Signing("the URI has no host".into()))?;
        headers.insert(http::header::HOST, header_value(authority.as_str())?);
    }
    let mut signed: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    signed.sort();
    let req = Request { method, uri, headers };
    let payload_hash = canonical::payload_hash(headers, body)?;
    let canonical = canonical::request(&req, &signed, &payload_hash)?;
    let scope = format!("{date}/{}/{}/aws4_request", params.region, params.service);
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let key = signing_key(params.secret.as_bytes(), &date, params.region, params.service);
    let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.access_key,
        signed.join(";")
    );
    headers.insert(http::header::AUTHORIZATION, header_value(&authorization)?);
    Ok(())
}

fn header_value(s: &str) -> Result<HeaderValue, SigV4Error> {
    HeaderValue::from_str(s).map_err(|e| SigV4Error::Signing(e.to_string()))
}

pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = hex::encode(digest::digest(&digest::SHA256, canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hash}")
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &[u8], date: &str, region: &str, service: &str) -> hmac::Key {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret);
    let k_date = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k_secret), date.as_bytes());
    let k_region = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_date.as_ref()), region.as_bytes());
    let k_service = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, k_region.as_ref()),
        service.as_bytes(),
    );
    let k_signing = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_service.as_ref()), b"aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}
