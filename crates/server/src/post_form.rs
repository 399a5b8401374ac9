//! Browser POST uploads (`POST /bucket` with a multipart form): what the
//! authorization gate and the error path need beyond PutObject.
//!
//! A form carries in fields what a PUT carries in headers (`key`, `acl`,
//! `x-amz-server-side-encryption`, `tagging`, ...), and AWS evaluates the same
//! bucket-policy condition keys from them. The gate therefore decides a POST
//! with headers rebuilt here from the parsed form, never from the HTTP
//! request's own headers, which a form upload does not use for the object:
//! trusting them would let `x-amz-server-side-encryption: aws:kms` on the
//! request satisfy a policy while the object is stored under another mode.
use http::{HeaderMap, HeaderName, HeaderValue};
use s3s::S3Response;
use s3s::dto::{ETag, PostObjectInput, PutObjectOutput};
use s3s::post_policy::PostPolicyCondition;

/// Transport headers of the POST request itself that keep their meaning
/// (`aws:UserAgent`, `aws:Referer`, the signature date).
const REQUEST_HEADERS: [&str; 5] = ["user-agent", "referer", "host", "x-amz-date", "date"];

/// The session token of a form signed with temporary credentials: its
/// `x-amz-security-token` field. s3s has checked every field against an
/// exact or prefix condition of the signed policy but keeps the fields to
/// itself, so the token is read from the exact-match condition (which then
/// equals the field; AWS's SDKs always write one). A form whose policy only
/// has a prefix condition for it has no token here.
pub fn session_token(form: &PostObjectInput) -> Option<&str> {
    form.policy.as_ref()?.conditions.iter().find_map(|c| match c {
        PostPolicyCondition::Eq { field, value } if field == "x-amz-security-token" => Some(value.as_str()),
        _ => None,
    })
}

/// The headers a PUT of the same object would carry, from the form's fields.
pub fn condition_headers(request: &HeaderMap, form: &PostObjectInput) -> HeaderMap {
    let mut h = HeaderMap::new();
    for name in REQUEST_HEADERS {
        if let Some(v) = request.get(name) {
            h.insert(HeaderName::from_static(name), v.clone());
        }
    }
    let fields: [(&'static str, Option<&str>); 12] = [
        ("x-amz-acl", form.acl.as_ref().map(|v| v.as_str())),
        ("x-amz-grant-read", form.grant_read.as_deref()),
        ("x-amz-grant-read-acp", form.grant_read_acp.as_deref()),
        ("x-amz-grant-write-acp", form.grant_write_acp.as_deref()),
        ("x-amz-grant-full-control", form.grant_full_control.as_deref()),
        (
            "x-amz-server-side-encryption",
            form.server_side_encryption.as_ref().map(|v| v.as_str()),
        ),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            form.ssekms_key_id.as_deref(),
        ),
        (
            "x-amz-server-side-encryption-customer-algorithm",
            form.sse_customer_algorithm.as_deref(),
        ),
        ("x-amz-storage-class", form.storage_class.as_ref().map(|v| v.as_str())),
        (
            "x-amz-object-lock-mode",
            form.object_lock_mode.as_ref().map(|v| v.as_str()),
        ),
        (
            "x-amz-object-lock-legal-hold",
            form.object_lock_legal_hold_status.as_ref().map(|v| v.as_str()),
        ),
        ("x-amz-tagging", form.tagging.as_deref()),
    ];
    for (name, value) in fields {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    if let Some(v) = form.object_lock_retain_until_date.as_ref().and_then(retain_until) {
        h.insert(HeaderName::from_static("x-amz-object-lock-retain-until-date"), v);
    }
    h
}

fn retain_until(d: &s3s::dto::Timestamp) -> Option<HeaderValue> {
    let mut buf = Vec::new();
    d.format(s3s::dto::TimestampFormat::DateTime, &mut buf).ok()?;
    HeaderValue::from_bytes(&buf).ok()
}

/// The answer to a form upload. s3s writes a PostObject's 201 `PostResponse`
/// from the output's ETag value and sends no output headers, so the ETag is
/// given with its quotes (AWS's `<ETag>"..."</ETag>`, and its redirect's
/// `etag=` parameter), and the headers AWS sends (ETag, SSE) are set here.
pub fn response(mut out: PutObjectOutput, etag: &str) -> S3Response<PutObjectOutput> {
    let quoted = format!("\"{etag}\"");
    out.e_tag = Some(ETag::Strong(quoted.clone()));
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&quoted) {
        headers.insert(http::header::ETAG, v);
    }
    if let Some(v) = out
        .server_side_encryption
        .as_ref()
        .and_then(|s| HeaderValue::from_str(s.as_str()).ok())
    {
        headers.insert(HeaderName::from_static("x-amz-server-side-encryption"), v);
    }
    let mut resp = S3Response::new(out);
    resp.headers = headers;
    resp
}

/// AWS's wording for a form that its POST policy refuses. s3s (pinned at
/// =0.17.0) answers these with its own codes and messages, before any of our
/// code runs; the outer service rewrites them to what AWS answers
/// (403 AccessDenied, "Invalid according to Policy: ...").
pub fn policy_error(code: &str, message: &str) -> Option<String> {
    const PREFIX: &str = "Invalid according to Policy: ";
    match code {
        "AccessDenied" if message == "Request has expired" => Some(format!("{PREFIX}Policy expired.")),
        "AccessDenied" => {
            // "... must appear in the list of policy conditions. \"NAME\" not specified in the policy."
            let field = message
                .strip_prefix(
                    "Each form field that you specify in a form must appear in the list of policy conditions. \"",
                )?
                .strip_suffix("\" not specified in the policy.")?;
            Some(format!("{PREFIX}Extra input fields: {field}"))
        }
        "InvalidPolicyDocument" => condition_failed(message).map(|c| format!("{PREFIX}Policy Condition failed: {c}")),
        _ => None,
    }
}

/// `["eq", "$key", "uploads/a.txt"]` from s3s' "Policy condition 'eq' for
/// field 'key' failed: expected 'uploads/a.txt', got '...'" (and the
/// `starts-with` form).
fn condition_failed(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Policy condition '")?;
    let (op, rest) = rest.split_once("' for field '")?;
    let (field, rest) = rest.split_once("' failed: expected ")?;
    let value = match op {
        "eq" => rest.strip_prefix('\'')?.rsplit_once("', got '")?.0,
        "starts-with" => rest.strip_prefix("prefix '")?.rsplit_once("', got '")?.0,
        _ => return None,
    };
    let quote = |s: &str| serde_json_string(s);
    Some(format!(
        "[{}, {}, {}]",
        quote(op),
        quote(&format!("${field}")),
        quote(value)
    ))
}

/// A JSON string literal (the form AWS prints policy conditions in).
fn serde_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::dto::ServerSideEncryption;

    #[test]
    fn s3s_policy_messages_become_aws_wording() {
        // The exact messages s3s 0.17.0 produces (pinned), so a change there fails here.
        assert_eq!(
            policy_error(
                "InvalidPolicyDocument",
                "Policy condition 'eq' for field 'key' failed: expected 'uploads/a.txt', got 'other'"
            )
            .as_deref(),
            Some(r#"Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/a.txt"]"#)
        );
        assert_eq!(
            policy_error(
                "InvalidPolicyDocument",
                "Policy condition 'starts-with' for field 'key' failed: expected prefix 'up/', got 'x'"
            )
            .as_deref(),
            Some(r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"]"#)
        );
        assert_eq!(
            policy_error("AccessDenied", "Request has expired").as_deref(),
            Some("Invalid according to Policy: Policy expired.")
        );
        assert_eq!(
            policy_error(
                "AccessDenied",
                "Each form field that you specify in a form must appear in the list of policy conditions. \
                 \"x-amz-meta-a\" not specified in the policy."
            )
            .as_deref(),
            Some("Invalid according to Policy: Extra input fields: x-amz-meta-a")
        );
        assert_eq!(policy_error("AccessDenied", "Access Denied"), None);
        assert_eq!(
            policy_error("InvalidPolicyDocument", "failed to parse POST policy"),
            None
        );
    }

    #[test]
    fn form_fields_replace_request_headers() {
        let mut request = HeaderMap::new();
        request.insert("x-amz-server-side-encryption", HeaderValue::from_static("aws:kms"));
        request.insert("user-agent", HeaderValue::from_static("browser"));
        let form = PostObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        let h = condition_headers(&request, &form);
        assert!(
            h.get("x-amz-server-side-encryption").is_none(),
            "a request header must not stand in for a form field"
        );
        assert_eq!(h.get("user-agent").unwrap(), "browser");
        let form = PostObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .server_side_encryption(Some(ServerSideEncryption::from("aws:kms".to_owned())))
            .tagging(Some("a=1".into()))
            .build()
            .unwrap();
        let h = condition_headers(&request, &form);
        assert_eq!(h.get("x-amz-server-side-encryption").unwrap(), "aws:kms");
        assert_eq!(h.get("x-amz-tagging").unwrap(), "a=1");
    }
}
