//! The `Authorization` header of a SigV4 request:
//! `AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request,
//! SignedHeaders=host;x-amz-date, Signature=<64 hex>`.
use crate::SigV4Error;

/// The only algorithm SigV4 (as opposed to SigV4a) uses.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

const TERMINATOR: &str = "aws4_request";

/// A parsed `Authorization` header. Parsing checks its shape only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    pub access_key: String,
    /// The credential scope date, `YYYYMMDD`.
    pub date: String,
    pub region: String,
    /// The credential scope service, e.g. `iam`.
    pub service: String,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// 64 lower-case hex characters.
    pub signature: String,
}

impl AuthHeader {
    /// `DATE/REGION/SERVICE/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/{TERMINATOR}", self.date, self.region, self.service)
    }
}

/// Parses an `Authorization` header value.
pub fn parse_authorization(header: &str) -> Result<AuthHeader, SigV4Error> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| SigV4Error::malformed(&format!("Authorization header component '{part}' has no '='")))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(SigV4Error::malformed(&format!(
                    "Unknown Authorization header component '{other}'"
                )));
            }
        };
        if slot.replace(value.trim()).is_some() {
            return Err(SigV4Error::malformed(&format!(
                "Duplicate '{}' in Authorization header",
                key.trim()
            )));
        }
    }
    let credential = require(credential, "Credential")?;
    let signed_headers = parse_signed_headers(require(signed_headers, "SignedHeaders")?)?;
    let signature = parse_signature(require(signature, "Signature")?)?;
    let (access_key, date, region, service) = parse_credential(credential)?;
    Ok(AuthHeader {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

fn require<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, SigV4Error> {
    v.ok_or_else(|| SigV4Error::malformed(&format!("Authorization header requires '{name}' parameter.")))
}

fn parse_credential(credential: &str) -> Result<(String, String, String, String), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts.as_slice() else {
        return Err(SigV4Error::malformed(&format!(
            "Credential '{credential}' is not of the form ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request"
        )));
    };
    if *terminator != TERMINATOR {
        return Err(SigV4Error::malformed(&format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    if access_key.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SigV4Error::malformed(&format!(
            "Credential '{credential}' has an empty component"
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SigV4Error::malformed(&format!(
            "Credential should be scoped to a valid date (YYYYMMDD), not '{date}'."
        )));
    }
    Ok((
        access_key.to_string(),
        date.to_string(),
        region.to_string(),
        service.to_string(),
    ))
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = list.split(';').map(str::to_owned).collect();
    // Any lower-case HTTP token (RFC 9110 tchar): SDKs sign every header
    // they send, and `sign` lists e.g. `x-amz-meta-a~b` too.
    let valid = |n: &String| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !names.iter().all(valid) {
        return Err(SigV4Error::malformed(&format!(
            "SignedHeaders '{list}' must be lower-case header names separated by ';'"
        )));
    }
    Ok(names)
}

fn parse_signature(signature: &str) -> Result<String, SigV4Error> {
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SigV4Error::malformed("Signature must be 64 hexadecimal characters"));
    }
    Ok(signature.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn parses_the_aws_form() {
        let h = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature={SIG}"
        );
        let a = parse_authorization(&h).unwrap();
        assert_eq!(a.access_key, "AKIDEXAMPLE");
        assert_eq!(
            (a.date.as_str(), a.region.as_str(), a.service.as_str()),
            ("20150830", "us-east-1", "iam")
        );
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.scope(), "20150830/us-east-1/iam/aws4_request");
        let tight = h.replace(", ", ",");
        assert_eq!(parse_authorization(&tight), Ok(a));
    }

    /// fuzz/artifacts/sigv4_auth/crash-342edd8f61f7df27ca3ee76c2aaa80426838b329:
    /// `sign` signed a header named `content-t~pe` and `verify` then refused
    /// its own SignedHeaders, though any HTTP header name may be signed.
    #[test]
    fn signed_headers_are_any_lower_case_token() {
        let h = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=content-t~pe;host;x-a!b#c$d%e&f'g*h+i^j`k|l, Signature={SIG}"
        );
        let a = parse_authorization(&h).unwrap();
        assert_eq!(a.signed_headers, ["content-t~pe", "host", "x-a!b#c$d%e&f'g*h+i^j`k|l"]);
        for bad in ["Host", "ho st", "a\"b", "a:b", "a(b", "a/b", "a@b", ""] {
            let h = format!(
                "AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=host;{bad}, Signature={SIG}"
            );
            assert!(parse_authorization(&h).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_what_is_not_sigv4() {
        let ok = format!("Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=host, Signature={SIG}");
        let cases = [
            "AWS AK:sig".to_owned(),
            format!("AWS4-HMAC-SHA256 SignedHeaders=host, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, Signature={SIG}"),
            "AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=host".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=AK/2015083/r/iam/aws4_request, SignedHeaders=host, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws5_request, SignedHeaders=host, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AK/20150830/r/aws4_request, SignedHeaders=host, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=Host, Signature={SIG}"),
            "AWS4-HMAC-SHA256 Credential=AK/20150830/r/iam/aws4_request, SignedHeaders=host, Signature=abc".to_owned(),
            format!("AWS4-HMAC-SHA256 {ok}, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 {ok}, Extra=1"),
            String::new(),
        ];
        for case in cases {
            assert!(parse_authorization(&case).is_err(), "{case}");
        }
        assert!(parse_authorization(&format!("AWS4-HMAC-SHA256 {ok}")).is_ok());
    }
}
