//! Who is calling: SigV4 authentication (credential scope service `kms`)
//! of a long-term key or STS temporary credentials (with their session
//! token), resolved by `strongbox-identity` as for every other protocol,
//! with AWS KMS's error codes. The result is the [`KmsCaller`] every
//! operation is authorized and audited with.
use crate::{Kms, KmsCaller, KmsError, KmsRequest};
use std::time::SystemTime;
use strongbox_identity::{IdentityError, Resolver, SignedError, add_principal_keys, authenticate_signed, now_ms};
use strongbox_sigv4::{Request, SigV4Error};

/// Verifies the request's signature and returns who signed it.
pub(crate) async fn authenticate(kms: &Kms, req: &KmsRequest<'_>) -> Result<KmsCaller, KmsError> {
    let resolver = Resolver::new(kms.inner.meta.clone(), kms.inner.root_key.clone());
    let parts = Request {
        method: req.method,
        uri: req.uri,
        headers: req.headers,
    };
    let signed = authenticate_signed(&resolver, &parts, req.body, "kms", SystemTime::now())
        .await
        .map_err(|e| match e {
            SignedError::MissingAuthorization => KmsError::MissingAuthenticationToken,
            SignedError::NotAscii => KmsError::IncompleteSignature(e.to_string()),
            SignedError::WrongService { .. } => KmsError::InvalidSignature(e.to_string()),
            SignedError::Signature(s) => signature_error(s),
            SignedError::Identity(i) => identity_error(i),
        })?;
    let identity = signed.caller;
    let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let account = identity
        .principal
        .account()
        .cloned()
        .ok_or_else(|| KmsError::internal("an authenticated caller without an account"))?;
    let mut context = req.context.clone();
    add_principal_keys(&identity, now_ms(), &mut context);
    Ok(KmsCaller {
        account,
        identity,
        access_key_id: Some(signed.access_key),
        source_ip: req.context.get("aws:SourceIp").and_then(|v| v.first()).cloned(),
        user_agent: header("user-agent"),
        request_id: req.request_id.to_owned(),
        via_service: None,
        context,
    })
}

fn identity_error(e: IdentityError) -> KmsError {
    match e {
        IdentityError::UnknownAccessKey | IdentityError::InvalidToken => KmsError::UnrecognizedClient,
        IdentityError::ExpiredToken => KmsError::ExpiredToken,
        IdentityError::Meta(m) => KmsError::internal(m),
        IdentityError::Internal(m) => KmsError::internal(m),
    }
}

fn signature_error(e: SigV4Error) -> KmsError {
    match e {
        SigV4Error::MissingAuthorization => KmsError::MissingAuthenticationToken,
        SigV4Error::UnsupportedAlgorithm(_)
        | SigV4Error::MalformedAuthorization(_)
        | SigV4Error::MissingDate
        | SigV4Error::MalformedDate => KmsError::IncompleteSignature(e.to_string()),
        SigV4Error::ScopeDateMismatch
        | SigV4Error::TimeSkewed(_)
        | SigV4Error::MissingSignedHeader(_)
        | SigV4Error::PayloadHashMismatch
        | SigV4Error::SignatureMismatch => KmsError::InvalidSignature(e.to_string()),
        SigV4Error::Signing(m) => KmsError::internal(m),
    }
}
