//! Keys derived from the root key with HKDF-SHA256 (RFC 5869).
//!
//! The root key is only ever HKDF input keying material: it never encrypts
//! or authenticates anything itself. Each use has its own `info` label.

use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Prk, Salt};

use crate::RootKey;

/// HKDF salt for every root-key derivation. DO NOT CHANGE: on-disk format.
const SALT: &[u8] = b"strongbox/v1/root-key-hkdf-salt";
/// HKDF info of the key that wraps data keys. DO NOT CHANGE: on-disk format.
pub(crate) const DATA_KEY_WRAP_INFO: &[u8] = b"strongbox/v1/kek/data-key-wrap";
/// HKDF info of the key that seals small secrets. DO NOT CHANGE: on-disk format.
pub(crate) const SECRET_SEAL_INFO: &[u8] = b"strongbox/v1/kek/secret-seal";
/// HKDF info of the key temporary (STS) secrets are derived with. Changing
/// it only ends the sessions issued so far.
pub(crate) const SESSION_SECRET_INFO: &[u8] = b"strongbox/v1/sts/session-secret";
/// HKDF info of the public root key fingerprint. DO NOT CHANGE: on-disk format.
const KEY_ID_INFO: &[u8] = b"strongbox/v1/key-id";
/// Bytes of the fingerprint in a root key id.
const KEY_ID_FINGERPRINT_LEN: usize = 8;

/// An AES-256-GCM key derived from the root key for one purpose.
pub(crate) fn derive_aead_key(root: &RootKey, info: &'static [u8]) -> LessSafeKey {
    let prk = extract(root);
    let info = [info];
    #[expect(clippy::expect_used, reason = "cannot fail, see INVARIANT")]
    // INVARIANT: HKDF-SHA256 fails only above 255 * 32 bytes of output; an AES-256 key is 32.
    let okm = prk
        .expand(&info, &AES_256_GCM)
        .expect("HKDF-SHA256 yields a 32-byte key");
    LessSafeKey::new(UnboundKey::from(okm))
}

/// An HMAC-SHA256 key derived from the root key for one purpose.
pub(crate) fn derive_hmac_key(root: &RootKey, info: &'static [u8]) -> ring::hmac::Key {
    let prk = extract(root);
    let info = [info];
    #[expect(clippy::expect_used, reason = "cannot fail, see INVARIANT")]
    // INVARIANT: HKDF-SHA256 fails only above 255 * 32 bytes of output; an HMAC-SHA256 key is 32.
    let okm = prk
        .expand(&info, ring::hmac::HMAC_SHA256)
        .expect("HKDF-SHA256 yields a 32-byte key");
    ring::hmac::Key::from(okm)
}

/// The root key's public id: `"root-"` and 16 lowercase hex digits of an
/// HKDF-derived fingerprint. It identifies the key without revealing it.
pub(crate) fn root_key_id(root: &RootKey) -> String {
    let prk = extract(root);
    let info = [KEY_ID_INFO];
    let mut fingerprint = [0u8; KEY_ID_FINGERPRINT_LEN];
    let filled = prk
        .expand(&info, OutLen(KEY_ID_FINGERPRINT_LEN))
        .and_then(|okm| okm.fill(&mut fingerprint));
    #[expect(clippy::expect_used, reason = "cannot fail, see INVARIANT")]
    // INVARIANT: 8 bytes of output is far below the HKDF-SHA256 limit, and
    // `fingerprint` has exactly the requested length.
    let () = filled.expect("HKDF-SHA256 yields an 8-byte fingerprint");
    let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    format!("root-{hex}")
}

fn extract(root: &RootKey) -> Prk {
    Salt::new(HKDF_SHA256, SALT).extract(root.bytes())
}

/// An HKDF output length that is not tied to an algorithm.
struct OutLen(usize);

impl KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::root_key_id;
    use crate::{CryptoError, RootKey};

    #[test]
    fn key_id_is_stable_and_distinct() -> Result<(), CryptoError> {
        let zero = RootKey::from_bytes(&[0u8; 32])?;
        let id = root_key_id(&zero);
        assert_eq!(id, root_key_id(&RootKey::from_bytes(&[0u8; 32])?));
        assert_eq!(id.len(), 5 + 16);
        assert!(id.starts_with("root-"));
        assert_ne!(id, root_key_id(&RootKey::from_bytes(&[1u8; 32])?));
        Ok(())
    }
}
