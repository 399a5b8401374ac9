//! Property tests of the encrypted blob format: round trips, range reads,
//! and that every kind of tampering is detected.

mod common;

use common::{IDENTITY, open_blob, open_chunk, plaintext, seal_blob, split_blob};
use proptest::prelude::*;
use strongbox_crypto::{
    CHUNK_SIZE, ChunkOpener, CryptoError, DataKey, HEADER_LEN, ObjectIdentity, blob_len, chunk_count, chunks_for_range,
};

const CS: usize = CHUNK_SIZE;

/// Plaintext sizes from empty to a few chunks, weighted towards the edges.
fn plain_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        0..=3 * CS + 100,
        (0..=4usize).prop_map(|k| k * CS),
        (1..=3usize, prop_oneof![Just(-1isize), Just(1)]).prop_map(|(k, d)| (k * CS).saturating_add_signed(d)),
        0..=64usize,
    ]
}

/// Plaintext sizes with at least two chunks.
fn multi_chunk_len() -> impl Strategy<Value = usize> {
    prop_oneof![CS + 1..=3 * CS + 100, (2..=3usize).prop_map(|k| k * CS)]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trips(len in plain_len(), seed in any::<u64>()) {
        let key = DataKey::generate()?;
        let plain = plaintext(len, seed);
        let blob = seal_blob(&key, &IDENTITY, &plain)?;
        prop_assert_eq!(blob.len() as u64, blob_len(len as u64));
        prop_assert_eq!(open_blob(&key, &IDENTITY, &blob)?, plain);
    }

    #[test]
    fn range_reads_return_exactly_the_slice(len in plain_len().prop_filter("non-empty", |&l| l > 0),
                                            a in any::<u64>(), b in any::<u64>(), seed in any::<u64>()) {
        let key = DataKey::generate()?;
        let plain = plaintext(len, seed);
        let blob = seal_blob(&key, &IDENTITY, &plain)?;
        let plain_len = len as u64;
        let (x, y) = (a % plain_len, b % plain_len);
        let (start, end) = (x.min(y), x.max(y) + 1);

        let opener = ChunkOpener::new(&key, &IDENTITY, &blob[..HEADER_LEN])?;
        let chunks = chunks_for_range(plain_len, start, end);
        prop_assert!(!chunks.is_empty());
        prop_assert!(chunks.end <= chunk_count(plain_len));
        let mut got = Vec::new();
        for index in chunks.clone() {
            got.extend_from_slice(&open_chunk(&opener, &blob, plain_len, index)?);
        }
        let skip = (start - chunks.start * CS as u64) as usize;
        let want = &plain[start as usize..end as usize];
        // At most one partial chunk of waste on each side of the range.
        prop_assert!(skip < CS);
        prop_assert!(got.len() - skip - want.len() < CS);
        prop_assert_eq!(&got[skip..skip + want.len()], want);
    }

    #[test]
    fn any_bit_flip_is_detected(len in 0..=2 * CS + 10, seed in any::<u64>(), bit in any::<prop::sample::Index>()) {
        let key = DataKey::generate()?;
        let mut blob = seal_blob(&key, &IDENTITY, &plaintext(len, seed))?;
        let bit = bit.index(blob.len() * 8);
        blob[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(open_blob(&key, &IDENTITY, &blob).is_err());
    }

    #[test]
    fn reordered_chunks_are_detected(len in multi_chunk_len(), seed in any::<u64>(),
                                     i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
        let key = DataKey::generate()?;
        let blob = seal_blob(&key, &IDENTITY, &plaintext(len, seed))?;
        let (header, mut chunks) = split_blob(&blob);
        let (i, j) = (i.index(chunks.len()), j.index(chunks.len()));
        prop_assume!(i != j);
        chunks.swap(i, j);
        let reordered = [vec![header], chunks].concat().concat();
        prop_assert!(open_blob(&key, &IDENTITY, &reordered).is_err());
    }

    #[test]
    fn truncation_is_detected(len in multi_chunk_len(), seed in any::<u64>(), cut in 1..=2 * CS) {
        let key = DataKey::generate()?;
        let blob = seal_blob(&key, &IDENTITY, &plaintext(len, seed))?;
        // Dropping the final chunk leaves a well-formed-looking blob whose
        // new last chunk was not sealed as final.
        let (header, mut chunks) = split_blob(&blob);
        chunks.pop();
        let dropped = [vec![header], chunks].concat().concat();
        prop_assert_eq!(open_blob(&key, &IDENTITY, &dropped), Err(CryptoError::Authentication));
        // Cutting at any other point fails too.
        let cut_blob = &blob[..blob.len() - cut.min(blob.len() - HEADER_LEN)];
        prop_assert!(open_blob(&key, &IDENTITY, cut_blob).is_err());
    }

    #[test]
    fn other_identity_or_key_is_rejected(len in plain_len(), seed in any::<u64>(), which in 0..5u8) {
        let key = DataKey::generate()?;
        let blob = seal_blob(&key, &IDENTITY, &plaintext(len, seed))?;
        let other = match which {
            0 => ObjectIdentity { key: "2024/dog.jpg", ..IDENTITY },
            1 => ObjectIdentity { part: 1, ..IDENTITY },
            2 => ObjectIdentity { version: "v2", ..IDENTITY },
            3 => ObjectIdentity { bucket: "photos2", ..IDENTITY },
            _ => IDENTITY,
        };
        let other_key = if which == 4 { DataKey::generate()? } else { key };
        prop_assert_eq!(open_blob(&other_key, &other, &blob), Err(CryptoError::Authentication));
    }
}

#[test]
fn chunks_cannot_move_between_blobs_of_one_key() -> Result<(), CryptoError> {
    // Two parts of one multipart upload share a data key; a chunk of one
    // must not open in the other even at the same index.
    let key = DataKey::generate()?;
    let part1 = ObjectIdentity { part: 1, ..IDENTITY };
    let part2 = ObjectIdentity { part: 2, ..IDENTITY };
    let plain = plaintext(CS + 10, 7);
    let (h1, c1) = split_blob(&seal_blob(&key, &part1, &plain)?);
    let (h2, _) = split_blob(&seal_blob(&key, &part2, &plain)?);
    let spliced = [h2.clone(), c1.concat()].concat();
    assert_eq!(open_blob(&key, &part2, &spliced), Err(CryptoError::Authentication));
    // Even with the header copied along, the identity differs.
    let copied = [h1, c1.concat()].concat();
    assert_eq!(open_blob(&key, &part2, &copied), Err(CryptoError::Authentication));
    assert_ne!(h2, copied[..HEADER_LEN]);
    Ok(())
}

#[test]
fn empty_object_is_one_empty_final_chunk() -> Result<(), CryptoError> {
    let key = DataKey::generate()?;
    let blob = seal_blob(&key, &IDENTITY, &[])?;
    assert_eq!(blob.len(), HEADER_LEN + strongbox_crypto::TAG_LEN);
    assert_eq!(open_blob(&key, &IDENTITY, &blob)?, Vec::<u8>::new());
    Ok(())
}
