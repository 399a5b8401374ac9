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
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use s3s::S3Response;
use s3s::dto::{ETag, PostObjectInput, PutObjectOutput};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Transport headers of the POST request itself that keep their meaning
/// (`aws:UserAgent`, `aws:Referer`, the signature date).
const REQUEST_HEADERS: [&str; 5] = ["user-agent", "referer", "host", "x-amz-date", "date"];

/// How much of a form body [`FormHead`] keeps: the fields before the file.
/// A session token is about 1 KiB; a form whose token field starts later
/// than this is refused as carrying no token.
const FORM_HEAD_BYTES: usize = 64 * 1024;

/// The first bytes of a multipart form body, copied as s3s reads them.
///
/// s3s checks a form's fields against its signed policy and then keeps them:
/// neither the access check nor the `PostObject` input carries the
/// `x-amz-security-token` field a form signed with temporary credentials
/// needs. By the time the access check runs, s3s has read every field before
/// the file, so they are in this copy; [`FormHead::field`] parses them with
/// the multipart parser s3s itself uses. A parser that read the fields
/// differently could only pick another token for the same access key, and a
/// token is accepted only for the key it was issued with.
#[derive(Clone, Default)]
pub struct FormHead(Arc<Mutex<Vec<u8>>>);

impl FormHead {
    /// `body`, copying its first [`FORM_HEAD_BYTES`] into this head.
    pub fn tap<B>(&self, body: B) -> FormTap<B> {
        FormTap {
            inner: body,
            head: self.clone(),
        }
    }

    /// The value of the form field `name` (case-insensitive, as s3s and
    /// AWS match form fields) among the fields read so far, before the file.
    pub async fn field(&self, content_type: &str, name: &str) -> Option<String> {
        let mime: mime::Mime = content_type.parse().ok()?;
        let boundary = s3s_multipart::Boundary::new(mime.get_param(mime::BOUNDARY)?.as_str().as_bytes()).ok()?;
        let head = Bytes::from(self.0.lock().ok()?.clone());
        let stream = futures::stream::iter([Ok::<_, s3s_multipart::Error>(head)]);
        let mut parser = s3s_multipart::Multipart::new(stream, &boundary, FORM_HEAD_BYTES);
        let mut found = None;
        loop {
            let mut part = parser.next_part().await.ok()??;
            let mut part_name = None;
            while let Some(h) = part.next_header().await.ok()? {
                if h.name.eq_ignore_ascii_case("content-disposition") {
                    part_name = s3s_multipart::parse_content_disposition(h.value)
                        .and_then(|cd| cd.name)
                        .and_then(|n| std::str::from_utf8(n).ok())
                        .map(str::to_owned);
                }
            }
            let part_name = part_name?;
            if part_name.eq_ignore_ascii_case("file") {
                return found;
            }
            let mut value = Vec::new();
            while let Some(chunk) = part.next_data().await.ok()? {
                value.extend_from_slice(&chunk);
            }
            if part_name.eq_ignore_ascii_case(name) {
                // s3s keeps the last of repeated fields; so does this.
                found = Some(String::from_utf8(value).ok()?);
            }
        }
    }
}

/// A request body that copies its first bytes into a [`FormHead`].
pub struct FormTap<B> {
    inner: B,
    head: FormHead,
}

impl<B> Body for FormTap<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(f))) = &frame
            && let Some(data) = f.data_ref()
            && let Ok(mut head) = this.head.0.lock()
        {
            let room = FORM_HEAD_BYTES.saturating_sub(head.len());
            head.extend_from_slice(data.get(..room).unwrap_or(data));
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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

    fn form(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n");
        body.extend_from_slice(b"x-amz-security-token=in-the-file\r\n--XyZ--\r\n");
        body
    }

    async fn token_of(body: Vec<u8>) -> Option<String> {
        use http_body_util::BodyExt;
        let head = FormHead::default();
        let mut tap = head.tap(http_body_util::Full::new(Bytes::from(body)));
        while tap.frame().await.is_some() {}
        head.field("multipart/form-data; boundary=XyZ", "x-amz-security-token")
            .await
    }

    #[tokio::test]
    async fn a_form_field_is_read_from_the_copied_head_as_s3s_reads_it() {
        let t = token_of(form(&[("key", "k"), ("X-Amz-Security-Token", "tok"), ("policy", "p")])).await;
        assert_eq!(t.as_deref(), Some("tok"));
        // Repeated: the last one, as s3s keeps it.
        let t = token_of(form(&[("x-amz-security-token", "a"), ("x-amz-security-token", "b")])).await;
        assert_eq!(t.as_deref(), Some("b"));
        // Only fields before the file count; the file's bytes are not a field.
        assert_eq!(token_of(form(&[("key", "k")])).await, None);
        // A token that starts beyond the copied head is not found.
        let pad = "p".repeat(FORM_HEAD_BYTES);
        assert_eq!(
            token_of(form(&[("x-ignore-pad", &pad), ("x-amz-security-token", "late")])).await,
            None
        );
    }
}
