//! Small secrets (IAM secret access keys) sealed under the root key.
//!
//! Layout (version 1): `version (1) || nonce (12) || ciphertext || tag (16)`.
//! The key is derived from the root key with HKDF-SHA256 (info
//! `strongbox/v1/kek/secret-seal`); the associated data is the version byte
//! followed by the purpose label.

use ring::aead::{Aad, NONCE_LEN, Nonce};
use zeroize::Zeroizing;

use crate::format::TAG_LEN;
use crate::kdf::{SECRET_SEAL_INFO, derive_aead_key};
use crate::keys::fill_random;
use crate::{CryptoError, RootKey};

/// Version byte of a sealed secret. DO NOT CHANGE: on-disk format.
pub const SEALED_SECRET_VERSION: u8 = 1;

/// Seals `plaintext` under the root key; `purpose` (e.g. `"iam/secret-access-key"`)
/// must be given again to open it.
pub fn seal_secret(root: &RootKey, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = derive_aead_key(root, SECRET_SEAL_INFO);
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    // Room for the tag up front: a reallocation would free an unzeroized copy of the secret.
    let mut sealed = Vec::with_capacity(plaintext.len() + TAG_LEN);
    sealed.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(purpose), &mut sealed)
        .map_err(|_| CryptoError::BadSealedSecret)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(SEALED_SECRET_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a secret sealed by [`seal_secret`] with the same root key and purpose.
pub fn open_secret(root: &RootKey, purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&version, rest) = sealed.split_first().ok_or(CryptoError::BadSealedSecret)?;
    if version != SEALED_SECRET_VERSION {
        return Err(CryptoError::UnsupportedVersion(version));
    }
    let (nonce, ciphertext) = rest.split_at_checked(NONCE_LEN).ok_or(CryptoError::BadSealedSecret)?;
    if ciphertext.len() < TAG_LEN {
        return Err(CryptoError::BadSealedSecret);
    }
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::BadSealedSecret)?;
    let key = derive_aead_key(root, SECRET_SEAL_INFO);
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let plain_len = key
        .open_in_place(nonce, aad(purpose), buf.as_mut_slice())
        .map_err(|_| CryptoError::SecretAuthentication)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

fn aad(purpose: &str) -> Aad<Vec<u8>> {
    Aad::from([&[SEALED_SECRET_VERSION], purpose.as_bytes()].concat())
}
