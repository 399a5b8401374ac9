//! Where s3s (pinned at =0.17.0) answers an error before any of our code
//! runs, with a code or wording that differs from AWS's, the outer service
//! rewrites the answer here, so clients that read those errors (SDK region
//! redirects, browser form uploads) see what AWS sends.
use http::{HeaderMap, Method, StatusCode, Uri};

/// What the rewrite needs to know of the request.
pub struct RequestFacts {
    /// A multipart form POST (browser upload).
    pub post_form: bool,
    /// The region the client signed for (credential scope), if any.
    pub signed_region: Option<String>,
    /// Signed in the query (presigned URL) rather than the header.
    pub presigned: bool,
}

impl RequestFacts {
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap) -> Self {
        let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let post_form = method == Method::POST
            && content_type.is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        let header_scope = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split_once("Credential="))
            .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or_default().to_owned());
        let query_scope = uri.query().and_then(|q| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == "X-Amz-Credential")
                    .then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
            })
        });
        let presigned = header_scope.is_none() && query_scope.is_some();
        // AKID/DATE/REGION/SERVICE/aws4_request
        let signed_region = header_scope
            .or(query_scope)
            .and_then(|scope| scope.split('/').nth(2).map(str::to_owned));
        RequestFacts {
            post_form,
            signed_region,
            presigned,
        }
    }
}

/// An error answer to send instead of the one s3s produced.
#[derive(Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra elements (already XML) after Message, e.g. `<Region>`.
    pub extra: String,
}

pub fn rewrite(facts: &RequestFacts, code: &str, message: &str, expected_region: &str) -> Option<Rewrite> {
    if facts.post_form
        && let Some(message) = crate::post_form::policy_error(code, message)
    {
        return Some(Rewrite {
            status: StatusCode::FORBIDDEN,
            code: "AccessDenied",
            message,
            extra: String::new(),
        });
    }
    if code == "AuthorizationHeaderMalformed" && message.contains("the region is wrong") {
        let region = facts.signed_region.as_deref().unwrap_or_default();
        let extra = format!("<Region>{}</Region>", xml_escape(expected_region));
        return Some(if facts.presigned {
            Rewrite {
                status: StatusCode::BAD_REQUEST,
                code: "AuthorizationQueryParametersError",
                message: format!(
                    "Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{expected_region}'"
                ),
                extra,
            }
        } else {
            Rewrite {
                status: StatusCode::BAD_REQUEST,
                code: "AuthorizationHeaderMalformed",
                message: format!(
                    "The authorization header is malformed; the region '{region}' is wrong; expecting '{expected_region}'"
                ),
                extra,
            }
        });
    }
    None
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_region_names_both_regions() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        let facts = RequestFacts::of(&Method::GET, &"/b".parse().unwrap(), &h);
        let r = rewrite(
            &facts,
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region is wrong; expecting 'us-east-1'.",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(r.code, "AuthorizationHeaderMalformed");
        assert_eq!(
            r.message,
            "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
        );
        assert_eq!(r.extra, "<Region>us-east-1</Region>");

        let uri: Uri = "/b/k?X-Amz-Credential=AKID%2F20261203%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=00"
            .parse()
            .unwrap();
        let facts = RequestFacts::of(&Method::GET, &uri, &HeaderMap::new());
        let r = rewrite(
            &facts,
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region is wrong; expecting 'us-east-1'.",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(r.code, "AuthorizationQueryParametersError");
        assert!(r.message.contains("'eu-west-1' is wrong"));
    }

    #[test]
    fn other_errors_pass_through() {
        let facts = RequestFacts::of(&Method::GET, &"/b".parse().unwrap(), &HeaderMap::new());
        assert_eq!(
            rewrite(&facts, "NoSuchKey", "The specified key does not exist.", "us-east-1"),
            None
        );
        // A policy-shaped message outside a form upload is not rewritten.
        assert_eq!(
            rewrite(&facts, "AccessDenied", "Request has expired", "us-east-1"),
            None
        );
    }
}
