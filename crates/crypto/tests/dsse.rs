//! Property tests of the two-layer (DSSE-KMS) blob layout: round trips with
//! both keys, and that neither key alone, swapped keys or any bit flip opens it.

mod common;

use common::{IDENTITY, plaintext};
use proptest::prelude::*;
use strongbox_crypto::{CHUNK_SIZE, ChunkOpener, ChunkSealer, CryptoError, DataKey, HEADER_LEN, Layout, chunk_count};

fn seal_dual(inner: &DataKey, outer: &DataKey, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (mut sealer, header) = ChunkSealer::layered(&[inner, outer], &IDENTITY)?;
    let mut blob = header.to_vec();
    let count = chunk_count(plain.len() as u64) as usize;
    let mut chunks = plain.chunks(CHUNK_SIZE);
    for index in 0..count {
        let mut buf = chunks.next().unwrap_or_default().to_vec();
        sealer.seal_next(&mut buf, index + 1 == count)?;
        blob.extend_from_slice(&buf);
    }
    Ok(blob)
}

fn open_with(keys: &[&DataKey], blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let layout = Layout::DUAL;
    let plain_len = layout
        .plain_len_for_blob_len(blob.len() as u64)
        .ok_or(CryptoError::BadHeader)?;
    let opener = ChunkOpener::layered(keys, &IDENTITY, blob.get(..HEADER_LEN).ok_or(CryptoError::BadHeader)?)?;
    assert_eq!(opener.layout(), layout);
    let count = chunk_count(plain_len);
    let mut out = Vec::new();
    for index in 0..count {
        let start = layout.chunk_file_offset(index) as usize;
        let end = start + layout.chunk_sealed_len(plain_len, index);
        let mut buf = blob.get(start..end).ok_or(CryptoError::BadHeader)?.to_vec();
        opener.open(index, index + 1 == count, &mut buf)?;
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn dual_layer_round_trips_and_needs_both_keys(len in 0..=2 * CHUNK_SIZE + 10, seed in any::<u64>()) {
        let (inner, outer) = (DataKey::generate()?, DataKey::generate()?);
        let plain = plaintext(len, seed);
        let blob = seal_dual(&inner, &outer, &plain)?;
        prop_assert_eq!(blob.len() as u64, Layout::DUAL.blob_len(len as u64));
        prop_assert_eq!(open_with(&[&inner, &outer], &blob)?, plain);
        prop_assert!(open_with(&[&outer, &inner], &blob).is_err());
        prop_assert!(open_with(&[&inner, &inner], &blob).is_err());
        // One key for a two-layer blob is refused before any decryption.
        let single = ChunkOpener::new(&inner, &IDENTITY, &blob[..HEADER_LEN]);
        let refused = matches!(single, Err(CryptoError::LayerCount { keys: 1, layers: 2 }));
        prop_assert!(refused);
    }

    #[test]
    fn dual_layer_detects_any_bit_flip(len in 0..=CHUNK_SIZE + 10, seed in any::<u64>(),
                                       bit in any::<prop::sample::Index>()) {
        let (inner, outer) = (DataKey::generate()?, DataKey::generate()?);
        let mut blob = seal_dual(&inner, &outer, &plaintext(len, seed))?;
        let bit = bit.index(blob.len() * 8);
        blob[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(open_with(&[&inner, &outer], &blob).is_err());
    }

    #[test]
    fn dual_layer_ciphertext_differs_from_single(len in 1..=1000usize, seed in any::<u64>()) {
        // The outer layer is a real second encryption: the stored chunk is not
        // the single-layer ciphertext with a tag appended.
        let (inner, outer) = (DataKey::generate()?, DataKey::generate()?);
        let plain = plaintext(len, seed);
        let blob = seal_dual(&inner, &outer, &plain)?;
        prop_assert!(!blob.windows(plain.len().min(16)).any(|w| w == &plain[..plain.len().min(16)]));
    }
}
