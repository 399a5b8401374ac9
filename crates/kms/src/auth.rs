//! Who is calling: SigV4 authentication (credential scope service `kms`)
//! against the stored, sealed secret of the access key, as the IAM endpoint
//! does it, with AWS KMS's error codes. The result is the [`KmsCaller`] every
//! operation is authorized and audited with.
use crate::{Kms, KmsCaller, KmsError, KmsRequest};
use std::time::SystemTime;
use strongbox_meta::CREDENTIAL_PURPOSE;
use strongbox_sigv4::{Request, SigV4Error, parse_authorization, verify_parsed};

/// Verifies the request's signature and returns who signed it.
pub(crate) async fn authenticate(kms: &Kms, req: &KmsRequest<'_>) -> Result<KmsCaller, KmsError> {
    if req.headers.contains_key("x-amz-security-token") {
        // No temporary credentials are issued, so no session token can be valid.
        return Err(KmsError::UnrecognizedClient);
    }
    let Some(value) = req.headers.get(http::header::AUTHORIZATION) else {
        return Err(KmsError::MissingAuthenticationToken);
    };
    let value = value
        .to_str()
        .map_err(|_| KmsError::IncompleteSignature("The Authorization header is not ASCII.".into()))?;
    let auth = parse_authorization(value).map_err(signature_error)?;
    if auth.service != "kms" {
        return Err(KmsError::InvalidSignature(format!(
            "Credential should be scoped to correct service: 'kms'. Found '{}'.",
            auth.service
        )));
    }
    let meta = &kms.inner.meta;
    let cred = meta
        .get_credential(&auth.access_key)
        .await?
        .filter(|c| c.active)
        .ok_or(KmsError::UnrecognizedClient)?;
    let secret = strongbox_crypto::open_secret(&kms.inner.root_key, CREDENTIAL_PURPOSE, &cred.secret_sealed)
        .map_err(|e| KmsError::internal(format!("opening the secret of {}: {e}", cred.access_key)))?;
    let parts = Request {
        method: req.method,
        uri: req.uri,
        headers: req.headers,
    };
    verify_parsed(&parts, &auth, req.body, &secret, SystemTime::now()).map_err(signature_error)?;
    let user = match &cred.user_name {
        None => None,
        Some(name) => Some(
            meta.get_user(cred.account_id.as_str(), name)
                .await?
                // The user is gone (a key cannot outlive its user, but a race can get here).
                .ok_or(KmsError::UnrecognizedClient)?,
        ),
    };
    let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(KmsCaller {
        account: cred.account_id,
        user,
        access_key_id: Some(cred.access_key),
        source_ip: req.context.get("aws:SourceIp").and_then(|v| v.first()).cloned(),
        user_agent: header("user-agent"),
        request_id: req.request_id.to_owned(),
        via_service: None,
        context: req.context.clone(),
    })
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
