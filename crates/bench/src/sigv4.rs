//! AWS Signature Version 4, header form, for the few requests the generator
//! sends. Every header already in the map is signed, so callers add `host`
//! (and anything else) before signing. Bodies are not hashed: PUTs sign
//! `x-amz-content-sha256: UNSIGNED-PAYLOAD`, which is what keeps the client's
//! cost flat whatever the object size.
use anyhow::Context;
use http::{HeaderMap, HeaderValue, Method};
use ring::{digest, hmac};
use time::OffsetDateTime;
use time::macros::format_description;

/// The payload hash for a body that is not hashed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string: the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub struct Signer {
    access_key: String,
    secret_key: String,
    region: String,
    session_token: Option<String>,
}

impl Signer {
    pub fn new(access_key: String, secret_key: String, region: String) -> Self {
        Signer {
            access_key,
            secret_key,
            region,
            session_token: None,
        }
    }

    /// Signs as temporary credentials: every request carries the token.
    pub fn with_session_token(mut self, token: Option<String>) -> Self {
        self.session_token = token;
        self
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256` and `authorization`.
    /// `path` must already be URI-encoded (S3 does not encode it twice) and
    /// `query` already canonical (sorted, encoded), or empty.
    pub fn sign(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &mut HeaderMap,
        payload_hash: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let amz_date = now
            .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
            .context("formatting x-amz-date")?;
        let date = amz_date.get(..8).context("x-amz-date too short")?;
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
        headers.insert("x-amz-content-sha256", HeaderValue::from_str(payload_hash)?);
        if let Some(token) = &self.session_token {
            headers.insert("x-amz-security-token", HeaderValue::from_str(token)?);
        }

        let (canonical_headers, signed_headers) = canonical_headers(headers)?;
        let canonical_request =
            format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}");
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let signature = hex::encode(hmac::sign(&self.signing_key(date), string_to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key
        );
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&authorization)?);
        Ok(())
    }

    fn signing_key(&self, date: &str) -> hmac::Key {
        let k_secret = format!("AWS4{}", self.secret_key);
        let k_date = hmac_sign(k_secret.as_bytes(), date.as_bytes());
        let k_region = hmac_sign(k_date.as_ref(), self.region.as_bytes());
        let k_service = hmac_sign(k_region.as_ref(), b"s3");
        let k_signing = hmac_sign(k_service.as_ref(), b"aws4_request");
        hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
    }
}

/// `name:value\n` lines sorted by name, and the `;`-joined name list.
fn canonical_headers(headers: &HeaderMap) -> anyhow::Result<(String, String)> {
    let mut pairs: Vec<(&str, String)> = Vec::with_capacity(headers.len());
    for name in headers.keys() {
        let mut values = Vec::new();
        for v in headers.get_all(name) {
            let v = v.to_str().with_context(|| format!("header {name} is not ASCII"))?;
            values.push(v.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        pairs.push((name.as_str(), values.join(",")));
    }
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let lines: String = pairs.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = pairs.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(";");
    Ok((lines, names))
}

/// URI-encodes an object key for a path: RFC 3986 unreserved characters
/// and `/` stay as they are, everything else becomes `%XX`.
pub fn encode_path(key: &str) -> String {
    uri_encode(key, true)
}

/// The canonical query string of `pairs`: names and values URI-encoded
/// (only the unreserved characters kept, `/` included in what is encoded),
/// sorted by name then value, a bare name given an empty value (`uploads=`).
/// The same string is sent as the request's query, so the server
/// canonicalizes exactly what was signed.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    encoded.sort();
    let parts: Vec<String> = encoded.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join("&")
}

/// `%XX` for every byte except the RFC 3986 unreserved characters and,
/// when `keep_slash`, `/`.
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac_sign(key: &[u8], msg: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg)
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signer and host of AWS's documented examples.
    fn aws_example() -> (Signer, HeaderMap) {
        let signer = Signer::new(
            "AKIAIOSFODNN7EXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            "us-east-1".into(),
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("examplebucket.s3.amazonaws.com"));
        (signer, headers)
    }

    /// The "GET Object" example of AWS's SigV4 documentation for S3
    /// ("Examples: Signature Calculations in AWS Signature Version 4").
    #[test]
    fn aws_documented_get_object_example() {
        let (signer, mut headers) = aws_example();
        headers.insert("range", HeaderValue::from_static("bytes=0-9"));
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        signer
            .sign(&Method::GET, "/test.txt", "", &mut headers, EMPTY_SHA256, now)
            .unwrap();
        let auth = headers.get("authorization").unwrap().to_str().unwrap();
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The "GET Bucket (List Objects)" example of the same page: the query
    /// is signed sorted, whatever order it is given in.
    #[test]
    fn aws_documented_list_objects_example() {
        let (signer, mut headers) = aws_example();
        let query = canonical_query(&[("prefix", "J"), ("max-keys", "2")]);
        assert_eq!(query, "max-keys=2&prefix=J");
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        signer
            .sign(&Method::GET, "/", &query, &mut headers, EMPTY_SHA256, now)
            .unwrap();
        let auth = headers.get("authorization").unwrap().to_str().unwrap();
        assert!(
            auth.ends_with("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            "{auth}"
        );
    }

    #[test]
    fn query_encoding_escapes_slashes_and_token_characters() {
        assert_eq!(canonical_query(&[("uploads", "")]), "uploads=");
        assert_eq!(
            canonical_query(&[("uploadId", "a/b+c=="), ("partNumber", "2")]),
            "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D"
        );
        assert_eq!(
            canonical_query(&[("prefix", "bench 4KiB/"), ("list-type", "2")]),
            "list-type=2&prefix=bench%204KiB%2F"
        );
    }

    #[test]
    fn path_encoding_keeps_slashes_and_unreserved() {
        assert_eq!(encode_path("/b/a b/c+d~e_f.g"), "/b/a%20b/c%2Bd~e_f.g");
        assert_eq!(encode_path("/b/é"), "/b/%C3%A9");
    }
}
