//! The canonical request of SigV4 for services other than S3: method, URI
//! path (dot segments and empty segments removed, each segment
//! percent-encoded again although it arrived encoded, as AWS SDKs do for
//! non-S3 services), sorted query, the signed headers with trimmed values,
//! and the payload hash.
use crate::{Request, SigV4Error};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

/// Everything but SigV4's unreserved characters `A-Za-z0-9-_.~` is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Hex SHA-256 of the body. A client-sent `x-amz-content-sha256` must agree
/// with it, because the signature covers the header, not the bytes.
pub(crate) fn payload_hash(headers: &http::HeaderMap, body: &[u8]) -> Result<String, SigV4Error> {
    let computed = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
    match headers.get("x-amz-content-sha256") {
        None => Ok(computed),
        Some(sent) => {
            let sent = sent.to_str().map_err(|_| SigV4Error::PayloadHashMismatch)?;
            if sent.eq_ignore_ascii_case(&computed) {
                Ok(sent.to_owned())
            } else {
                Err(SigV4Error::PayloadHashMismatch)
            }
        }
    }
}

/// The canonical request for `req` with the client's list of signed headers.
pub(crate) fn request(req: &Request<'_>, signed_headers: &[String], payload_hash: &str) -> Result<String, SigV4Error> {
    let headers = headers(req, signed_headers)?;
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.as_str(),
        uri_path(req.uri.path()),
        query(req.uri.query().unwrap_or("")),
        headers,
        signed_headers.join(";"),
        payload_hash
    ))
}

/// The canonical URI of a non-S3 request, from the path as it was sent.
pub(crate) fn uri_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let encoded: Vec<String> = segments
        .iter()
        .map(|s| percent_encode(s.as_bytes(), UNRESERVED).to_string())
        .collect();
    let mut out = format!("/{}", encoded.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Parameters decoded, re-encoded with the unreserved set, sorted by name then value.
pub(crate) fn query(query: &str) -> String {
    let encode = |s: &str| percent_encode(&percent_decode_str(s).collect::<Vec<u8>>(), UNRESERVED).to_string();
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(k), encode(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value\n` for each signed header, in the client's order; repeated
/// headers joined with `,`, values trimmed with inner whitespace collapsed.
fn headers(req: &Request<'_>, signed: &[String]) -> Result<String, SigV4Error> {
    let mut out = String::new();
    for name in signed {
        let mut values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| trim_all(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() && name == "host" {
            // HTTP/2 carries the host as :authority, which hyper keeps in the URI.
            values.extend(req.uri.authority().map(|a| a.as_str().to_owned()));
        }
        if values.is_empty() {
            return Err(SigV4Error::MissingSignedHeader(name.clone()));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

fn trim_all(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_encoded_again() {
        assert_eq!(uri_path(""), "/");
        assert_eq!(uri_path("/"), "/");
        assert_eq!(uri_path("/a/./b/../c/"), "/a/c/");
        assert_eq!(uri_path("//a//b"), "/a/b");
        assert_eq!(uri_path("/../.."), "/");
        assert_eq!(uri_path("/a%20b/c~d"), "/a%2520b/c~d", "non-S3 services double-encode");
        assert_eq!(uri_path("/-._~0123456789AZaz"), "/-._~0123456789AZaz");
    }

    #[test]
    fn queries_are_sorted_and_encoded_once() {
        assert_eq!(query(""), "");
        assert_eq!(query("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
        assert_eq!(query("b=2&a=z&a=a"), "a=a&a=z&b=2");
        assert_eq!(query("k=a%20b&flag&&x=%7e"), "flag=&k=a%20b&x=~");
        assert_eq!(query("%E1%88%B4=bar"), "%E1%88%B4=bar");
        assert_eq!(query("p=a+b/c"), "p=a%2Bb%2Fc");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        assert_eq!(trim_all("  a   b \t c  "), "a b c");
        let mut h = http::HeaderMap::new();
        h.append("my-header1", http::HeaderValue::from_static("value2"));
        h.append("my-header1", http::HeaderValue::from_static(" value1 "));
        let uri: http::Uri = "https://example.amazonaws.com:8443/".parse().unwrap();
        let req = Request {
            method: &http::Method::GET,
            uri: &uri,
            headers: &h,
        };
        let signed = ["host".to_owned(), "my-header1".to_owned()];
        assert_eq!(
            headers(&req, &signed).unwrap(),
            "host:example.amazonaws.com:8443\nmy-header1:value2,value1\n"
        );
        let missing = headers(&req, &["x-amz-date".to_owned()]);
        assert_eq!(missing, Err(SigV4Error::MissingSignedHeader("x-amz-date".into())));
    }

    #[test]
    fn a_sent_payload_hash_must_match_the_body() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let mut h = http::HeaderMap::new();
        assert_eq!(payload_hash(&h, b"").unwrap(), empty);
        h.insert("x-amz-content-sha256", http::HeaderValue::from_static(empty));
        assert_eq!(payload_hash(&h, b"").unwrap(), empty);
        assert_eq!(payload_hash(&h, b"x"), Err(SigV4Error::PayloadHashMismatch));
        h.insert(
            "x-amz-content-sha256",
            http::HeaderValue::from_static("UNSIGNED-PAYLOAD"),
        );
        assert_eq!(payload_hash(&h, b""), Err(SigV4Error::PayloadHashMismatch));
    }
}
