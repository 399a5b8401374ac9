//! The typed request context: everything authorization and audit may ask
//! about a request, built once per request before the operation runs.
use std::net::SocketAddr;
use std::time::SystemTime;
use strongbox_policy::Principal;

/// Which listener accepted the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Http,
    Https,
}

/// Facts about a TLS connection after the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `1.2` or `1.3` (the form `s3:TlsVersion` compares numerically).
    pub version: &'static str,
    pub cipher: String,
    pub sni: Option<String>,
}

/// Connection facts, inserted into every request's extensions by the listener.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub listener: Listener,
    pub tls: Option<TlsInfo>,
}

/// How the request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// Authorization header (`s3:authType` = `REST-HEADER`).
    Header,
    /// Presigned URL (`REST-QUERY-STRING`).
    Query,
    /// Browser POST form (`POST`).
    PostForm,
    Anonymous,
}

impl AuthType {
    pub fn policy_value(self) -> Option<&'static str> {
        match self {
            Self::Header => Some("REST-HEADER"),
            Self::Query => Some("REST-QUERY-STRING"),
            Self::PostForm => Some("POST"),
            Self::Anonymous => None,
        }
    }
}

/// The per-request context handed to authorization, handlers and logs.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Principal,
    pub access_key: Option<String>,
    pub auth_type: AuthType,
    /// `AWS` (SigV2) or `AWS4-HMAC-SHA256` (SigV4), as `s3:signatureversion`.
    pub signature_version: Option<&'static str>,
    /// Milliseconds since the signature's timestamp (`s3:signatureAge`).
    pub signature_age_ms: Option<u64>,
    pub conn: ConnInfo,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub operation: String,
    pub time: SystemTime,
    /// The policy condition keys of this request (filled by the gate).
    pub conditions: strongbox_policy::ContextKeys,
    /// The caller's identity policies, boundary and session policies, loaded
    /// once by the gate so handlers that authorize more (a copy's source,
    /// each key of DeleteObjects) decide with the same ones.
    pub policies: crate::authz::CallerPolicies,
    /// The authenticated caller (principal and session), for loading its policies.
    pub caller: Option<strongbox_identity::Caller>,
    /// The STS session of temporary credentials.
    pub session: Option<std::sync::Arc<strongbox_identity::SessionClaims>>,
    /// A POST form's upload was authorized on its key and form fields (the
    /// gate's `post_object` hook); a PostObject handler refuses without it.
    pub form_authorized: bool,
}

/// The request id, assigned by the outer service before anything else runs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
