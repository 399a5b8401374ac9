//! Secrets of temporary (STS) credentials. The secret access key of an
//! `ASIA…` key id is an HMAC of the id under a key derived from the root key,
//! so every node can recompute it from the id alone (S3 signature checks
//! only ever see the key id) and nothing secret is stored per session.
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::RootKey;
use crate::kdf::{SESSION_SECRET_INFO, derive_hmac_key};

/// The 40-character secret access key of the temporary key id `access_key_id`.
pub fn session_secret(root: &RootKey, access_key_id: &str) -> Zeroizing<String> {
    let key = derive_hmac_key(root, SESSION_SECRET_INFO);
    let tag = ring::hmac::sign(&key, access_key_id.as_bytes());
    // 30 bytes of base64 are exactly 40 characters, the length of AWS secrets.
    let bytes = tag.as_ref().get(..30).unwrap_or_default();
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_depend_on_key_id_and_root_key() {
        let a = RootKey::from_bytes(&[7u8; 32]).unwrap();
        let b = RootKey::from_bytes(&[8u8; 32]).unwrap();
        let s = session_secret(&a, "ASIAAAAAAAAAAAAAAAAA");
        assert_eq!(s.len(), 40);
        assert_eq!(*s, *session_secret(&a, "ASIAAAAAAAAAAAAAAAAA"));
        assert_ne!(*s, *session_secret(&a, "ASIAAAAAAAAAAAAAAAAB"));
        assert_ne!(*s, *session_secret(&b, "ASIAAAAAAAAAAAAAAAAA"));
    }
}
