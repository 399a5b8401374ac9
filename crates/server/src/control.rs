//! The S3 Control API (REST-XML under `/v20180820/`, the account named by
//! `x-amz-account-id`): the account-level Block Public Access. Requests are
//! SigV4-signed for service `s3` (clients put the account id in front of the
//! endpoint host, `{account}.localhost`), verified here, authorized by the
//! same [`crate::authz::decide`] as every S3 operation, and answered with S3
//! Control's error XML.
use crate::authz::{Authorizer, ResourceSide, decide};
use crate::context::{AuthType, ConnInfo, RequestContext};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use s3s::xml::{Deserialize, SerializeContent};
use std::sync::Arc;
use std::time::SystemTime;
use strongbox_engine::Engine;
use strongbox_identity::{IdentityError, Resolver, SignedError, authenticate_signed};
use strongbox_policy::Verdict;
use strongbox_sigv4::SigV4Error;

/// The API version prefix of every S3 Control path.
const PREFIX: &str = "/v20180820/";
/// A request body larger than this is refused (the largest S3 Control body
/// Strongbox accepts is a few hundred bytes of XML).
pub const MAX_BODY: usize = 64 * 1024;
const NAMESPACE: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

/// Whether a request is for S3 Control rather than S3: its path has the API
/// version prefix and it names an account. A bucket called `v20180820`
/// stays reachable: S3 requests carry no `x-amz-account-id`.
pub fn is_control_request(uri: &http::Uri, headers: &http::HeaderMap) -> bool {
    uri.path().starts_with(PREFIX) && headers.contains_key("x-amz-account-id")
}

/// An S3 Control error: code, status and message, as AWS.
#[derive(Debug)]
struct ControlError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ControlError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "S3 Control request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }
}

fn signed_error(e: SignedError) -> ControlError {
    let forbidden = |code, message: String| ControlError::new(StatusCode::FORBIDDEN, code, message);
    match e {
        SignedError::MissingAuthorization => ControlError::access_denied(),
        SignedError::NotAscii => forbidden("AuthorizationHeaderMalformed", e.to_string()),
        SignedError::WrongService { .. } => forbidden("SignatureDoesNotMatch", e.to_string()),
        SignedError::Signature(s) => match s {
            SigV4Error::SignatureMismatch | SigV4Error::PayloadHashMismatch | SigV4Error::ScopeDateMismatch => {
                forbidden("SignatureDoesNotMatch", s.to_string())
            }
            SigV4Error::TimeSkewed(_) => forbidden("RequestTimeTooSkewed", s.to_string()),
            SigV4Error::Signing(m) => ControlError::internal(m),
            other => ControlError::new(
                StatusCode::BAD_REQUEST,
                "AuthorizationHeaderMalformed",
                other.to_string(),
            ),
        },
        SignedError::Identity(i) => match i {
            IdentityError::UnknownAccessKey => forbidden(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.".into(),
            ),
            IdentityError::InvalidToken => ControlError::new(
                StatusCode::BAD_REQUEST,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            ),
            IdentityError::ExpiredToken => ControlError::new(
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "The provided token has expired.",
            ),
            IdentityError::Meta(m) => ControlError::internal(m),
            IdentityError::Internal(m) => ControlError::internal(m),
        },
    }
}

/// The S3 Control frontend.
pub struct ControlService {
    pub engine: Engine,
    pub authz: Arc<Authorizer>,
    pub resolver: Resolver,
    pub region: String,
}

/// One S3 Control request, its body already read (bounded by [`MAX_BODY`]).
pub struct ControlRequest<'a> {
    pub parts: &'a http::request::Parts,
    pub body: &'a [u8],
    pub conn: &'a ConnInfo,
    pub request_id: &'a str,
}

impl ControlService {
    pub async fn handle(&self, req: ControlRequest<'_>) -> http::Response<s3s::Body> {
        let resource = req.parts.uri.path().to_owned();
        match self.answer(&req).await {
            Ok((status, body)) => {
                let mut r = http::Response::new(s3s::Body::from(body));
                *r.status_mut() = status;
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
                r
            }
            Err(e) => error_response(&e, &resource, req.request_id),
        }
    }

    /// The operation the request names, or NotImplemented.
    fn operation(method: &Method, path: &str) -> Option<&'static str> {
        match (method, path.strip_prefix(PREFIX)?) {
            (&Method::PUT, "configuration/publicAccessBlock") => Some("PutPublicAccessBlock"),
            (&Method::GET, "configuration/publicAccessBlock") => Some("GetPublicAccessBlock"),
            (&Method::DELETE, "configuration/publicAccessBlock") => Some("DeletePublicAccessBlock"),
            _ => None,
        }
    }

    async fn answer(&self, req: &ControlRequest<'_>) -> Result<(StatusCode, Bytes), ControlError> {
        let parts = req.parts;
        let signed = authenticate_signed(
            &self.resolver,
            &strongbox_sigv4::Request {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
            },
            req.body,
            "s3",
            SystemTime::now(),
        )
        .await
        .map_err(signed_error)?;
        let account = parts
            .headers
            .get("x-amz-account-id")
            .and_then(|v| v.to_str().ok())
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ControlError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    "x-amz-account-id must be a 12-digit account id",
                )
            })?
            .to_owned();
        let operation = Self::operation(&parts.method, parts.uri.path()).ok_or_else(|| {
            ControlError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "A header or query you provided implies functionality that is not implemented.",
            )
        })?;
        let action = match operation {
            "GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock",
            _ => "s3:PutAccountPublicAccessBlock",
        };
        self.authorize(req, &signed, operation, action, &account).await?;
        match operation {
            "PutPublicAccessBlock" => {
                let mut d = s3s::xml::Deserializer::new(req.body);
                let config = s3s::dto::PublicAccessBlockConfiguration::deserialize(&mut d).map_err(|_| {
                    ControlError::new(
                        StatusCode::BAD_REQUEST,
                        "MalformedXML",
                        "The XML you provided was not well-formed or did not validate against our published schema",
                    )
                })?;
                let block = crate::s3::public_access::from_dto(&config);
                self.engine
                    .set_account_public_access_block(&account, Some(block))
                    .await
                    .map_err(ControlError::internal)?;
                Ok((StatusCode::OK, Bytes::new()))
            }
            "GetPublicAccessBlock" => {
                let block = self
                    .engine
                    .account_public_access_block(&account)
                    .await
                    .map_err(ControlError::internal)?
                    .ok_or_else(|| {
                        ControlError::new(
                            StatusCode::NOT_FOUND,
                            "NoSuchPublicAccessBlockConfiguration",
                            "The public access block configuration was not found",
                        )
                    })?;
                let dto = crate::s3::public_access::to_dto(block);
                let mut out = Vec::new();
                let mut ser = s3s::xml::Serializer::new(&mut out);
                ser.decl().map_err(ControlError::internal)?;
                // The DTO's own element carries S3's namespace, not S3 Control's.
                ser.element_with_ns("PublicAccessBlockConfiguration", NAMESPACE, |s| {
                    dto.serialize_content(s)
                })
                .map_err(ControlError::internal)?;
                Ok((StatusCode::OK, Bytes::from(out)))
            }
            _ => {
                self.engine
                    .set_account_public_access_block(&account, None)
                    .await
                    .map_err(ControlError::internal)?;
                Ok((StatusCode::NO_CONTENT, Bytes::new()))
            }
        }
    }

    /// The one authorization decision, as for S3: the caller's identity
    /// policies on `action` over `*`, for the account named. Only the
    /// account's own principals may act on its settings.
    async fn authorize(
        &self,
        req: &ControlRequest<'_>,
        signed: &strongbox_identity::Signed,
        operation: &str,
        action: &str,
        account: &str,
    ) -> Result<(), ControlError> {
        let caller = &signed.caller;
        if caller.principal.account().map(|a| a.as_str()) != Some(account) {
            return Err(ControlError::access_denied());
        }
        let headers = &req.parts.headers;
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut ctx = RequestContext {
            request_id: req.request_id.to_owned(),
            principal: caller.principal.clone(),
            access_key: Some(signed.access_key.clone()),
            auth_type: AuthType::Header,
            signature_version: Some("AWS4-HMAC-SHA256"),
            signature_age_ms: None,
            conn: req.conn.clone(),
            host: header("host"),
            user_agent: header("user-agent"),
            operation: operation.to_owned(),
            time: SystemTime::now(),
            conditions: Default::default(),
            policies: Default::default(),
            caller: Some(caller.clone()),
            session: caller.session.clone(),
            form_authorized: false,
        };
        ctx.policies = self.authz.caller_policies(caller).await.map_err(|e| {
            tracing::error!(error = %e, "authorization could not load its policies; denying");
            ControlError::access_denied()
        })?;
        let keys = crate::conditions::condition_keys(&ctx, headers, &req.parts.uri, &self.region, Some(account));
        let verdict = decide(&ctx, &keys, action, "*", ResourceSide::account(Some(account)));
        tracing::debug!(request_id = %ctx.request_id, operation, ?verdict, "S3 Control authorization");
        match verdict {
            Verdict::Allow { .. } => Ok(()),
            _ => Err(ControlError::access_denied()),
        }
    }
}

fn error_response(e: &ControlError, resource: &str, request_id: &str) -> http::Response<s3s::Body> {
    use crate::aws_errors::xml_escape;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Code>{}</Code><Message>{}</Message>\
         <Resource>{}</Resource></Error><RequestId>{}</RequestId><HostId>{}</HostId></ErrorResponse>",
        e.code,
        xml_escape(&e.message),
        xml_escape(resource),
        xml_escape(request_id),
        crate::service::host_id(request_id),
    );
    let mut r = http::Response::new(s3s::Body::from(body));
    *r.status_mut() = e.status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}
