//! SigV4 header authentication for the protocols Strongbox verifies itself
//! (everything but the S3 data path, which s3s verifies): the signature
//! against the access key's secret, then the caller it establishes. Each
//! protocol maps [`SignedError`] to its own error codes.
use crate::{Caller, IdentityError, Resolver, now_ms};
use std::time::SystemTime;
use strongbox_sigv4::{Request, SigV4Error, parse_authorization, verify_parsed};

/// Why a signed request did not establish a caller.
#[derive(Debug, thiserror::Error)]
pub enum SignedError {
    #[error("the request carries no Authorization header")]
    MissingAuthorization,
    #[error("The Authorization header is not ASCII.")]
    NotAscii,
    #[error("Credential should be scoped to correct service: '{expected}'. Found '{found}'.")]
    WrongService { expected: String, found: String },
    #[error(transparent)]
    Signature(#[from] SigV4Error),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// An authenticated caller and the access key that signed.
#[derive(Debug, Clone)]
pub struct Signed {
    pub caller: Caller,
    pub access_key: String,
}

/// Verifies the SigV4 `Authorization` header of `req` (credential scope
/// `service`) over `body`, then resolves the caller, with the session token
/// of temporary credentials from `x-amz-security-token`.
pub async fn authenticate_signed(
    resolver: &Resolver,
    req: &Request<'_>,
    body: &[u8],
    service: &str,
    now: SystemTime,
) -> Result<Signed, SignedError> {
    let value = req
        .headers
        .get(http::header::AUTHORIZATION)
        .ok_or(SignedError::MissingAuthorization)?
        .to_str()
        .map_err(|_| SignedError::NotAscii)?;
    let auth = parse_authorization(value)?;
    if auth.service != service {
        return Err(SignedError::WrongService {
            expected: service.to_owned(),
            found: auth.service,
        });
    }
    let secret = resolver.secret(&auth.access_key).await?;
    verify_parsed(req, &auth, body, &secret, now)?;
    let token = req
        .headers
        .get("x-amz-security-token")
        .map(|v| v.to_str().map_err(|_| IdentityError::InvalidToken))
        .transpose()?;
    let caller = resolver.caller(&auth.access_key, token, now_ms()).await?;
    Ok(Signed {
        caller,
        access_key: auth.access_key,
    })
}
