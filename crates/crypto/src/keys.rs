//! Key material: per-object data keys and the root key. Both are zeroized on
//! drop and never printed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom as _, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::CryptoError;

/// Length of every symmetric key in this crate (AES-256).
pub const KEY_LEN: usize = 32;

/// A fresh random 256-bit data key for one object (or one multipart upload).
///
/// Zeroized on drop; its `Debug` prints `DataKey(..)`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// Draws a new key from the system random number generator.
    pub fn generate() -> Result<DataKey, CryptoError> {
        let mut key = DataKey([0u8; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// Wraps raw key bytes (an unwrapped key, or a KMS data key's plaintext).
    /// Exactly [`KEY_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<DataKey, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKeyLength(bytes.len()))?;
        Ok(DataKey(array))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// An ETag for an object whose ETag must not reveal the MD5 of its
    /// plaintext (SSE-C, SSE-KMS, as S3): HMAC-SHA256 of the MD5 under a key
    /// derived from this data key, truncated to 16 bytes. Stable for the
    /// object, meaningless without the key.
    pub fn opaque_etag(&self, md5: &[u8; 16]) -> [u8; 16] {
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"strongbox/v1/etag").extract(&self.0);
        let mac_key: Result<ring::hmac::Key, _> = prk
            .expand(&[b"strongbox/v1/etag-mac".as_slice()], ring::hmac::HMAC_SHA256)
            .map(ring::hmac::Key::from);
        let mut out = [0u8; 16];
        if let Ok(key) = mac_key {
            let tag = ring::hmac::sign(&key, md5);
            out.iter_mut().zip(tag.as_ref()).for_each(|(o, t)| *o = *t);
        }
        out
    }
}

/// A salted HMAC-SHA256 of a customer-provided (SSE-C) key: what is stored to
/// recognise the key on later requests; the key itself is never stored.
pub fn customer_key_fingerprint(salt: &[u8], key: &[u8]) -> [u8; 32] {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, salt), key);
    let mut out = [0u8; 32];
    out.iter_mut().zip(tag.as_ref()).for_each(|(o, t)| *o = *t);
    out
}

/// `n` random bytes (salts, nonces).
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; n];
    fill_random(&mut out)?;
    Ok(out)
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The 256-bit root key of the built-in key provider.
///
/// It never encrypts anything itself: every use goes through a key derived
/// from it with HKDF-SHA256 and a purpose label. Zeroized on drop; its `Debug`
/// prints `RootKey(..)`. `Clone` exists so one loaded key can feed both the
/// [`crate::RootKeyProvider`] and [`crate::seal_secret`]; every copy is zeroized.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RootKey([u8; KEY_LEN]);

impl RootKey {
    /// Draws a new root key from the system random number generator.
    pub fn generate() -> Result<RootKey, CryptoError> {
        let mut key = RootKey([0u8; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// A root key from exactly [`KEY_LEN`] raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<RootKey, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKeyLength(bytes.len()))?;
        Ok(RootKey(array))
    }

    /// Standard (padded) base64 of the key, for the 0600 key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0))
    }

    /// Parses [`to_base64`](RootKey::to_base64) output; surrounding whitespace
    /// (a trailing newline in the key file) is ignored.
    pub fn from_base64(s: &str) -> Result<RootKey, CryptoError> {
        let bytes = Zeroizing::new(STANDARD.decode(s.trim()).map_err(|_| CryptoError::BadBase64)?);
        RootKey::from_bytes(&bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(..)")
    }
}

/// Fills `out` from the operating system's random number generator.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new().fill(out).map_err(|_| CryptoError::Random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_bytes() -> Result<(), CryptoError> {
        assert_eq!(format!("{:?}", DataKey::generate()?), "DataKey(..)");
        assert_eq!(format!("{:?}", RootKey::generate()?), "RootKey(..)");
        Ok(())
    }

    #[test]
    fn generated_keys_differ() -> Result<(), CryptoError> {
        assert_ne!(DataKey::generate()?.bytes(), DataKey::generate()?.bytes());
        Ok(())
    }

    #[test]
    fn root_key_base64_round_trips() -> Result<(), CryptoError> {
        let root = RootKey::generate()?;
        let text = format!("  {}\n", root.to_base64().as_str());
        assert_eq!(RootKey::from_base64(&text)?.bytes(), root.bytes());
        Ok(())
    }

    #[test]
    fn root_key_rejects_bad_input() {
        assert_eq!(
            RootKey::from_bytes(&[0u8; 31]).err(),
            Some(CryptoError::BadKeyLength(31))
        );
        assert_eq!(RootKey::from_base64("AAAA").err(), Some(CryptoError::BadKeyLength(3)));
        assert_eq!(RootKey::from_base64("not base64!").err(), Some(CryptoError::BadBase64));
    }
}
