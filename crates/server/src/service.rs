//! The outer HTTP service around s3s: request ids on every response, error
//! bodies completed with Resource/RequestId/HostId, unauthenticated health
//! and metrics endpoints, and per-request metrics. Other protocols are routed
//! here, before s3s: IAM (SigV4 scope `iam`) and KMS (`X-Amz-Target:
//! TrentService.*`) now; STS, S3 Control and CORS later.
use crate::aws_errors::xml_escape;
use crate::context::{ConnInfo, RequestId};
use crate::limits::{ConnLimits, StallGuard};
use crate::metrics::{Metrics, OpSlot};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use s3s::service::S3Service;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// A ListObjectVersions page is at most 1,000 entries of a few hundred bytes.
const MAX_VERSIONS_BODY: usize = 16 * 1024 * 1024;

/// ListObjectVersions in AWS's element order (see `versioning::interleave`).
async fn interleave_versions(resp: Response<s3s::Body>, order: &[bool]) -> Response<s3s::Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_VERSIONS_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::error!(error = %e, "ListObjectVersions body could not be read");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            );
        }
    };
    let body = match crate::s3::versioning::interleave(&bytes, order) {
        Some(b) => Bytes::from(b),
        None => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, s3s::Body::from(body))
}

/// Error bodies larger than this are passed through undecorated.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// IAM query-protocol bodies larger than this are refused (a policy document
/// is at most a few KiB even URL-encoded).
const MAX_IAM_BODY: usize = 256 * 1024;

/// KMS JSON bodies larger than this are refused (the largest, a key policy,
/// is at most 32 KiB; a plaintext at most 4 KiB, base64-encoded).
const MAX_KMS_BODY: usize = 256 * 1024;

pub struct Outer {
    pub s3: S3Service,
    pub iam: strongbox_iam::IamService,
    /// The built-in KMS (the same instance the S3 layer uses for SSE-KMS).
    pub kms: Arc<strongbox_kms::Kms>,
    pub control: crate::control::ControlService,
    pub metrics: Arc<Metrics>,
    pub limits: ConnLimits,
    pub sigv2: crate::sigv2_compat::BucketSlash,
}

impl Outer {
    pub async fn handle(&self, mut req: Request<Incoming>, conn: ConnInfo) -> Response<s3s::Body> {
        let start = Instant::now();
        let request_id = new_request_id();
        if crate::limits::header_section_len(req.headers()) > self.limits.max_header_bytes {
            return with_ids(self.header_too_large(&req, &request_id).await, &request_id);
        }
        if let Some(resp) = self.local_endpoint(&req) {
            return with_ids(resp, &request_id);
        }
        if strongbox_iam::is_iam_request(req.headers(), req.uri()) {
            let resp = self.iam(req, &conn, &request_id).await;
            self.metrics.record(
                "IAM",
                resp.status().as_u16(),
                0,
                declared_len(resp.headers(), false),
                start.elapsed(),
            );
            return with_ids(resp, &request_id);
        }
        if crate::control::is_control_request(req.uri(), req.headers()) {
            let resp = self.control(req, &conn, &request_id).await;
            self.metrics.record(
                "S3Control",
                resp.status().as_u16(),
                0,
                declared_len(resp.headers(), false),
                start.elapsed(),
            );
            return with_ids(resp, &request_id);
        }
        if strongbox_kms::is_kms_request(req.headers()) {
            let resp = self.kms(req, &conn, &request_id).await;
            self.metrics.record(
                "KMS",
                resp.status().as_u16(),
                0,
                declared_len(resp.headers(), false),
                start.elapsed(),
            );
            return with_ids(resp, &request_id);
        }
        let op = OpSlot::default();
        let bytes_in = declared_len(req.headers(), true);
        let resource = req.uri().path().to_owned();
        let is_head = req.method() == Method::HEAD;
        let facts = crate::aws_errors::RequestFacts::of(req.method(), req.uri(), req.headers());
        self.sigv2.apply(&mut req).await;
        req.extensions_mut().insert(conn);
        req.extensions_mut().insert(RequestId(request_id.clone()));
        req.extensions_mut().insert(op.clone());
        let stall = self.limits.body_timeout;
        // A form's fields (its session token) as s3s reads them: see FormHead.
        let form_head = facts.post_form.then(crate::post_form::FormHead::default);
        if let Some(head) = &form_head {
            req.extensions_mut().insert(head.clone());
        }
        let req = req.map(|b| {
            let b = StallGuard::new(b, stall);
            match &form_head {
                Some(head) => s3s::Body::http_body(head.tap(b)),
                None => s3s::Body::http_body(b),
            }
        });
        let resp = match self.s3.call(req).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(request_id, error = %e, "s3 service failed");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            }
        };
        let mut resp = resp;
        if let Some(order) = resp.extensions_mut().remove::<crate::s3::versioning::VersionOrder>() {
            resp = interleave_versions(resp, &order.0).await;
        }
        if is_head && resp.status() == StatusCode::OK && resp.headers().contains_key(header::CONTENT_RANGE) {
            // s3s serializes HeadObject as 200 even for a range or partNumber; AWS says 206.
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        let resp = if resp.status().is_client_error() || resp.status().is_server_error() {
            let mut resp = decorate_error(resp, &resource, &request_id, |code, message| {
                crate::aws_errors::rewrite(&facts, code, message, &self.iam.region)
            })
            .await;
            if bytes_in > 0 {
                // Refused before its body was read: the connection cannot carry another
                // request, so say so rather than let the client reuse it and fail.
                resp.headers_mut()
                    .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            }
            resp
        } else {
            resp
        };
        // A HEAD response is headers only. hyper drops the body on HTTP/1.1
        // but sends it as DATA frames on HTTP/2, which clients (Go's) reject.
        let resp = if is_head {
            resp.map(|_| s3s::Body::empty())
        } else {
            resp
        };
        let bytes_out = declared_len(resp.headers(), false);
        self.metrics
            .record(op.get(), resp.status().as_u16(), bytes_in, bytes_out, start.elapsed());
        if resp.status().is_server_error() {
            tracing::error!(request_id, operation = %op.get(), status = resp.status().as_u16(), "request failed");
        } else {
            tracing::debug!(request_id, operation = %op.get(), status = resp.status().as_u16(), "request");
        }
        with_ids(resp, &request_id)
    }

    /// The IAM query protocol: the whole (bounded) form body, then the IAM
    /// service authenticates, authorizes and answers with its own XML.
    async fn iam(&self, req: Request<Incoming>, conn: &ConnInfo, request_id: &str) -> Response<s3s::Body> {
        let (parts, body) = req.into_parts();
        let body = StallGuard::new(body, self.limits.body_timeout);
        let limited = http_body_util::Limited::new(body, MAX_IAM_BODY);
        let body = match limited.collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) if crate::limits::is_body_timeout(&*e) => {
                tracing::info!(request_id, error = %e, "IAM request body stalled");
                return iam_error_response(
                    StatusCode::BAD_REQUEST,
                    "RequestTimeout",
                    "The request body was not received within the timeout period.",
                    request_id,
                );
            }
            Err(e) => {
                tracing::info!(request_id, error = %e, "IAM request body refused");
                return iam_error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "The request body is too large.",
                    request_id,
                );
            }
        };
        let context = crate::conditions::request_keys(conn, &parts.headers, SystemTime::now(), &self.iam.region);
        let out = self
            .iam
            .handle(strongbox_iam::IamRequest {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                body: &body,
                request_id,
                context,
            })
            .await;
        let mut r = Response::new(s3s::Body::from(out.body));
        *r.status_mut() = out.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(strongbox_iam::CONTENT_TYPE),
        );
        r
    }

    /// S3 Control (REST-XML): the whole (bounded) body, then the control
    /// frontend authenticates, authorizes and answers.
    async fn control(&self, req: Request<Incoming>, conn: &ConnInfo, request_id: &str) -> Response<s3s::Body> {
        let (parts, body) = req.into_parts();
        let body = StallGuard::new(body, self.limits.body_timeout);
        let limited = http_body_util::Limited::new(body, crate::control::MAX_BODY);
        let body = match limited.collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                tracing::info!(request_id, error = %e, "S3 Control request body refused");
                let (status, code, message) = if crate::limits::is_body_timeout(&*e) {
                    (
                        StatusCode::BAD_REQUEST,
                        "RequestTimeout",
                        "Your socket connection to the server was not read from or written to within the timeout period.",
                    )
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        "MaxMessageLengthExceeded",
                        "Your request was too big.",
                    )
                };
                return error_response(status, code, message);
            }
        };
        self.control
            .handle(crate::control::ControlRequest {
                parts: &parts,
                body: &body,
                conn,
                request_id,
            })
            .await
    }

    /// The KMS JSON 1.1 protocol: the whole (bounded) body, then the KMS
    /// authenticates, authorizes, audits and answers with its own JSON.
    async fn kms(&self, req: Request<Incoming>, conn: &ConnInfo, request_id: &str) -> Response<s3s::Body> {
        let (parts, body) = req.into_parts();
        let body = StallGuard::new(body, self.limits.body_timeout);
        let limited = http_body_util::Limited::new(body, MAX_KMS_BODY);
        let out = match limited.collect().await {
            Ok(c) => {
                let body = c.to_bytes();
                let context =
                    crate::conditions::request_keys(conn, &parts.headers, SystemTime::now(), self.kms.region());
                self.kms
                    .handle(strongbox_kms::KmsRequest {
                        method: &parts.method,
                        uri: &parts.uri,
                        headers: &parts.headers,
                        body: &body,
                        request_id,
                        context,
                    })
                    .await
            }
            Err(e) if crate::limits::is_body_timeout(&*e) => {
                tracing::info!(request_id, error = %e, "KMS request body stalled");
                strongbox_kms::KmsResponse {
                    status: StatusCode::BAD_REQUEST,
                    body: r#"{"__type":"RequestTimeoutException","message":"The request body was not received within the timeout period."}"#.into(),
                    error_type: Some("RequestTimeoutException"),
                }
            }
            Err(e) => {
                tracing::info!(request_id, error = %e, "KMS request body refused");
                strongbox_kms::KmsResponse {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    body: r#"{"__type":"ValidationException","message":"The request body is too large."}"#.into(),
                    error_type: Some("ValidationException"),
                }
            }
        };
        let mut r = Response::new(s3s::Body::from(out.body));
        *r.status_mut() = out.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(strongbox_kms::CONTENT_TYPE),
        );
        if let Some(code) = out.error_type {
            r.headers_mut()
                .insert("x-amzn-errortype", HeaderValue::from_static(code));
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            r.headers_mut().insert("x-amzn-requestid", v);
        }
        r
    }

    /// `/health/live`, `/health/ready` and `/metrics`: unsigned GETs only, so
    /// a signed request for a bucket named `health` still reaches S3.
    fn local_endpoint(&self, req: &Request<Incoming>) -> Option<Response<s3s::Body>> {
        let signed = req.headers().contains_key(header::AUTHORIZATION)
            || req.uri().query().is_some_and(|q| q.contains("Signature="));
        if req.method() != Method::GET || signed {
            return None;
        }
        let text = |body: String, ctype: &'static str| {
            let mut r = Response::new(s3s::Body::from(body));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
            Some(r)
        };
        match req.uri().path() {
            "/health/live" | "/health/ready" => text("ok\n".into(), "text/plain; charset=utf-8"),
            "/metrics" => text(self.metrics.render(), "text/plain; version=0.0.4; charset=utf-8"),
            _ => None,
        }
    }
}

impl Outer {
    /// 400 RequestHeaderSectionTooLarge, as AWS answers; the body (if any)
    /// is not read, so the connection closes after it.
    async fn header_too_large(&self, req: &Request<Incoming>, request_id: &str) -> Response<s3s::Body> {
        let max = self.limits.max_header_bytes;
        tracing::info!(request_id, max, "request header section too large");
        let mut r = Response::new(s3s::Body::from(crate::limits::header_too_large_body(max)));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        let mut r = decorate_error(r, req.uri().path(), request_id, |_, _| None).await;
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        self.metrics.record("Unknown", 400, 0, 0, std::time::Duration::ZERO);
        r
    }
}

fn iam_error_response(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response<s3s::Body> {
    let body = format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>{request_id}</RequestId></ErrorResponse>"
    );
    let mut r = Response::new(s3s::Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(strongbox_iam::CONTENT_TYPE),
    );
    r
}

fn declared_len(h: &http::HeaderMap, request: bool) -> u64 {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let decoded = if request {
        get("x-amz-decoded-content-length")
    } else {
        None
    };
    decoded.or_else(|| get("content-length")).unwrap_or(0)
}

fn new_request_id() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    strongbox_types::random_hex(&b).to_ascii_uppercase()
}

/// `x-amz-id-2` is derived from the request id so the pair stays consistent in logs.
pub(crate) fn host_id(request_id: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, request_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(d.as_ref())
}

fn with_ids(mut resp: Response<s3s::Body>, request_id: &str) -> Response<s3s::Body> {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&host_id(request_id)) {
        h.insert("x-amz-id-2", v);
    }
    h.entry(header::SERVER).or_insert(HeaderValue::from_static("Strongbox"));
    resp
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = Response::new(s3s::Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}

/// Adds the Resource, RequestId and HostId elements AWS error bodies carry,
/// after `rewrite` (code, message) had its say on s3s' own answers.
async fn decorate_error(
    resp: Response<s3s::Body>,
    resource: &str,
    request_id: &str,
    rewrite: impl FnOnce(&str, &str) -> Option<crate::aws_errors::Rewrite>,
) -> Response<s3s::Body> {
    let is_xml = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("xml"));
    let small = http_body::Body::size_hint(resp.body())
        .upper()
        .is_some_and(|n| n <= MAX_ERROR_BODY as u64);
    if !is_xml || !small {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Response::from_parts(parts, s3s::Body::empty()),
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if let (Some(code), Some(message)) = (element(&text, "Code"), element(&text, "Message"))
        && let Some(r) = rewrite(&code, &message)
    {
        parts.status = r.status;
        text = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message>{}</Error>",
            r.code,
            xml_escape(&r.message),
            r.extra
        );
    }
    let extra = format!(
        "<Resource>{}</Resource><RequestId>{request_id}</RequestId><HostId>{}</HostId></Error>",
        xml_escape(resource),
        host_id(request_id)
    );
    let new = match text.rfind("</Error>") {
        Some(pos) if !text.contains("<RequestId>") => {
            format!("{}{}", text.get(..pos).unwrap_or_default(), extra)
        }
        _ => text,
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(new.len()));
    Response::from_parts(parts, s3s::Body::from(new))
}

/// The unescaped text of the first `<name>` element of an error body.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml.get(start..)?.find(&format!("</{name}>"))?;
    let raw = xml.get(start..start + len)?;
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}
