//! Authentication (secret lookup for s3s' SigV2/SigV4 verification) and the
//! single authorization gate every S3 operation passes through.
use crate::context::{AuthType, ConnInfo, RequestContext, RequestId};
use crate::metrics::OpSlot;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use std::sync::Arc;
use std::time::SystemTime;
use strongbox_crypto::RootKey;
use strongbox_meta::MetaStore;
use strongbox_policy::{Decision, Principal, Request, Resource, authorize};

/// Purpose label for sealing secret access keys under the root key. DO NOT CHANGE.
pub const CREDENTIAL_PURPOSE: &str = "strongbox/credential-secret/v1";

/// Looks up secret keys for signature verification.
pub struct Credentials {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
}

#[async_trait::async_trait]
impl S3Auth for Credentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let cred = self.meta.get_credential(access_key).await.map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            s3_error!(InternalError)
        })?;
        let Some(cred) = cred.filter(|c| c.active) else {
            return Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ));
        };
        let secret =
            strongbox_crypto::open_secret(&self.root_key, CREDENTIAL_PURPOSE, &cred.secret_sealed).map_err(|e| {
                tracing::error!(error = %e, "a stored credential failed to open under the root key");
                s3_error!(InternalError)
            })?;
        let secret = std::str::from_utf8(&secret).map_err(|_| s3_error!(InternalError))?;
        Ok(SecretKey::from(secret.to_owned()))
    }
}

/// The authorization gate: builds the request context and asks the policy
/// engine. Any failure here denies; nothing in this path can allow by error.
pub struct Gate {
    pub meta: Arc<dyn MetaStore>,
    pub region: String,
}

#[async_trait::async_trait]
impl S3Access for Gate {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = cx.s3_op().name().to_owned();
        if let Some(slot) = cx.extensions_mut().get::<OpSlot>() {
            slot.set(&operation);
        }
        if cx.headers().contains_key("x-amz-security-token") || query_has(cx.uri(), "X-Amz-Security-Token") {
            // No temporary credentials are issued yet, so no token can be valid.
            return Err(s3_error!(
                InvalidToken,
                "The provided token is malformed or otherwise invalid."
            ));
        }
        let principal = match cx.credentials() {
            None => Principal::Anonymous,
            Some(c) => {
                let cred = self.meta.get_credential(&c.access_key).await.map_err(internal)?;
                let cred = cred.ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
                Principal::AccountRoot {
                    account: cred.account_id,
                }
            }
        };
        let mut ctx = build_context(cx, principal.clone(), operation.clone());
        let bucket = cx
            .s3_path()
            .as_bucket()
            .or_else(|| cx.s3_path().as_object().map(|(b, _)| b));
        let resource = match bucket {
            // Creating a bucket acts on the caller's account; a taken name is
            // answered by the handler (BucketAlreadyExists / ...OwnedByYou).
            _ if operation == "CreateBucket" => Resource::Account,
            None => Resource::Account,
            Some(bucket) => match self.meta.get_bucket(bucket).await.map_err(internal)? {
                Some(b) => Resource::Bucket { owner: b.owner },
                // CreateBucket on a free name, or any call on a missing bucket:
                // the handler answers NoSuchBucket to authenticated callers.
                None => Resource::Account,
            },
        };
        let owner = match &resource {
            Resource::Bucket { owner } => Some(owner.as_str()),
            Resource::Account => None,
        };
        ctx.conditions = crate::conditions::condition_keys(&ctx, cx.headers(), cx.uri(), &self.region, owner);
        let versioned = query_has(cx.uri(), "versionId");
        // Every required action must be allowed; an operation missing from the table is denied.
        let decisions: Vec<Decision> = match crate::actions::required(&operation, versioned) {
            Some(required) => required
                .iter()
                .map(|r| {
                    authorize(&Request {
                        principal: &principal,
                        action: r.action,
                        resource: &resource,
                    })
                })
                .collect(),
            None => vec![Decision::ImplicitDeny {
                reason: "operation not in the action table",
            }],
        };
        let allowed = !decisions.is_empty() && decisions.iter().all(Decision::is_allowed);
        tracing::debug!(request_id = %ctx.request_id, %operation, ?decisions, "authorization");
        cx.extensions_mut().insert(ctx);
        if allowed {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "Access Denied"))
        }
    }
}

fn internal(e: strongbox_meta::MetaError) -> s3s::S3Error {
    tracing::error!(error = %e, "metadata error during authorization");
    s3_error!(InternalError)
}

fn query_value(uri: &http::Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    })
}

/// `20261122T095600Z` (SigV4's x-amz-date).
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?.assume_utc();
    Some(SystemTime::from(t))
}

/// An HTTP date (SigV2's Date header).
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let t = s3s::dto::Timestamp::parse(s3s::dto::TimestampFormat::HttpDate, s).ok()?;
    Some(SystemTime::from(time::OffsetDateTime::from(t)))
}

fn query_has(uri: &http::Uri, name: &str) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|kv| kv.split('=').next() == Some(name)))
}

fn build_context(cx: &mut S3AccessContext<'_>, principal: Principal, operation: String) -> RequestContext {
    let headers = cx.headers();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let authz = header("authorization");
    let uri = cx.uri().clone();
    let (auth_type, signature_version) = match (&authz, cx.credentials().is_some()) {
        (_, false) => (AuthType::Anonymous, None),
        (Some(a), true) if a.starts_with("AWS4-") => (AuthType::Header, Some("AWS4-HMAC-SHA256")),
        (Some(_), true) => (AuthType::Header, Some("AWS")),
        (None, true) if query_has(&uri, "X-Amz-Signature") => (AuthType::Query, Some("AWS4-HMAC-SHA256")),
        (None, true) if query_has(&uri, "Signature") => (AuthType::Query, Some("AWS")),
        (None, true) => (AuthType::PostForm, None),
    };
    let (host, user_agent) = (header("host"), header("user-agent"));
    let now = SystemTime::now();
    let signed_at = header("x-amz-date")
        .or_else(|| query_value(&uri, "X-Amz-Date"))
        .and_then(|d| parse_amz_date(&d))
        .or_else(|| header("date").and_then(|d| parse_http_date(&d)));
    let signature_age_ms = match (signed_at, signature_version) {
        (Some(t), Some(_)) => now
            .duration_since(t)
            .ok()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        _ => None,
    };
    let access_key = cx.credentials().map(|c| c.access_key.clone());
    let ext = cx.extensions_mut();
    let request_id = ext.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let conn = ext.get::<ConnInfo>().cloned().unwrap_or_else(|| ConnInfo {
        peer: ([0, 0, 0, 0], 0).into(),
        local: ([0, 0, 0, 0], 0).into(),
        listener: crate::context::Listener::Http,
        tls: None,
    });
    RequestContext {
        request_id,
        principal,
        access_key,
        auth_type,
        signature_version,
        signature_age_ms,
        conn,
        host,
        user_agent,
        operation,
        time: now,
        conditions: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_dates_parse() {
        let t = parse_amz_date("20261122T095600Z").unwrap();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_795_341_360);
        assert_eq!(parse_http_date("Sun, 22 Nov 2026 09:56:00 GMT"), Some(t));
        assert_eq!(parse_amz_date("garbage"), None);
        let uri: http::Uri = "/b/k?X-Amz-Date=20261122T095600Z&X-Amz-Signature=x".parse().unwrap();
        assert_eq!(query_value(&uri, "X-Amz-Date").as_deref(), Some("20261122T095600Z"));
        assert!(query_has(&uri, "X-Amz-Signature") && !query_has(&uri, "Signature"));
    }
}
