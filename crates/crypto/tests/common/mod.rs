//! Helpers shared by the integration tests: whole-blob sealing and opening
//! built only from the public API, the way the blob store will use it.

#![allow(dead_code, reason = "each test binary uses a subset")]

use strongbox_crypto::{
    CHUNK_SIZE, ChunkOpener, ChunkSealer, CryptoError, DataKey, HEADER_LEN, ObjectIdentity, chunk_count,
    chunk_file_offset, chunk_sealed_len, plain_len_for_blob_len,
};

pub const IDENTITY: ObjectIdentity<'static> = ObjectIdentity {
    bucket: "photos",
    key: "2024/cat.jpg",
    version: "v1",
    part: 0,
};

/// Deterministic pseudo-random plaintext (xorshift), cheap to build for
/// sizes of a few chunks.
pub fn plaintext(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Seals `plain` into a complete blob: header, then every chunk.
pub fn seal_blob(key: &DataKey, identity: &ObjectIdentity, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (mut sealer, header) = ChunkSealer::new(key, identity)?;
    let mut blob = header.to_vec();
    let count = chunk_count(plain.len() as u64) as usize;
    let mut chunks = plain.chunks(CHUNK_SIZE);
    for index in 0..count {
        let mut buf = chunks.next().unwrap_or_default().to_vec();
        sealer.seal_next(&mut buf, index + 1 == count)?;
        blob.extend_from_slice(&buf);
    }
    assert!(sealer.is_finished());
    Ok(blob)
}

/// Splits a blob into its header and sealed chunks, trusting its length.
pub fn split_blob(blob: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (header, body) = blob.split_at(HEADER_LEN);
    let chunks = body
        .chunks(CHUNK_SIZE + strongbox_crypto::TAG_LEN)
        .map(<[u8]>::to_vec)
        .collect();
    (header.to_vec(), chunks)
}

/// Opens a complete blob the way a reader does: the plaintext length comes
/// from the file length, each chunk is read at its offset.
pub fn open_blob(key: &DataKey, identity: &ObjectIdentity, blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let plain_len = plain_len_for_blob_len(blob.len() as u64).ok_or(CryptoError::BadHeader)?;
    let header = blob.get(..HEADER_LEN).ok_or(CryptoError::BadHeader)?;
    let opener = ChunkOpener::new(key, identity, header)?;
    let count = chunk_count(plain_len);
    let mut out = Vec::new();
    for index in 0..count {
        out.extend_from_slice(&open_chunk(&opener, blob, plain_len, index)?);
    }
    Ok(out)
}

/// Reads and opens chunk `index` of a blob whose plaintext is `plain_len` bytes.
pub fn open_chunk(opener: &ChunkOpener, blob: &[u8], plain_len: u64, index: u64) -> Result<Vec<u8>, CryptoError> {
    let start = chunk_file_offset(index) as usize;
    let end = start + chunk_sealed_len(plain_len, index);
    let mut buf = blob.get(start..end).ok_or(CryptoError::BadHeader)?.to_vec();
    opener.open(index, index + 1 == chunk_count(plain_len), &mut buf)?;
    Ok(buf)
}
