//! Key-encryption-key providers and the wrapped data key format.

use std::fmt;

use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use zeroize::Zeroizing;

use crate::format::TAG_LEN;
use crate::kdf::{DATA_KEY_WRAP_INFO, derive_aead_key, root_key_id};
use crate::keys::{KEY_LEN, fill_random};
use crate::{CryptoError, DataKey, RootKey};

/// Version byte of the [`WrappedKey`] layout. DO NOT CHANGE: on-disk format.
pub const WRAPPED_KEY_VERSION: u8 = 1;

/// A data key wrapped by a key-encryption key.
///
/// Layout (version 1): `version (1) || key id length n (1) || key id (n,
/// UTF-8) || nonce (12) || encrypted data key (32) || tag (16)`.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);

impl WrappedKey {
    /// The id of the key-encryption key that wrapped this key, so a caller
    /// holding several providers can pick the right one.
    pub fn key_id(&self) -> Result<&str, CryptoError> {
        Ok(WrappedParts::parse(&self.0)?.key_id)
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bytes are ciphertext, but there is nothing to learn from them in a log.
        f.debug_struct("WrappedKey")
            .field("key_id", &self.key_id().unwrap_or("<malformed>"))
            .finish_non_exhaustive()
    }
}

/// A key-encryption-key provider: wraps and unwraps data keys.
///
/// The built-in implementation is [`RootKeyProvider`]; KMS and
/// customer-supplied-key providers implement the same trait.
pub trait KeyProvider: Send + Sync {
    /// A stable public id of the key-encryption key, recorded in every
    /// [`WrappedKey`] it produces.
    fn key_id(&self) -> &str;
    /// Wraps `key`, binding `context` (e.g. the object identity digest) as
    /// associated data.
    fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<WrappedKey, CryptoError>;
    /// Unwraps a key produced by [`wrap`](KeyProvider::wrap) with the same context.
    fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, CryptoError>;
}

/// The built-in provider: wraps data keys under a key derived from the root
/// key with HKDF-SHA256 (info `strongbox/v1/kek/data-key-wrap`).
pub struct RootKeyProvider {
    wrap_key: LessSafeKey,
    key_id: String,
}

impl RootKeyProvider {
    /// Derives the wrapping key and key id; the root key itself is dropped
    /// (and zeroized) here.
    pub fn new(root: RootKey) -> Self {
        let key_id = root_key_id(&root);
        RootKeyProvider::with_key_id(root, key_id)
    }

    /// A provider whose wrapping key is derived, the same way, from other key
    /// material at the top of one object's hierarchy: a customer-provided
    /// (SSE-C) key or an S3 Bucket Key, under a fixed public id.
    pub fn with_key_id(root: RootKey, key_id: impl Into<String>) -> Self {
        RootKeyProvider {
            wrap_key: derive_aead_key(&root, DATA_KEY_WRAP_INFO),
            key_id: key_id.into(),
        }
    }
}

impl fmt::Debug for RootKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKeyProvider")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KeyProvider for RootKeyProvider {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<WrappedKey, CryptoError> {
        let id = self.key_id.as_bytes();
        let id_len = u8::try_from(id.len()).map_err(|_| CryptoError::BadWrappedKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + KEY_LEN + TAG_LEN);
        out.extend_from_slice(&[WRAPPED_KEY_VERSION, id_len]);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        let aad = [out.as_slice(), context].concat();
        // Room for the tag up front: a reallocation would free an unzeroized copy of the key.
        let mut sealed = Vec::with_capacity(KEY_LEN + TAG_LEN);
        sealed.extend_from_slice(key.bytes());
        self.wrap_key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut sealed)
            .map_err(|_| CryptoError::BadWrappedKey)?;
        out.extend_from_slice(&sealed);
        Ok(WrappedKey(out))
    }

    fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, CryptoError> {
        let parts = WrappedParts::parse(&wrapped.0)?;
        if parts.key_id != self.key_id {
            return Err(CryptoError::WrongKeyId {
                expected: self.key_id.clone(),
                found: parts.key_id.to_owned(),
            });
        }
        let aad = [parts.authenticated_prefix, context].concat();
        let mut buf = Zeroizing::new(parts.sealed.to_vec());
        let plain = self
            .wrap_key
            .open_in_place(parts.nonce, Aad::from(aad), buf.as_mut_slice())
            .map_err(|_| CryptoError::UnwrapFailed)?;
        DataKey::from_bytes(plain)
    }
}

/// The fields of a version-1 wrapped key, borrowed from its bytes.
struct WrappedParts<'a> {
    /// version, key id length, key id and nonce: the AAD prefix.
    authenticated_prefix: &'a [u8],
    key_id: &'a str,
    nonce: Nonce,
    /// Encrypted data key and tag.
    sealed: &'a [u8],
}

impl<'a> WrappedParts<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, CryptoError> {
        let (&version, rest) = bytes.split_first().ok_or(CryptoError::BadWrappedKey)?;
        if version != WRAPPED_KEY_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let (&id_len, rest) = rest.split_first().ok_or(CryptoError::BadWrappedKey)?;
        let (id, rest) = rest
            .split_at_checked(usize::from(id_len))
            .ok_or(CryptoError::BadWrappedKey)?;
        let (nonce, sealed) = rest.split_at_checked(NONCE_LEN).ok_or(CryptoError::BadWrappedKey)?;
        if sealed.len() != KEY_LEN + TAG_LEN {
            return Err(CryptoError::BadWrappedKey);
        }
        let key_id = std::str::from_utf8(id).map_err(|_| CryptoError::BadWrappedKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::BadWrappedKey)?;
        let prefix_len = bytes.len() - sealed.len();
        let authenticated_prefix = bytes.get(..prefix_len).ok_or(CryptoError::BadWrappedKey)?;
        Ok(WrappedParts {
            authenticated_prefix,
            key_id,
            nonce,
            sealed,
        })
    }
}
