//! The built-in KMS of Strongbox: symmetric KMS keys that never leave the
//! server, so that `aws kms --endpoint-url ...`, boto3's `kms` client and
//! S3's SSE-KMS work against it as against AWS KMS.
//!
//! This crate owns: the KMS JSON 1.1 protocol ([`Kms::handle`], routed here by
//! the server when [`is_kms_request`]), SigV4 authentication for scope `kms`,
//! key and alias semantics (states, scheduled deletion, automatic and
//! on-demand rotation, the AWS managed key `alias/aws/s3`), authorization of
//! `kms:<Action>` with key policies and IAM identity policies following AWS
//! KMS's rules, the ciphertext blob format ([`ciphertext`], specified in
//! docs/design/kms.md), the per-account request quota for cryptographic
//! operations, and the CloudTrail-shaped audit log of every key use
//! ([`read_events`]). The S3 layer calls [`Kms::generate_data_key`],
//! [`Kms::decrypt`], [`Kms::default_s3_key`] and [`Kms::resolve`].
//!
//! It does not own: HTTP serving (the server), storage (key records and
//! aliases are persisted by `strongbox-meta`; key material only ever sealed
//! under the root key with `strongbox-crypto`), the policy language
//! (`strongbox-policy`), or object encryption (the engine).
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod api;
mod api_aliases;
mod api_crypto;
mod api_keys;
mod api_manage;
mod audit;
mod auth;
mod authz;
pub mod ciphertext;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod keys;
mod ops;
mod policies;
mod quota;

pub use audit::{DEFAULT_MAX_BYTES as DEFAULT_AUDIT_MAX_BYTES, read_events};
pub use error::KmsError;
pub use ids::{format_uuid, parse_uuid};
pub use strongbox_meta::KmsKeyState as KeyState;

use std::path::Path;
use std::sync::Arc;
use strongbox_crypto::RootKey;
use strongbox_meta::MetaStore;
use strongbox_policy::Principal;
use strongbox_types::AccountId;
use zeroize::Zeroizing;

/// The `Content-Type` of every KMS request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An encryption context: sorted, so its canonical encoding is unique.
pub type EncryptionContext = std::collections::BTreeMap<String, String>;

/// Settings of the built-in KMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsConfig {
    /// Cryptographic requests (GenerateDataKey*, Encrypt, Decrypt, ReEncrypt,
    /// GenerateRandom) per second and account; `None`: no quota.
    pub crypto_requests_per_second: Option<u32>,
    /// Size at which `audit/kms.log` is rotated.
    pub audit_max_bytes: u64,
}

impl Default for KmsConfig {
    fn default() -> Self {
        KmsConfig {
            crypto_requests_per_second: None,
            audit_max_bytes: audit::DEFAULT_MAX_BYTES,
        }
    }
}

/// Who calls a KMS operation, as the protocol layer (or S3) established it.
#[derive(Debug, Clone)]
pub struct KmsCaller {
    /// The caller's account.
    pub account: AccountId,
    /// The account root, an IAM user or a role session, with its STS
    /// session when the credentials are temporary.
    pub identity: strongbox_identity::Caller,
    pub access_key_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// `Some("s3.amazonaws.com")` when S3 calls KMS on the caller's behalf
    /// (sets `kms:ViaService` and CloudTrail's `invokedBy`).
    pub via_service: Option<String>,
    /// Global condition keys already computed for the request (aws:SecureTransport, aws:SourceIp, ...).
    pub context: strongbox_policy::ContextKeys,
}

impl KmsCaller {
    /// `arn:aws:iam::ACCOUNT:root`, the user's ARN or the role session's
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub fn arn(&self) -> String {
        self.identity
            .principal
            .arn()
            .map_or_else(|| self.account.root_arn(), |a| a.into_owned())
    }

    /// An IAM user or role session (not the account root): the callers whose
    /// identity policies must allow when a key policy trusts their account.
    pub fn is_iam_principal(&self) -> bool {
        matches!(
            self.identity.principal,
            Principal::User { .. } | Principal::AssumedRole { .. }
        )
    }
}

/// A new data key: the plaintext (zeroized on drop) and the same key
/// encrypted under the KMS key.
pub struct GeneratedDataKey {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext_blob: Vec<u8>,
    pub key_arn: String,
}

impl std::fmt::Debug for GeneratedDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedDataKey")
            .field("plaintext", &"..")
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .field("key_arn", &self.key_arn)
            .finish()
    }
}

/// A decrypted blob (zeroized on drop) and the key that had sealed it.
pub struct Decrypted {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub key_arn: String,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext", &"..")
            .field("key_arn", &self.key_arn)
            .finish()
    }
}

/// One HTTP request routed to KMS, body already read.
pub struct KmsRequest<'a> {
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub request_id: &'a str,
    /// Request condition keys the server built (aws:SecureTransport,
    /// aws:SourceIp, aws:CurrentTime, ...); principal keys are added here.
    pub context: strongbox_policy::ContextKeys,
}

/// The answer: a status, a JSON body ([`CONTENT_TYPE`]) and, for errors, the
/// `x-amzn-ErrorType` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsResponse {
    pub status: http::StatusCode,
    pub body: String,
    pub error_type: Option<&'static str>,
}

/// True when the request names a KMS operation (`X-Amz-Target: TrentService.*`),
/// so the server can route it here. Nothing is verified.
pub fn is_kms_request(headers: &http::HeaderMap) -> bool {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("TrentService."))
}

/// The built-in KMS. Cheap to clone: every clone shares one state.
#[derive(Clone)]
pub struct Kms {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
    pub region: String,
    pub audit: audit::AuditLog,
    pub quota: Option<quota::Quota>,
    /// Milliseconds since the epoch; replaceable for tests.
    pub clock: Box<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

impl Kms {
    /// A KMS over `meta`, sealing key material under `root_key`, writing its
    /// audit log under `data_dir/audit`.
    pub fn new(
        meta: Arc<dyn MetaStore>,
        root_key: Arc<RootKey>,
        region: &str,
        data_dir: &Path,
        config: KmsConfig,
    ) -> std::io::Result<Kms> {
        Ok(Kms {
            inner: Arc::new(Inner {
                meta,
                root_key,
                region: region.to_owned(),
                audit: audit::AuditLog::open(data_dir, config.audit_max_bytes)?,
                quota: config.crypto_requests_per_second.map(quota::Quota::new),
                clock: Box::new(system_now_ms),
            }),
        })
    }

    /// The same KMS reading time from `clock` (epoch milliseconds), for tests
    /// of deletion and rotation dates. Only valid before the KMS is shared.
    pub fn with_clock(self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Kms {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.clock = Box::new(clock);
                Kms { inner: Arc::new(inner) }
            }
            Err(inner) => Kms { inner },
        }
    }

    /// The region in key ARNs.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// GenerateDataKey with `AES_256` (32 bytes) for S3: authorized as
    /// `kms:GenerateDataKey`, quota-limited and audited like the API call.
    pub async fn generate_data_key(
        &self,
        caller: &KmsCaller,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedDataKey, KmsError> {
        let mut trail = audit::Trail::new("GenerateDataKey", true);
        trail.param("keyId", key_id);
        trail.param("keySpec", "AES_256");
        trail.param("encryptionContext", api::context_json(context));
        let result = self.data_key(caller, key_id, context, 32, &mut trail).await;
        self.record(caller, &trail, result.as_ref().err());
        result
    }

    /// Decrypt for S3: the key comes from the blob; authorized as `kms:Decrypt`.
    pub async fn decrypt(
        &self,
        caller: &KmsCaller,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<Decrypted, KmsError> {
        let mut trail = audit::Trail::new("Decrypt", true);
        trail.param("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
        trail.param("encryptionContext", api::context_json(context));
        let result = self.decrypt_blob(caller, blob, context, None, &mut trail).await;
        self.record(caller, &trail, result.as_ref().err());
        result.map(|(plaintext, key)| Decrypted {
            plaintext,
            key_arn: key.arn,
        })
    }

    /// The ARN of the account's `alias/aws/s3` key, creating it on first use.
    pub async fn default_s3_key(&self, account: &AccountId) -> Result<String, KmsError> {
        Ok(self.aws_s3_key(account).await?.arn)
    }

    /// Resolves any key identifier to the key ARN and state without
    /// authorizing (for validating SSE-KMS key ids). Other accounts' keys
    /// only by ARN.
    pub async fn resolve(&self, account: &AccountId, key_id: &str) -> Result<(String, KeyState), KmsError> {
        let found = self.find_key(account, key_id, keys::Scope::Crypto).await?;
        Ok((found.key.arn, found.key.doc.state))
    }

    /// Authenticates, authorizes, performs and audits one KMS JSON 1.1
    /// request. Every failure becomes a JSON error; internal causes are
    /// logged, not sent.
    pub async fn handle(&self, req: KmsRequest<'_>) -> KmsResponse {
        api::handle(self, req).await
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Appends the audit event of one operation.
    pub(crate) fn record(&self, caller: &KmsCaller, trail: &audit::Trail, error: Option<&KmsError>) {
        let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.now_ms()) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let event_id = ids::new_uuid().unwrap_or_default();
        let event = audit::event(caller, &self.inner.region, trail, error, &event_id, now);
        self.inner.audit.append(&event);
    }
}

fn system_now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
