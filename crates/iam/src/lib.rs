//! The AWS IAM API (Query protocol, version 2010-05-08) for Strongbox, so
//! that `aws iam --endpoint-url ...` and boto3's `iam` client work against
//! it: users, access keys, groups, inline policies, customer managed
//! policies with versions, and attachments (AWS managed policies included).
//!
//! [`IamService::handle`] takes one HTTP request the server routed here
//! ([`is_iam_request`]) and returns the XML answer: SigV4 authentication
//! (`strongbox-sigv4`), authorization of `iam:<Action>` on the resource ARN
//! with the policy engine, then the action against the [`MetaStore`]. This
//! crate owns the protocol (parameters, validation, errors, XML); it does not
//! own HTTP serving, storage or the policy language.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod actions;
mod attach;
mod auth;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod groups;
pub use strongbox_identity as identity;
mod ids;
mod inline;
mod managed;
pub mod mfa;
mod params;
pub mod qr;
mod roles;
pub mod sts;
mod users;
mod xml;

pub use error::IamError;

use std::sync::Arc;
use strongbox_crypto::RootKey;
use strongbox_meta::MetaStore;

pub use strongbox_meta::CREDENTIAL_PURPOSE;

/// The `Content-Type` of every IAM response body.
pub const CONTENT_TYPE: &str = "text/xml";

/// The IAM endpoint's state: where entities live and the key sealing secrets.
pub struct IamService {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
    /// The server's region (IAM is global; kept for symmetry with other protocols).
    pub region: String,
    /// The shortest STS session (`DurationSeconds`) accepted: 900 as AWS;
    /// tests lower it to see sessions expire.
    pub sts_min_duration_s: u64,
}

/// One HTTP request routed to IAM, body already read.
pub struct IamRequest<'a> {
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub request_id: &'a str,
    /// Request condition keys the server built (aws:SecureTransport,
    /// aws:SourceIp, aws:CurrentTime, ...); principal keys are added here.
    pub context: strongbox_policy::ContextKeys,
}

/// The answer: a status and a `text/xml` body ([`CONTENT_TYPE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamResponse {
    pub status: http::StatusCode,
    pub body: String,
}

/// True when the request is SigV4-signed for the `iam` service (header or
/// presigned query credential scope), so the server can route it here.
/// Nothing is verified.
pub fn is_iam_request(headers: &http::HeaderMap, uri: &http::Uri) -> bool {
    strongbox_sigv4::is_signed_for(headers, "iam")
        || sts::is_sts_request(headers)
        || uri.query().is_some_and(|q| {
            q.split('&').any(|p| {
                p.strip_prefix("X-Amz-Credential=")
                    .is_some_and(|v| v.ends_with("%2Fiam%2Faws4_request") || v.ends_with("/iam/aws4_request"))
            })
        })
}

impl IamService {
    /// Credential and session lookups against this service's store.
    pub fn resolver(&self) -> identity::Resolver {
        identity::Resolver::new(self.meta.clone(), self.root_key.clone())
    }

    /// Authenticates, authorizes and performs one IAM request. Every failure
    /// becomes an IAM `ErrorResponse`; internal causes are logged, not sent.
    pub async fn handle(&self, req: IamRequest<'_>) -> IamResponse {
        let sts = sts::is_sts_request(req.headers);
        let outcome = if sts {
            sts::run(self, &req)
                .await
                .map(|(action, result)| xml::success_in(sts::NAMESPACE, &action, result.as_deref(), req.request_id))
        } else {
            actions::run(self, &req).await
        };
        match outcome {
            Ok(body) => IamResponse {
                status: http::StatusCode::OK,
                body,
            },
            Err(e) => {
                match &e {
                    IamError::ServiceFailure(cause) => {
                        tracing::error!(request_id = req.request_id, %cause, "iam request failed");
                    }
                    other => tracing::info!(request_id = req.request_id, code = other.code(), "iam request refused"),
                }
                IamResponse {
                    status: e.status(),
                    body: xml::error_in(if sts { sts::NAMESPACE } else { xml::NAMESPACE }, &e, req.request_id),
                }
            }
        }
    }
}
