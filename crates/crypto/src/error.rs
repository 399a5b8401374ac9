//! The crate's one error type.

/// Everything that can go wrong while encrypting, decrypting or handling keys.
///
/// No variant carries key material or plaintext.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The system random number generator failed.
    #[error("system random number generator failed")]
    Random,
    /// The blob header has the wrong length or magic bytes.
    #[error("blob header is malformed")]
    BadHeader,
    /// A blob header, wrapped key or sealed secret has a format version this
    /// build does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// The blob header names an algorithm this build does not know.
    #[error("unsupported encryption algorithm {0}")]
    UnsupportedAlgorithm(u8),
    /// The blob header records a chunk size other than [`crate::CHUNK_SIZE`].
    #[error("unsupported chunk size {0}")]
    UnsupportedChunkSize(u32),
    /// A chunk's tag did not verify: the blob was corrupted or tampered with,
    /// or the key, identity, index or final flag is not the one it was sealed with.
    #[error("chunk failed authentication")]
    Authentication,
    /// The number of data keys given does not match the blob's layers.
    #[error("{keys} data keys given for a blob of {layers} encryption layers")]
    LayerCount { keys: usize, layers: usize },
    /// A chunk index beyond what the nonce construction allows.
    #[error("too many chunks: the format allows at most {} per blob", crate::MAX_CHUNKS)]
    TooManyChunks,
    /// A chunk buffer whose length the format does not allow at this position.
    #[error("chunk {index} has invalid length {len}")]
    ChunkLength {
        /// The chunk index.
        index: u64,
        /// The offending buffer length.
        len: usize,
    },
    /// `seal_next` was called after the final chunk was sealed.
    #[error("the final chunk was already sealed")]
    SealerFinished,
    /// A key was not exactly [`crate::KEY_LEN`] bytes long.
    #[error("key must be {expected} bytes, got {0}", expected = crate::KEY_LEN)]
    BadKeyLength(usize),
    /// A root key file did not contain valid base64.
    #[error("root key is not valid base64")]
    BadBase64,
    /// A wrapped key is truncated or otherwise malformed.
    #[error("wrapped key is malformed")]
    BadWrappedKey,
    /// A wrapped key was produced by a different key-encryption key.
    #[error("wrapped key belongs to key {found:?}, this provider is {expected:?}")]
    WrongKeyId {
        /// The provider's key id.
        expected: String,
        /// The key id recorded in the wrapped key.
        found: String,
    },
    /// A wrapped key's tag did not verify (wrong key or wrong context).
    #[error("wrapped key failed authentication")]
    UnwrapFailed,
    /// A sealed secret is truncated or otherwise malformed.
    #[error("sealed secret is malformed")]
    BadSealedSecret,
    /// A sealed secret's tag did not verify (wrong root key or wrong purpose).
    #[error("sealed secret failed authentication")]
    SecretAuthentication,
}
