//! Why a request's signature was not accepted. Each variant maps to one AWS
//! error code at the protocol edge; the messages never contain secrets.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header (AWS: MissingAuthenticationToken).
    #[error("Request is missing Authentication Token")]
    MissingAuthorization,
    /// Not `AWS4-HMAC-SHA256` (AWS: IncompleteSignature).
    #[error("Unsupported AWS 'algorithm': {0}")]
    UnsupportedAlgorithm(String),
    /// The header does not have SigV4's shape (AWS: IncompleteSignature).
    #[error("{0}")]
    MalformedAuthorization(String),
    /// No `x-amz-date` header (AWS: IncompleteSignature).
    #[error("Authorization header requires existence of a 'X-Amz-Date' header.")]
    MissingDate,
    #[error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")]
    MalformedDate,
    /// The credential scope's date is not the date of `x-amz-date`.
    #[error("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP")]
    ScopeDateMismatch,
    /// The request was signed more than [`crate::MAX_SKEW`] before or after now.
    #[error("{0}")]
    TimeSkewed(String),
    /// A header listed in SignedHeaders is not in the request.
    #[error("The request signature is missing signed header '{0}'")]
    MissingSignedHeader(String),
    /// `x-amz-content-sha256` is not the SHA-256 of the body.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureMismatch,
    /// Signing could not build a header (a value that is not a valid header).
    #[error("cannot sign: {0}")]
    Signing(String),
}

impl SigV4Error {
    pub(crate) fn malformed(what: &str) -> Self {
        SigV4Error::MalformedAuthorization(what.to_owned())
    }
}
