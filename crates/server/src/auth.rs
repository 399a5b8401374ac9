//! Authentication (secret lookup for s3s' SigV2/SigV4 verification) and the
//! single authorization gate every S3 operation passes through.
use crate::authz::{Authorizer, AuthzError, ResourceSide, decide};
use crate::context::{AuthType, ConnInfo, RequestContext, RequestId};
use crate::metrics::OpSlot;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::PostObjectInput;
use s3s::{S3Request, S3Result, s3_error};
use std::sync::Arc;
use std::time::SystemTime;
use strongbox_crypto::RootKey;
use strongbox_identity::{Caller, IdentityError, Resolver, is_temporary};
use strongbox_meta::MetaStore;
use strongbox_policy::{Principal, Verdict};

pub use strongbox_meta::CREDENTIAL_PURPOSE;

/// Looks up secret keys for signature verification.
pub struct Credentials {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
}

#[async_trait::async_trait]
impl S3Auth for Credentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let resolver = Resolver::new(Arc::clone(&self.meta), Arc::clone(&self.root_key));
        let secret = resolver.secret(access_key).await.map_err(identity_error)?;
        let secret = std::str::from_utf8(&secret).map_err(|_| s3_error!(InternalError))?;
        Ok(SecretKey::from(secret.to_owned()))
    }
}

/// S3's answer to a credential that does not establish a caller.
fn identity_error(e: IdentityError) -> s3s::S3Error {
    match e {
        IdentityError::UnknownAccessKey => s3_error!(
            InvalidAccessKeyId,
            "The AWS Access Key Id you provided does not exist in our records."
        ),
        IdentityError::InvalidToken => s3_error!(InvalidToken, "The provided token is malformed or otherwise invalid."),
        IdentityError::ExpiredToken => s3_error!(ExpiredToken, "The provided token has expired."),
        IdentityError::Meta(e) => {
            tracing::error!(error = %e, "credential lookup failed");
            s3_error!(InternalError)
        }
        IdentityError::Internal(e) => {
            tracing::error!(error = %e, "a stored credential failed to open under the root key");
            s3_error!(InternalError)
        }
    }
}

/// The authorization gate: builds the request context and asks the policy
/// engine. Any failure here denies; nothing in this path can allow by error.
pub struct Gate {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
    pub authz: Arc<Authorizer>,
    pub region: String,
}

/// Operations on the bucket policy itself: the owner account's root may
/// always perform them (so a policy cannot lock its owner out), and callers
/// from other accounts are refused with 405, as AWS documents.
const POLICY_OPERATIONS: [&str; 4] = [
    "GetBucketPolicy",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "GetBucketPolicyStatus",
];

impl Gate {
    /// The caller an access key (and, for temporary credentials, its session token) authenticates.
    async fn caller(&self, access_key: &str, token: Option<&str>) -> S3Result<Caller> {
        Resolver::new(Arc::clone(&self.meta), Arc::clone(&self.root_key))
            .caller(access_key, token, strongbox_identity::now_ms())
            .await
            .map_err(identity_error)
    }
}

#[async_trait::async_trait]
impl S3Access for Gate {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = cx.s3_op().name().to_owned();
        if let Some(slot) = cx.extensions_mut().get::<OpSlot>() {
            slot.set(&operation);
        }
        let token = security_token(cx.headers(), cx.uri())?;
        let access_key = cx.credentials().map(|c| c.access_key.clone());
        let caller = match access_key {
            None if token.is_some() => {
                return Err(s3_error!(
                    InvalidToken,
                    "The provided token is malformed or otherwise invalid."
                ));
            }
            None => Caller {
                principal: Principal::Anonymous,
                session: None,
            },
            Some(key) if operation == "PostObject" && token.is_none() && is_temporary(&key) => {
                // A browser form carries the session token as a form field,
                // which s3s has read (and checked against the signed policy)
                // before this check, but does not hand over.
                let content_type = cx
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let head = cx.extensions_mut().get::<crate::post_form::FormHead>().cloned();
                let token = match head {
                    Some(head) => head.field(&content_type, "x-amz-security-token").await,
                    None => None,
                };
                self.caller(&key, token.as_deref()).await?
            }
            Some(key) => self.caller(&key, token.as_deref()).await?,
        };
        let mut ctx = build_context(cx, caller.principal.clone(), operation.clone());
        ctx.session = caller.session.clone();
        ctx.caller = Some(caller);
        let (bucket_name, key) = match cx.s3_path() {
            s3s::path::S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            s3s::path::S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
            s3s::path::S3Path::Root => (None, None),
        };
        if operation == "PostObject" {
            // A browser form names its key and its SSE/ACL/tagging "headers" in
            // form fields that s3s has not parsed yet: decided in `post_object`
            // below, which s3s calls with them before the handler runs.
            cx.extensions_mut().insert(ctx);
            return Ok(());
        }
        let target = Target {
            bucket: bucket_name.as_deref(),
            key: key.as_deref(),
            versioned: query_has(cx.uri(), "versionId"),
        };
        let decision = self.decide(&mut ctx, cx.headers(), cx.uri(), target).await;
        cx.extensions_mut().insert(ctx);
        decision
    }

    /// POST Object: the same decision as PutObject, on the form's key, with
    /// the condition keys the form's fields give (as AWS: a form field
    /// `x-amz-server-side-encryption` is `s3:x-amz-server-side-encryption`).
    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        let Some(mut ctx) = req.extensions.remove::<RequestContext>() else {
            tracing::error!("a POST form reached its authorization without a request context");
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let headers = crate::post_form::condition_headers(&req.headers, &req.input);
        let target = Target {
            bucket: Some(req.input.bucket.as_str()),
            key: Some(req.input.key.as_str()),
            versioned: false,
        };
        let decision = self.decide(&mut ctx, &headers, &req.uri, target).await;
        if decision.is_ok() {
            ctx.form_authorized = true;
        }
        req.extensions.insert(ctx);
        decision
    }
}

/// Operations whose handler makes the authorization decision (each calls
/// `authorize_one` before acting): the gate cannot see what they decide on.
const HANDLER_DECIDES: [&str; 3] = ["DeleteObjects", "PutObjectRetention", "PutObjectLegalHold"];

/// What a request acts on, as the gate decides it.
#[derive(Clone, Copy)]
struct Target<'a> {
    bucket: Option<&'a str>,
    key: Option<&'a str>,
    versioned: bool,
}

impl Gate {
    /// The one authorization decision of an S3 request: loads the bucket, the
    /// caller's identity policies and the bucket policy, builds the condition
    /// keys from `headers`, and asks the policy engine for every action the
    /// operation needs. Stores the keys in `ctx` for decisions handlers make.
    async fn decide(
        &self,
        ctx: &mut RequestContext,
        headers: &http::HeaderMap,
        uri: &http::Uri,
        target: Target<'_>,
    ) -> S3Result<()> {
        let operation = ctx.operation.clone();
        let (bucket_name, key) = (target.bucket, target.key);
        let creating = operation == "CreateBucket";
        let bucket = match bucket_name {
            Some(b) if !creating => self.meta.get_bucket(b).await.map_err(internal)?,
            _ => None,
        };
        // A missing bucket (or one being created) is decided as the caller's
        // own: the handler then answers NoSuchBucket or creates it.
        let owner = bucket
            .as_ref()
            .map(|b| b.owner.as_str().to_owned())
            .or_else(|| ctx.principal.account().map(|a| a.as_str().to_owned()));
        let mut keys = crate::conditions::condition_keys(
            ctx,
            headers,
            uri,
            &self.region,
            bucket.as_ref().map(|b| b.owner.as_str()),
        );
        let caller = ctx.caller.clone().unwrap_or(Caller {
            principal: Principal::Anonymous,
            session: None,
        });
        ctx.policies = self.authz.caller_policies(&caller).await.map_err(denied_internal)?;
        let bucket_policy = match &bucket {
            Some(b) => self.authz.bucket_policy(b).map_err(denied_internal)?,
            None => None,
        };
        let needs_tags = bucket_policy
            .iter()
            .chain(ctx.policies.identity.iter())
            .any(|p| p.uses_existing_tags);
        // The tags of the version the request names (versionId), else the current object's.
        let version = if target.versioned {
            query_value(uri, "versionId")
        } else {
            None
        };
        let version = version.map(|v| {
            percent_encoding::percent_decode_str(&v)
                .decode_utf8_lossy()
                .into_owned()
        });
        if let (true, Some(b), Some(k)) = (needs_tags, &bucket, key)
            && let Some(object) = self
                .meta
                .get_version(&b.name, k, version.as_deref())
                .await
                .map_err(internal)?
                .filter(|o| !o.delete_marker)
        {
            for tag in &object.doc.tags {
                keys.insert(&format!("s3:ExistingObjectTag/{}", tag.key), &tag.value);
            }
        }
        let verdicts: Vec<Verdict> = match crate::actions::required(&operation, target.versioned) {
            // Decided by the handler: per key (DeleteObjects, as AWS does), or
            // with condition keys from the body (CreateBucket's
            // s3:LocationConstraint, the s3:object-lock-* keys of
            // PutObjectRetention and PutObjectLegalHold).
            Some(_) if HANDLER_DECIDES.contains(&operation.as_str()) || creating => {
                vec![Verdict::Allow { by: Vec::new() }]
            }
            Some(required) => required
                .iter()
                .map(|r| {
                    let resource = crate::actions::resource_arn(r.resource, bucket_name, key);
                    let side = match &bucket {
                        Some(b) => ResourceSide::bucket(b, bucket_policy.as_deref()),
                        None => ResourceSide::account(owner.as_deref()),
                    };
                    decide(ctx, &keys, r.action, &resource, side)
                })
                .collect(),
            None => vec![Verdict::ImplicitDeny],
        };
        let mut allowed = !verdicts.is_empty() && verdicts.iter().all(Verdict::is_allowed);
        let caller_account = ctx.principal.account().map(|a| a.as_str().to_owned());
        let owner_account = bucket.as_ref().map(|b| b.owner.as_str().to_owned());
        if POLICY_OPERATIONS.contains(&operation.as_str()) && owner_account.is_some() {
            let same_account = caller_account == owner_account;
            if same_account && matches!(ctx.principal, Principal::AccountRoot { .. }) {
                allowed = true;
            } else if allowed && !same_account {
                tracing::debug!(request_id = %ctx.request_id, %operation, "bucket policy call from another account");
                return Err(s3_error!(
                    MethodNotAllowed,
                    "The specified method is not allowed against this resource."
                ));
            }
        }
        tracing::debug!(request_id = %ctx.request_id, %operation, ?verdicts, "authorization");
        ctx.conditions = keys;
        if allowed {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "Access Denied"))
        }
    }
}

/// A failure to load or read a policy: logged, and the request denied.
fn denied_internal(e: AuthzError) -> s3s::S3Error {
    tracing::error!(error = %e, "authorization could not load its policies; denying");
    s3_error!(AccessDenied, "Access Denied")
}

fn internal(e: strongbox_meta::MetaError) -> s3s::S3Error {
    tracing::error!(error = %e, "metadata error during authorization");
    s3_error!(InternalError)
}

/// The session token of temporary credentials: the `X-Amz-Security-Token`
/// header, or the query parameter of a presigned URL (percent-decoded).
fn security_token(headers: &http::HeaderMap, uri: &http::Uri) -> S3Result<Option<String>> {
    if let Some(v) = headers.get("x-amz-security-token") {
        let v = v
            .to_str()
            .map_err(|_| s3_error!(InvalidToken, "The provided token is malformed or otherwise invalid."))?;
        return Ok(Some(v.to_owned()));
    }
    // SigV4 presigned URLs spell it X-Amz-Security-Token, SigV2 ones x-amz-security-token.
    let raw = uri.query().and_then(|q| {
        q.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Security-Token"))
                .map(|(_, v)| v.to_owned())
        })
    });
    let Some(raw) = raw else {
        return Ok(None);
    };
    let decoded = percent_encoding::percent_decode_str(&raw)
        .decode_utf8()
        .map_err(|_| s3_error!(InvalidToken, "The provided token is malformed or otherwise invalid."))?;
    Ok(Some(decoded.into_owned()))
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
        policies: Default::default(),
        session: None,
        caller: None,
        form_authorized: false,
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
