//! Strongbox's encryption at rest: the encrypted object (blob) format, the
//! key hierarchy and the built-in key provider.
//!
//! This crate owns:
//! - the blob format: a fixed header followed by AES-256-GCM sealed chunks of
//!   [`CHUNK_SIZE`] plaintext bytes ([`ChunkSealer`], [`ChunkOpener`]) and the
//!   layout arithmetic that maps plaintext ranges to chunks ([`chunks_for_range`]);
//! - the key hierarchy: a per-object [`DataKey`] wrapped by a key-encryption
//!   key behind the [`KeyProvider`] trait, with the built-in
//!   [`RootKeyProvider`] deriving its wrapping key from a [`RootKey`];
//! - sealing small secrets (IAM secret access keys) under the root key
//!   ([`seal_secret`], [`open_secret`]) and constant-time comparison ([`ct_eq`]).
//!
//! It does not own storage or I/O of any kind: it never reads or writes files
//! (the root key file and blob files belong to the CLI and the blob store), it
//! has no async runtime and no network client (a KMS provider will implement
//! [`KeyProvider`] elsewhere). Callers move bytes; this crate only transforms
//! and authenticates them.
//!
//! The byte-level specification lives in `docs/design/encryption-format.md`.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod chunk;
mod error;
mod format;
mod identity;
mod kdf;
mod keys;
#[cfg(test)]
mod known_answers;
mod provider;
mod secret;
mod session;
mod totp;

pub use chunk::{ChunkOpener, ChunkSealer};
pub use error::CryptoError;
pub use format::{
    ALGORITHM_AES_256_GCM, ALGORITHM_AES_256_GCM_DSSE, CHUNK_SIZE, FORMAT_VERSION, HEADER_LEN, Layout, MAGIC,
    MAX_CHUNKS, SEALED_CHUNK_LEN, TAG_LEN, blob_len, chunk_count, chunk_file_offset, chunk_plain_len, chunk_sealed_len,
    chunks_for_range, header_layout, plain_len_for_blob_len,
};
pub use identity::ObjectIdentity;
pub use keys::{DataKey, KEY_LEN, RootKey, customer_key_fingerprint, random_bytes};
pub use provider::{KeyProvider, RootKeyProvider, WRAPPED_KEY_VERSION, WrappedKey};
pub use secret::{SEALED_SECRET_VERSION, open_secret, seal_secret};
pub use session::session_secret;
pub use totp::{
    TOTP_DIGITS, TOTP_SEED_LEN, TOTP_STEP_SECONDS, base32_decode, base32_encode, hotp, totp_step, verify_totp,
};

/// Constant-time equality for secrets, MACs and signatures.
///
/// The running time depends on the lengths of `a` and `b` but not on their
/// contents; slices of different lengths are unequal.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn ct_eq_compares_contents_and_lengths() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"secret", b"secret"));
        assert!(!ct_eq(b"secret", b"secreT"));
        assert!(!ct_eq(b"secret", b"secret!"));
    }
}
