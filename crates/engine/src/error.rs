use strongbox_types::AccountId;

/// S3-level outcomes other than success. The server maps each variant to the
/// AWS error code of the same name; `Internal` becomes InternalError with the
/// cause logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    /// The version asked for is a delete marker: by its id (`by_version`,
    /// S3's 405) or as the key's latest version (S3's 404 NoSuchKey).
    #[error("delete marker {version_id}")]
    DeleteMarker { version_id: String, by_version: bool },
    #[error("The requested bucket name is not available.")]
    BucketAlreadyExists(AccountId),
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty,
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload,
    #[error(
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    )]
    InvalidPart,
    #[error("The list of parts was not in ascending order. The parts list must be specified in order by part number.")]
    InvalidPartOrder,
    #[error("Your proposed upload is smaller than the minimum allowed object size.")]
    EntityTooSmall,
    #[error("Your proposed upload exceeds the maximum allowed object size.")]
    EntityTooLarge,
    #[error("The requested range is not satisfiable")]
    InvalidRange,
    #[error("{0}")]
    BadDigest(String),
    #[error("The XML you provided was not well-formed or did not validate against our published schema")]
    MalformedXml,
    #[error("The TagSet does not exist")]
    NoSuchTagSet,
    /// Object Lock (retention or legal hold) keeps the version as it is:
    /// AWS's 403 AccessDenied with this message.
    #[error("Access Denied because object protected by object lock.")]
    ObjectLocked,
    #[error("{0}")]
    InvalidBucketState(String),
    #[error("Object Lock configuration does not exist for this bucket")]
    ObjectLockConfigurationNotFound,
    #[error("The specified object does not have a ObjectLock configuration")]
    NoSuchObjectLockConfiguration,
    #[error("The public access block configuration was not found")]
    NoSuchPublicAccessBlockConfiguration,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidTag(String),
    #[error("Your metadata headers exceed the maximum allowed metadata size")]
    MetadataTooLarge,
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    #[error("Not Modified")]
    NotModified,
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    /// The request body failed mid-stream (a bad chunk signature, a size
    /// limit, a dropped connection); carries the transport's error.
    #[error("request body could not be read: {0}")]
    Body(BoxError),
    /// The data directory's file system is full: nothing was stored.
    /// Carries the cause for the log.
    #[error("storage full: {0}")]
    StorageFull(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A boxed error from the body stream.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub type Result<T> = std::result::Result<T, EngineError>;

impl From<strongbox_meta::MetaError> for EngineError {
    fn from(e: strongbox_meta::MetaError) -> Self {
        if e.is_storage_full() {
            Self::StorageFull(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<strongbox_blob::BlobError> for EngineError {
    fn from(e: strongbox_blob::BlobError) -> Self {
        if e.is_storage_full() {
            Self::StorageFull(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<strongbox_crypto::CryptoError> for EngineError {
    fn from(e: strongbox_crypto::CryptoError) -> Self {
        Self::Internal(format!("encryption: {e}"))
    }
}
