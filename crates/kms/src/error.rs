//! KMS errors: one variant per AWS error code this endpoint returns, each
//! with AWS's `__type`, HTTP status and wording (AWS KMS answers every client
//! error, access denied included, with 400).
use http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    /// AWS sends this one without a message.
    #[error("")]
    InvalidCiphertext,
    #[error("The key ID in the request does not identify a CMK that can perform this operation.")]
    IncorrectKey,
    #[error("{0}")]
    AccessDenied(String),
    #[error("You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.")]
    Throttling,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Tag(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// An internal failure; the cause is logged and never sent.
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    Internal(String),
}

impl KmsError {
    /// AWS's error code, the JSON `__type` and `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::InvalidCiphertext => "InvalidCiphertextException",
            KmsError::IncorrectKey => "IncorrectKeyException",
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::Throttling => "ThrottlingException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::NotAuthorized(_) => "NotAuthorizedException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::Tag(_) => "TagException",
            KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::UnknownOperation(_) => "UnknownOperationException",
            KmsError::Serialization(_) => "SerializationException",
            KmsError::UnrecognizedClient => "UnrecognizedClientException",
            KmsError::ExpiredToken => "ExpiredTokenException",
            KmsError::InvalidSignature(_) => "InvalidSignatureException",
            KmsError::IncompleteSignature(_) => "IncompleteSignatureException",
            KmsError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            KmsError::Internal(_) => "KMSInternalException",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            KmsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message sent to the client (empty for InvalidCiphertextException).
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        KmsError::Internal(cause.to_string())
    }

    /// AWS's wording for a parameter that breaks a constraint.
    pub(crate) fn invalid(field: &str, value: Option<&str>, constraint: &str) -> Self {
        let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
        KmsError::Validation(format!(
            "1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// A required parameter is missing.
    pub(crate) fn missing(field: &str) -> Self {
        Self::invalid(field, None, "Member must not be null")
    }
}

impl From<strongbox_meta::MetaError> for KmsError {
    fn from(e: strongbox_meta::MetaError) -> Self {
        KmsError::internal(e)
    }
}
