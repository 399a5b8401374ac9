//! Server-side encryption modes: which keys encrypt a new object (the request's
//! SSE headers, else the bucket default), and recovering the keys of a stored
//! one. SSE-S3 keys come from the root key through the engine; SSE-KMS and
//! DSSE-KMS keys from the built-in KMS, on the caller's behalf (so the key
//! policy and the caller's IAM policies decide, and every use is audited);
//! SSE-C keys from the request, never stored: only a salted HMAC recognises
//! them.
use super::StrongboxS3;
use crate::context::{Listener, RequestContext};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::Digest as _;
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};
use strongbox_crypto::{DataKey, KeyProvider, RootKey, RootKeyProvider, WrappedKey};
use strongbox_engine::{ObjectKeys, SSE_S3, wrap_context};
use strongbox_kms::{EncryptionContext, KmsCaller, KmsError};
use strongbox_meta::{BucketEncryption, BucketRecord, EncryptionRecord};
use zeroize::Zeroizing;

pub(crate) const SSE_KMS: &str = "aws:kms";
pub(crate) const DSSE_KMS: &str = "aws:kms:dsse";
/// [`EncryptionRecord::scheme`] of SSE-C objects.
pub(crate) const SSE_C: &str = "SSE-C";
/// The encryption context key S3 adds to every SSE-KMS data key.
const S3_ARN_CONTEXT: &str = "aws:s3:arn";
/// Key id recorded for data keys wrapped under a customer key or a bucket key.
const CUSTOMER_KEK: &str = "customer";
const BUCKET_KEK: &str = "bucket-key";

/// A customer-provided key (SSE-C) from the request headers, validated.
pub(crate) struct CustomerKey {
    key: Zeroizing<Vec<u8>>,
    /// Base64 MD5 of the key, as the client sent it and S3 echoes it.
    pub md5: String,
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerKey")
            .field("md5", &self.md5)
            .finish_non_exhaustive()
    }
}

impl CustomerKey {
    /// Validates the three SSE-C headers as S3 does; `None` when none is present.
    pub(crate) fn from_headers(
        ctx: &RequestContext,
        algorithm: Option<&str>,
        key: Option<&str>,
        key_md5: Option<&str>,
    ) -> S3Result<Option<CustomerKey>> {
        if algorithm.is_none() && key.is_none() && key_md5.is_none() {
            return Ok(None);
        }
        if ctx.conn.listener != Listener::Https {
            return Err(s3_error!(
                InvalidRequest,
                "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
            ));
        }
        let Some(algorithm) = algorithm else {
            return Err(s3_error!(
                InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
            ));
        };
        if algorithm != "AES256" {
            return Err(s3_error!(
                InvalidEncryptionAlgorithmError,
                "The encryption request you specified is not valid. The valid value is AES256."
            ));
        }
        let Some(key) = key else {
            return Err(s3_error!(
                InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
            ));
        };
        let key = Zeroizing::new(B64.decode(key.trim()).unwrap_or_default());
        if key.len() != strongbox_crypto::KEY_LEN {
            return Err(s3_error!(
                InvalidArgument,
                "The secret key was invalid for the specified algorithm."
            ));
        }
        let Some(key_md5) = key_md5 else {
            return Err(s3_error!(
                InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."
            ));
        };
        let md5 = B64.encode(md5::Md5::digest(key.as_slice()));
        if !strongbox_crypto::ct_eq(md5.as_bytes(), key_md5.trim().as_bytes()) {
            return Err(s3_error!(
                InvalidArgument,
                "The calculated MD5 hash of the key did not match the hash that was provided."
            ));
        }
        Ok(Some(CustomerKey { key, md5 }))
    }

    fn provider(&self) -> S3Result<RootKeyProvider> {
        let root = RootKey::from_bytes(&self.key).map_err(internal)?;
        Ok(RootKeyProvider::with_key_id(root, CUSTOMER_KEK))
    }
}

/// What a write asked for in its SSE headers.
#[derive(Debug)]
pub(crate) enum Requested {
    /// No SSE header: the bucket default applies (with the request's Bucket
    /// Key setting, if it gave one).
    Default {
        bucket_key: Option<bool>,
    },
    SseS3,
    Kms {
        dsse: bool,
        key_id: Option<String>,
        /// The caller's context (decoded `x-amz-server-side-encryption-context`).
        context: EncryptionContext,
        bucket_key: Option<bool>,
    },
    Customer(CustomerKey),
}

/// The SSE headers of a write, as s3s parsed them.
pub(crate) struct SseHeaders<'a> {
    pub sse: Option<&'a str>,
    pub kms_key_id: Option<&'a str>,
    pub context: Option<&'a str>,
    pub bucket_key: Option<bool>,
    pub customer: Option<CustomerKey>,
}

impl SseHeaders<'_> {
    /// Checks that the headers make one consistent request, as S3 does.
    pub(crate) fn requested(self) -> S3Result<Requested> {
        let kms_only = self.kms_key_id.is_some() || self.context.is_some();
        if let Some(customer) = self.customer {
            if self.sse.is_some() || kms_only {
                return Err(s3_error!(
                    InvalidArgument,
                    "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
                ));
            }
            return Ok(Requested::Customer(customer));
        }
        match self.sse {
            None | Some(SSE_S3) if kms_only => Err(s3_error!(
                InvalidArgument,
                "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
            )),
            None => Ok(Requested::Default {
                bucket_key: self.bucket_key,
            }),
            Some(SSE_S3) => Ok(Requested::SseS3),
            Some(alg @ (SSE_KMS | DSSE_KMS)) => Ok(Requested::Kms {
                dsse: alg == DSSE_KMS,
                key_id: self.kms_key_id.map(str::to_owned).filter(|k| !k.is_empty()),
                context: self.context.map(parse_context).transpose()?.unwrap_or_default(),
                bucket_key: self.bucket_key,
            }),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "The encryption method specified is not supported"
            )),
        }
    }
}

/// `x-amz-server-side-encryption-context`: base64 of a JSON object of strings.
fn parse_context(header: &str) -> S3Result<EncryptionContext> {
    let bad = || {
        s3_error!(
            InvalidArgument,
            "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map"
        )
    };
    let bytes = B64.decode(header.trim()).map_err(|_| bad())?;
    serde_json::from_slice::<EncryptionContext>(&bytes).map_err(|_| bad())
}

/// The encryption context of an object's KMS data keys: the caller's, plus the object ARN.
fn object_context(mut context: EncryptionContext, bucket: &str, key: &str) -> EncryptionContext {
    context.insert(S3_ARN_CONTEXT.into(), format!("arn:aws:s3:::{bucket}/{key}"));
    context
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "encryption key handling failed");
    s3_error!(InternalError, "We encountered an internal error. Please try again.")
}

/// A KMS failure as S3 reports it: AccessDenied for authorization, the KMS
/// error code prefixed with `KMS.` otherwise (as S3 does).
pub(crate) fn kms_error(e: KmsError) -> S3Error {
    let code = e.code();
    if code == "AccessDeniedException" {
        return S3Error::with_message(S3ErrorCode::AccessDenied, e.message());
    }
    if code == "KMSInternalException" {
        return internal(e.message());
    }
    let mut err = S3Error::with_message(S3ErrorCode::Custom(format!("KMS.{code}").into()), e.message());
    err.set_status_code(if code == "ThrottlingException" {
        http::StatusCode::SERVICE_UNAVAILABLE
    } else {
        http::StatusCode::BAD_REQUEST
    });
    err
}

/// The KMS caller S3 acts for: the request's principal, via S3.
pub(crate) fn kms_caller(ctx: &RequestContext) -> S3Result<KmsCaller> {
    // KMS has no anonymous callers: an anonymous read of an SSE-KMS object is refused.
    let Some(identity) = ctx.caller.clone() else {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    };
    let Some(account) = identity.principal.account().cloned() else {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    };
    Ok(KmsCaller {
        account,
        identity,
        access_key_id: ctx.access_key.clone(),
        source_ip: Some(ctx.conn.peer.ip().to_string()),
        user_agent: ctx.user_agent.clone(),
        request_id: ctx.request_id.clone(),
        via_service: Some("s3.amazonaws.com".into()),
        context: ctx.conditions.clone(),
    })
}

/// What SSE a new object gets when the request says nothing: the bucket default.
fn default_for(bucket: &BucketRecord, bucket_key: Option<bool>) -> Requested {
    match &bucket.encryption {
        Some(e) if e.algorithm == SSE_KMS || e.algorithm == DSSE_KMS => Requested::Kms {
            dsse: e.algorithm == DSSE_KMS,
            key_id: e.kms_key_id.clone(),
            context: EncryptionContext::new(),
            bucket_key: Some(bucket_key.unwrap_or(e.bucket_key_enabled)),
        },
        _ => Requested::SseS3,
    }
}

/// Whether the bucket blocks SSE-C writes.
pub(crate) fn blocks_sse_c(encryption: Option<&BucketEncryption>) -> bool {
    encryption.is_some_and(|e| e.blocked_types.iter().any(|t| t == "SSE-C"))
}

impl StrongboxS3 {
    /// Keys for a new object (or upload) of `bucket`/`key`, as `requested`.
    pub(crate) async fn new_object_keys(
        &self,
        ctx: &RequestContext,
        bucket: &BucketRecord,
        key: &str,
        requested: Requested,
    ) -> S3Result<ObjectKeys> {
        let requested = match requested {
            Requested::Default { bucket_key } => default_for(bucket, bucket_key),
            Requested::Kms {
                dsse,
                key_id,
                context,
                bucket_key: None,
            } => Requested::Kms {
                dsse,
                key_id,
                context,
                // The bucket's Bucket Key setting applies unless the request overrides it.
                bucket_key: bucket.encryption.as_ref().map(|e| e.bucket_key_enabled),
            },
            other => other,
        };
        match requested {
            Requested::Default { .. } | Requested::SseS3 => {
                super::convert::engine(self.engine.sse_s3_keys(&bucket.name, key))
            }
            Requested::Customer(customer) => {
                if blocks_sse_c(bucket.encryption.as_ref()) {
                    return Err(s3_error!(
                        AccessDenied,
                        "Requests specifying Server Side Encryption with Customer provided keys are blocked for this bucket."
                    ));
                }
                let dek = DataKey::generate().map_err(internal)?;
                let wrapped = customer
                    .provider()?
                    .wrap(&dek, &wrap_context(&bucket.name, key))
                    .map_err(internal)?;
                let salt = strongbox_crypto::random_bytes(16).map_err(internal)?;
                let record = EncryptionRecord {
                    scheme: SSE_C.into(),
                    kek_id: CUSTOMER_KEK.into(),
                    wrapped_key: wrapped.0,
                    customer_key_md5: Some(customer.md5.clone()),
                    customer_key_hmac: Some(strongbox_crypto::customer_key_fingerprint(&salt, &customer.key).to_vec()),
                    customer_key_salt: Some(salt),
                    ..Default::default()
                };
                super::convert::engine(ObjectKeys::new(vec![dek], record, true))
            }
            Requested::Kms {
                dsse,
                key_id,
                context,
                bucket_key,
            } => {
                let caller = kms_caller(ctx)?;
                let key_id = match key_id {
                    Some(k) => k,
                    None => self.kms.default_s3_key(&caller.account).await.map_err(kms_error)?,
                };
                let full_context = object_context(context, &bucket.name, key);
                let context_json = serde_json::to_string(&full_context).map_err(internal)?;
                if dsse {
                    let inner = self
                        .kms
                        .generate_data_key(&caller, &key_id, &full_context)
                        .await
                        .map_err(kms_error)?;
                    let outer = self
                        .kms
                        .generate_data_key(&caller, &key_id, &full_context)
                        .await
                        .map_err(kms_error)?;
                    let record = EncryptionRecord {
                        scheme: DSSE_KMS.into(),
                        kek_id: inner.key_arn.clone(),
                        wrapped_key: inner.ciphertext_blob,
                        second_key: Some(outer.ciphertext_blob),
                        context: Some(context_json),
                        ..Default::default()
                    };
                    let layers = vec![data_key(&inner.plaintext)?, data_key(&outer.plaintext)?];
                    return super::convert::engine(ObjectKeys::new(layers, record, true));
                }
                if bucket_key == Some(true) {
                    let bk = self
                        .bucket_keys
                        .for_write(&self.kms, &caller, &bucket.name, &key_id)
                        .await
                        .map_err(kms_error)?;
                    let dek = DataKey::generate().map_err(internal)?;
                    let provider = RootKeyProvider::with_key_id(bk.material()?, BUCKET_KEK);
                    let wrapped = provider
                        .wrap(&dek, &wrap_context(&bucket.name, key))
                        .map_err(internal)?;
                    let record = EncryptionRecord {
                        scheme: SSE_KMS.into(),
                        kek_id: bk.key_arn.clone(),
                        wrapped_key: wrapped.0,
                        bucket_key: Some(bk.blob.clone()),
                        context: Some(context_json),
                        ..Default::default()
                    };
                    return super::convert::engine(ObjectKeys::new(vec![dek], record, true));
                }
                let generated = self
                    .kms
                    .generate_data_key(&caller, &key_id, &full_context)
                    .await
                    .map_err(kms_error)?;
                let record = EncryptionRecord {
                    scheme: SSE_KMS.into(),
                    kek_id: generated.key_arn.clone(),
                    wrapped_key: generated.ciphertext_blob,
                    context: Some(context_json),
                    ..Default::default()
                };
                super::convert::engine(ObjectKeys::new(vec![data_key(&generated.plaintext)?], record, true))
            }
        }
    }

    /// The keys of a stored object or upload of `bucket`/`key`. `customer` is
    /// the request's SSE-C key, required exactly for SSE-C objects.
    pub(crate) async fn open_object_keys(
        &self,
        ctx: &RequestContext,
        record: &EncryptionRecord,
        bucket: &str,
        key: &str,
        customer: Option<&CustomerKey>,
    ) -> S3Result<ObjectKeys> {
        check_customer_key(record, customer)?;
        if let (SSE_C, Some(customer)) = (record.scheme.as_str(), customer) {
            let dek = customer
                .provider()?
                .unwrap(&WrappedKey(record.wrapped_key.clone()), &wrap_context(bucket, key))
                .map_err(|_| s3_error!(AccessDenied, "Access Denied"))?;
            return super::convert::engine(ObjectKeys::new(vec![dek], record.clone(), true));
        }
        match record.scheme.as_str() {
            SSE_S3 => super::convert::engine(self.engine.open_sse_s3(record, bucket, key)),
            SSE_KMS | DSSE_KMS => {
                let caller = kms_caller(ctx)?;
                let context: EncryptionContext = match &record.context {
                    Some(json) => serde_json::from_str(json).map_err(internal)?,
                    None => object_context(EncryptionContext::new(), bucket, key),
                };
                if let Some(blob) = &record.bucket_key {
                    let bk = self
                        .bucket_keys
                        .for_read(&self.kms, &caller, bucket, blob)
                        .await
                        .map_err(kms_error)?;
                    let provider = RootKeyProvider::with_key_id(bk.material()?, BUCKET_KEK);
                    let dek = provider
                        .unwrap(&WrappedKey(record.wrapped_key.clone()), &wrap_context(bucket, key))
                        .map_err(internal)?;
                    return super::convert::engine(ObjectKeys::new(vec![dek], record.clone(), true));
                }
                let mut layers = Vec::with_capacity(2);
                let blobs = std::iter::once(&record.wrapped_key).chain(record.second_key.as_ref());
                for blob in blobs {
                    let plain = self.kms.decrypt(&caller, blob, &context).await.map_err(kms_error)?;
                    layers.push(data_key(&plain.plaintext)?);
                }
                super::convert::engine(ObjectKeys::new(layers, record.clone(), true))
            }
            other => Err(internal(format!("unknown encryption scheme {other}"))),
        }
    }
}

/// The request's SSE-C key must be given exactly for SSE-C objects, and be theirs.
pub(crate) fn check_customer_key(record: &EncryptionRecord, customer: Option<&CustomerKey>) -> S3Result<()> {
    match (record.scheme == SSE_C, customer) {
        (false, None) => Ok(()),
        (false, Some(_)) => Err(s3_error!(
            InvalidRequest,
            "The encryption parameters are not applicable to this object."
        )),
        (true, None) => Err(s3_error!(
            InvalidRequest,
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
        )),
        (true, Some(customer)) => {
            let (Some(salt), Some(expected)) = (&record.customer_key_salt, &record.customer_key_hmac) else {
                return Err(internal("SSE-C record without a key fingerprint"));
            };
            let fingerprint = strongbox_crypto::customer_key_fingerprint(salt, &customer.key);
            if strongbox_crypto::ct_eq(&fingerprint, expected) {
                Ok(())
            } else {
                Err(s3_error!(AccessDenied, "Access Denied"))
            }
        }
    }
}

fn data_key(plaintext: &[u8]) -> S3Result<DataKey> {
    DataKey::from_bytes(plaintext).map_err(internal)
}

/// The response headers that describe an object's encryption.
#[derive(Debug, Default)]
pub(crate) struct SseOut {
    pub sse: Option<s3s::dto::ServerSideEncryption>,
    pub kms_key_id: Option<String>,
    pub bucket_key: Option<bool>,
    pub customer_algorithm: Option<String>,
    pub customer_key_md5: Option<String>,
    /// Base64 JSON of the encryption context (SSE-KMS).
    pub context: Option<String>,
}

impl SseOut {
    pub(crate) fn of(record: &EncryptionRecord) -> SseOut {
        match record.scheme.as_str() {
            SSE_C => SseOut {
                customer_algorithm: Some("AES256".into()),
                customer_key_md5: record.customer_key_md5.clone(),
                ..Default::default()
            },
            SSE_KMS | DSSE_KMS => SseOut {
                sse: Some(s3s::dto::ServerSideEncryption::from(record.scheme.clone())),
                kms_key_id: Some(record.kek_id.clone()),
                bucket_key: record.bucket_key.is_some().then_some(true),
                context: record.context.as_ref().map(|c| B64.encode(c)),
                ..Default::default()
            },
            _ => SseOut {
                sse: Some(s3s::dto::ServerSideEncryption::from_static(
                    s3s::dto::ServerSideEncryption::AES256,
                )),
                ..Default::default()
            },
        }
    }
}

/// Copies an [`SseOut`] into an s3s output struct with the usual field names.
macro_rules! set_sse {
    ($out:expr, $sse:expr) => {{
        let s: $crate::s3::sse::SseOut = $sse;
        $out.server_side_encryption = s.sse;
        $out.ssekms_key_id = s.kms_key_id;
        $out.bucket_key_enabled = s.bucket_key;
        $out.sse_customer_algorithm = s.customer_algorithm;
        $out.sse_customer_key_md5 = s.customer_key_md5;
    }};
}
pub(crate) use set_sse;

/// The request's SSE-C key from an input's `sse_customer_*` fields
/// (`copy_source` reads the `copy_source_sse_customer_*` ones).
macro_rules! customer_key {
    ($ctx:expr, $i:expr) => {
        $crate::s3::sse::CustomerKey::from_headers(
            $ctx,
            $i.sse_customer_algorithm.as_deref(),
            $i.sse_customer_key.as_deref(),
            $i.sse_customer_key_md5.as_deref(),
        )
    };
    ($ctx:expr, $i:expr, copy_source) => {
        $crate::s3::sse::CustomerKey::from_headers(
            $ctx,
            $i.copy_source_sse_customer_algorithm.as_deref(),
            $i.copy_source_sse_customer_key.as_deref(),
            $i.copy_source_sse_customer_key_md5.as_deref(),
        )
    };
}
pub(crate) use customer_key;

/// What a write input (PutObject, CopyObject, CreateMultipartUpload) asks for.
macro_rules! requested_sse {
    ($ctx:expr, $i:expr) => {
        $crate::s3::sse::SseHeaders {
            sse: $i.server_side_encryption.as_ref().map(ServerSideEncryption::as_str),
            kms_key_id: $i.ssekms_key_id.as_deref(),
            context: $i.ssekms_encryption_context.as_deref(),
            bucket_key: $i.bucket_key_enabled,
            customer: $crate::s3::sse::customer_key!($ctx, $i)?,
        }
        .requested()
    };
}
pub(crate) use requested_sse;
