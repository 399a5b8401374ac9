//! The ciphertext blob that Encrypt and GenerateDataKey return and Decrypt
//! takes, specified byte by byte in docs/design/kms.md:
//!
//! ```text
//! version (1) = 0x01 | key id (16, the UUID's bytes) | material version (4, big-endian)
//! | nonce (12) | AES-256-GCM ciphertext | tag (16)
//! ```
//!
//! The associated data is the 21-byte header (version, key id, material
//! version) followed by the canonical encoding of the encryption context:
//! the pair count, then each pair sorted by key (byte order), key and value
//! each as a 4-byte big-endian length and the UTF-8 bytes. So a blob opens
//! only with the exact context it was sealed with, under the key and material
//! version its header names, and any changed byte fails authentication.
//! Parsing never panics on arbitrary input.
use crate::EncryptionContext;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// First byte of every blob. DO NOT CHANGE: stored ciphertexts would no longer open.
pub const CIPHERTEXT_VERSION: u8 = 1;
/// Version, key id, material version.
pub const HEADER_LEN: usize = 1 + 16 + 4;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// The shortest blob (empty plaintext).
pub const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Length of the key material (AES-256).
pub const MATERIAL_LEN: usize = 32;

/// Why a blob does not open. Callers answer every case with InvalidCiphertextException.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CiphertextError {
    #[error("the blob is shorter than {MIN_LEN} bytes")]
    TooShort,
    #[error("unknown ciphertext version {0}")]
    UnknownVersion(u8),
    #[error("authentication failed: wrong key, material, encryption context or a modified blob")]
    Authentication,
    #[error("the system random number generator failed")]
    Random,
}

/// What the header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub key_id: [u8; 16],
    pub material_version: u32,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (version, rest) = out.split_at_mut(1);
        let (key, material) = rest.split_at_mut(16);
        version.copy_from_slice(&[CIPHERTEXT_VERSION]);
        key.copy_from_slice(&self.key_id);
        material.copy_from_slice(&self.material_version.to_be_bytes());
        out
    }
}

/// A blob split into its parts (nothing is authenticated yet).
#[derive(Debug, Clone, Copy)]
pub struct Parsed<'a> {
    pub header: Header,
    header_bytes: &'a [u8],
    nonce: &'a [u8],
    sealed: &'a [u8],
}

/// Splits `blob` into header, nonce and sealed bytes.
pub fn parse(blob: &[u8]) -> Result<Parsed<'_>, CiphertextError> {
    if blob.len() < MIN_LEN {
        return Err(CiphertextError::TooShort);
    }
    let (header_bytes, rest) = blob.split_at_checked(HEADER_LEN).ok_or(CiphertextError::TooShort)?;
    let (nonce, sealed) = rest.split_at_checked(NONCE_LEN).ok_or(CiphertextError::TooShort)?;
    let (&version, after_version) = header_bytes.split_first().ok_or(CiphertextError::TooShort)?;
    if version != CIPHERTEXT_VERSION {
        return Err(CiphertextError::UnknownVersion(version));
    }
    let (key, material) = after_version.split_at_checked(16).ok_or(CiphertextError::TooShort)?;
    let key_id: [u8; 16] = key.try_into().map_err(|_| CiphertextError::TooShort)?;
    let material: [u8; 4] = material.try_into().map_err(|_| CiphertextError::TooShort)?;
    Ok(Parsed {
        header: Header {
            key_id,
            material_version: u32::from_be_bytes(material),
        },
        header_bytes,
        nonce,
        sealed,
    })
}

/// Encrypts `plaintext` under `material` with a fresh random nonce.
pub fn seal(
    material: &[u8; MATERIAL_LEN],
    header: Header,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, CiphertextError> {
    let key = aead_key(material)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CiphertextError::Random)?;
    let header_bytes = header.encode();
    let mut out = Vec::with_capacity(MIN_LEN + plaintext.len());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(&nonce);
    // The plaintext is copied straight into the output and encrypted there,
    // so no second copy of it is left behind unzeroized.
    let body_start = out.len();
    out.extend_from_slice(plaintext);
    let body = out.get_mut(body_start..).ok_or(CiphertextError::TooShort)?;
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(associated_data(&header_bytes, context)),
            body,
        )
        .map_err(|_| CiphertextError::Authentication)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypts a parsed blob; fails unless `material` and `context` are the ones it was sealed with.
pub fn open(
    material: &[u8; MATERIAL_LEN],
    parsed: &Parsed<'_>,
    context: &EncryptionContext,
) -> Result<Zeroizing<Vec<u8>>, CiphertextError> {
    let key = aead_key(material)?;
    let nonce = Nonce::try_assume_unique_for_key(parsed.nonce).map_err(|_| CiphertextError::TooShort)?;
    let mut buf = Zeroizing::new(parsed.sealed.to_vec());
    let len = key
        .open_in_place(
            nonce,
            Aad::from(associated_data(parsed.header_bytes, context)),
            buf.as_mut_slice(),
        )
        .map_err(|_| CiphertextError::Authentication)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// The canonical encoding of an encryption context (see the module doc).
pub fn canonical_context(context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    push_len(&mut out, context.len());
    // BTreeMap iterates in key order; String's Ord is byte order.
    for (k, v) in context {
        push_len(&mut out, k.len());
        out.extend_from_slice(k.as_bytes());
        push_len(&mut out, v.len());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

fn associated_data(header: &[u8], context: &EncryptionContext) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&canonical_context(context));
    aad
}

fn aead_key(material: &[u8; MATERIAL_LEN]) -> Result<LessSafeKey, CiphertextError> {
    UnboundKey::new(&AES_256_GCM, material)
        .map(LessSafeKey::new)
        .map_err(|_| CiphertextError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATERIAL: [u8; 32] = [7; 32];

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn header() -> Header {
        Header {
            key_id: [9; 16],
            material_version: 3,
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let c = ctx(&[("b", "2"), ("a", "1")]);
        let blob = seal(&MATERIAL, header(), &c, b"secret").unwrap_or_default();
        assert_eq!(blob.len(), MIN_LEN + 6);
        assert_eq!(blob.first(), Some(&CIPHERTEXT_VERSION));
        assert_eq!(blob.get(1..17), Some(&[9u8; 16][..]));
        assert_eq!(blob.get(17..21), Some(&3u32.to_be_bytes()[..]));
        let parsed = parse(&blob);
        assert_eq!(parsed.map(|p| p.header).ok(), Some(header()));
        let opened = parse(&blob).and_then(|p| open(&MATERIAL, &p, &c));
        assert_eq!(opened.as_deref().map(Vec::as_slice).ok(), Some(&b"secret"[..]));
    }

    #[test]
    fn context_is_bound() {
        let c = ctx(&[("purpose", "test")]);
        let blob = seal(&MATERIAL, header(), &c, b"x").unwrap_or_default();
        for wrong in [
            ctx(&[]),
            ctx(&[("purpose", "other")]),
            ctx(&[("purpose", "test"), ("x", "")]),
        ] {
            let r = parse(&blob).and_then(|p| open(&MATERIAL, &p, &wrong));
            assert_eq!(r.err(), Some(CiphertextError::Authentication));
        }
        let r = parse(&blob).and_then(|p| open(&[8; 32], &p, &c));
        assert_eq!(r.err(), Some(CiphertextError::Authentication), "other material");
    }

    #[test]
    fn canonical_encoding_is_length_prefixed_so_pairs_cannot_shift() {
        assert_ne!(
            canonical_context(&ctx(&[("ab", "c")])),
            canonical_context(&ctx(&[("a", "bc")]))
        );
        assert_eq!(canonical_context(&ctx(&[])), vec![0, 0, 0, 0]);
        assert_eq!(
            canonical_context(&ctx(&[("k", "v")])),
            vec![0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 1, b'v']
        );
    }

    #[test]
    fn short_and_unknown_blobs_are_refused() {
        assert_eq!(parse(&[]).err(), Some(CiphertextError::TooShort));
        assert_eq!(parse(&[1; MIN_LEN - 1]).err(), Some(CiphertextError::TooShort));
        assert_eq!(parse(&[2; MIN_LEN]).err(), Some(CiphertextError::UnknownVersion(2)));
    }
}
