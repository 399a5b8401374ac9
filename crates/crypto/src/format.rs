//! The blob header and the layout arithmetic of an encrypted blob.
//!
//! A blob is `header || chunk_0 || chunk_1 || ... || chunk_{n-1}` where each
//! chunk is its (possibly empty, only if n == 1) plaintext sealed with
//! AES-256-GCM, tag appended. Every chunk but the last holds exactly
//! [`CHUNK_SIZE`] plaintext bytes; the last holds 1..=CHUNK_SIZE (0 only for
//! the empty object). See `docs/design/encryption-format.md`.

use std::ops::Range;

use crate::CryptoError;

/// Plaintext bytes per chunk. DO NOT CHANGE: on-disk format.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// AES-256-GCM tag length appended to every chunk. DO NOT CHANGE: on-disk format.
pub const TAG_LEN: usize = 16;
/// Bytes of one full sealed chunk in the blob file.
pub const SEALED_CHUNK_LEN: usize = CHUNK_SIZE + TAG_LEN;
/// The first four bytes of every blob: "SBXE" (Strongbox Encrypted). DO NOT CHANGE: on-disk format.
pub const MAGIC: [u8; 4] = *b"SBXE";
/// The blob format version this build writes and reads. DO NOT CHANGE: on-disk format
/// (add a new version instead).
pub const FORMAT_VERSION: u8 = 1;
/// Algorithm byte for AES-256-GCM. DO NOT CHANGE: on-disk format.
pub const ALGORITHM_AES_256_GCM: u8 = 1;
/// Algorithm byte for two independent AES-256-GCM layers (DSSE-KMS): every
/// chunk is sealed under the inner data key, then the result under the outer
/// one, so a chunk carries two tags. DO NOT CHANGE: on-disk format.
pub const ALGORITHM_AES_256_GCM_DSSE: u8 = 2;
/// Length of the per-blob random nonce prefix. DO NOT CHANGE: on-disk format.
pub(crate) const NONCE_PREFIX_LEN: usize = 8;
/// Header length: magic (4) + version (1) + algorithm (1) + chunk size (4) +
/// nonce prefix (8). DO NOT CHANGE: on-disk format.
pub const HEADER_LEN: usize = 4 + 1 + 1 + 4 + NONCE_PREFIX_LEN;
/// Most chunks one blob may have: the chunk index is a u32 in the nonce, and
/// index `u32::MAX` is never used. DO NOT CHANGE: on-disk format.
pub const MAX_CHUNKS: u64 = u32::MAX as u64;

/// The chunk size as recorded in the header (u32 big-endian).
const CHUNK_SIZE_FIELD: u32 = 64 * 1024;
const _: () = assert!(CHUNK_SIZE_FIELD as usize == CHUNK_SIZE);

const CHUNK_SIZE_U64: u64 = CHUNK_SIZE as u64;
const HEADER_LEN_U64: u64 = HEADER_LEN as u64;
const TAG_LEN_U64: u64 = TAG_LEN as u64;

/// The decoded blob header. Only the nonce prefix and the layer count vary between blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) nonce_prefix: [u8; NONCE_PREFIX_LEN],
    pub(crate) layout: Layout,
}

impl Header {
    /// `magic (4) || version (1) || algorithm (1) || chunk size (u32 BE, 4) || nonce prefix (8)`.
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let [m0, m1, m2, m3] = MAGIC;
        let [s0, s1, s2, s3] = CHUNK_SIZE_FIELD.to_be_bytes();
        let [p0, p1, p2, p3, p4, p5, p6, p7] = self.nonce_prefix;
        [
            m0,
            m1,
            m2,
            m3,
            FORMAT_VERSION,
            self.layout.algorithm(),
            s0,
            s1,
            s2,
            s3,
            p0,
            p1,
            p2,
            p3,
            p4,
            p5,
            p6,
            p7,
        ]
    }

    /// Parses and validates a header: exact length, magic, version,
    /// algorithm and chunk size. The header's integrity is checked later,
    /// because it is part of every chunk's associated data.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Header, CryptoError> {
        let bytes: &[u8; HEADER_LEN] = bytes.try_into().map_err(|_| CryptoError::BadHeader)?;
        let [m0, m1, m2, m3, version, algorithm, s0, s1, s2, s3, prefix @ ..] = *bytes;
        if [m0, m1, m2, m3] != MAGIC {
            return Err(CryptoError::BadHeader);
        }
        if version != FORMAT_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let layout = match algorithm {
            ALGORITHM_AES_256_GCM => Layout::SINGLE,
            ALGORITHM_AES_256_GCM_DSSE => Layout::DUAL,
            other => return Err(CryptoError::UnsupportedAlgorithm(other)),
        };
        let chunk_size = u32::from_be_bytes([s0, s1, s2, s3]);
        if chunk_size != CHUNK_SIZE_FIELD {
            return Err(CryptoError::UnsupportedChunkSize(chunk_size));
        }
        Ok(Header {
            nonce_prefix: prefix,
            layout,
        })
    }
}

/// Validates a blob header (length, magic, version, algorithm, chunk size)
/// without any key and returns the chunk layout it announces. For offline
/// checks (`strongbox admin fsck`): the header's integrity is only proven
/// when a chunk opens, since it is part of every chunk's associated data.
pub fn header_layout(bytes: &[u8]) -> Result<Layout, CryptoError> {
    Header::parse(bytes).map(|h| h.layout)
}

/// The chunk layout of a blob: how many AES-GCM layers (and so tags) each
/// chunk carries. The free functions of this module are [`Layout::SINGLE`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    layers: u8,
}

impl Layout {
    /// One AES-256-GCM layer (SSE-S3, SSE-KMS, SSE-C).
    pub const SINGLE: Layout = Layout { layers: 1 };
    /// Two AES-256-GCM layers (DSSE-KMS).
    pub const DUAL: Layout = Layout { layers: 2 };

    /// Number of encryption layers (and data keys).
    pub fn layers(self) -> usize {
        usize::from(self.layers)
    }

    fn algorithm(self) -> u8 {
        if self.layers == 2 {
            ALGORITHM_AES_256_GCM_DSSE
        } else {
            ALGORITHM_AES_256_GCM
        }
    }

    /// Bytes the tags add to each chunk.
    pub fn overhead(self) -> usize {
        TAG_LEN * self.layers()
    }

    fn overhead_u64(self) -> u64 {
        TAG_LEN_U64 * u64::from(self.layers)
    }

    /// Total blob file length: header plus every chunk with its tags.
    pub fn blob_len(self, plain_len: u64) -> u64 {
        HEADER_LEN_U64
            .saturating_add(plain_len)
            .saturating_add(chunk_count(plain_len).saturating_mul(self.overhead_u64()))
    }

    /// Inverse of [`Layout::blob_len`], or `None` if no plaintext length yields that size.
    pub fn plain_len_for_blob_len(self, blob_len: u64) -> Option<u64> {
        let tags = self.overhead_u64();
        let sealed_chunk = CHUNK_SIZE_U64 + tags;
        let body = blob_len.checked_sub(HEADER_LEN_U64)?;
        let full_chunks = body / sealed_chunk;
        let last_sealed = body % sealed_chunk;
        let full_plain = full_chunks.checked_mul(CHUNK_SIZE_U64)?;
        match last_sealed {
            0 if full_chunks > 0 => Some(full_plain),
            // An empty final chunk exists only for the empty object.
            n if n == tags && full_chunks == 0 => Some(0),
            n if n > tags => full_plain.checked_add(n - tags),
            _ => None,
        }
    }

    /// Offset of chunk `index` in the blob file.
    pub fn chunk_file_offset(self, index: u64) -> u64 {
        HEADER_LEN_U64.saturating_add(index.saturating_mul(CHUNK_SIZE_U64 + self.overhead_u64()))
    }

    /// Stored length (plaintext plus tags) of chunk `index` in a blob of `plain_len` bytes.
    pub fn chunk_sealed_len(self, plain_len: u64, index: u64) -> usize {
        chunk_plain_len(plain_len, index) + self.overhead()
    }
}

/// Number of chunks in a blob of `plain_len` plaintext bytes; at least 1
/// (the empty object is one empty final chunk).
pub fn chunk_count(plain_len: u64) -> u64 {
    plain_len.div_ceil(CHUNK_SIZE_U64).max(1)
}

/// Total blob file length: header plus every chunk with its tag.
pub fn blob_len(plain_len: u64) -> u64 {
    Layout::SINGLE.blob_len(plain_len)
}

/// Inverse of [`blob_len`]: the plaintext length of a blob file of
/// `blob_len` bytes, or `None` if no plaintext length yields that size.
pub fn plain_len_for_blob_len(blob_len: u64) -> Option<u64> {
    Layout::SINGLE.plain_len_for_blob_len(blob_len)
}

/// Offset of chunk `index` in the blob file.
pub fn chunk_file_offset(index: u64) -> u64 {
    Layout::SINGLE.chunk_file_offset(index)
}

/// Plaintext length of chunk `index` in a blob of `plain_len` bytes
/// (0 for an index past the last chunk).
pub fn chunk_plain_len(plain_len: u64, index: u64) -> usize {
    let start = index.saturating_mul(CHUNK_SIZE_U64);
    let len = plain_len.saturating_sub(start).min(CHUNK_SIZE_U64);
    // `len` <= CHUNK_SIZE, so the conversion cannot fail.
    usize::try_from(len).unwrap_or(CHUNK_SIZE)
}

/// Stored length (plaintext plus tag) of chunk `index` in a blob of
/// `plain_len` bytes: what to read from [`chunk_file_offset`]`(index)`.
pub fn chunk_sealed_len(plain_len: u64, index: u64) -> usize {
    Layout::SINGLE.chunk_sealed_len(plain_len, index)
}

/// Chunk indexes covering the plaintext bytes `[start, end)`.
///
/// Callers pass `start < end <= plain_len`; `end` is clamped to `plain_len`
/// and an empty or inverted range yields an empty range of indexes.
pub fn chunks_for_range(plain_len: u64, start: u64, end: u64) -> Range<u64> {
    let end = end.min(plain_len);
    let first = start / CHUNK_SIZE_U64;
    if start >= end {
        return first..first;
    }
    first..end.div_ceil(CHUNK_SIZE_U64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let header = Header {
            nonce_prefix: [1, 2, 3, 4, 5, 6, 7, 8],
            layout: Layout::SINGLE,
        };
        let bytes = header.encode();
        assert_eq!(&bytes[..4], b"SBXE");
        assert_eq!(bytes[4], 1);
        assert_eq!(bytes[5], 1);
        assert_eq!(&bytes[6..10], &[0, 1, 0, 0]);
        assert_eq!(Header::parse(&bytes), Ok(header));
        assert_eq!(Header::parse(&bytes[..HEADER_LEN - 1]), Err(CryptoError::BadHeader));
        assert_eq!(header_layout(&bytes), Ok(Layout::SINGLE));
        assert_eq!(header_layout(&[0; HEADER_LEN]), Err(CryptoError::BadHeader));
    }

    #[test]
    fn layout_edges() {
        let cs = CHUNK_SIZE_U64;
        assert_eq!(HEADER_LEN, 18);
        assert_eq!(chunk_count(0), 1);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(cs), 1);
        assert_eq!(chunk_count(cs + 1), 2);
        assert_eq!(blob_len(0), 18 + 16);
        assert_eq!(blob_len(cs), 18 + cs + 16);
        assert_eq!(blob_len(cs + 1), 18 + cs + 1 + 32);
        assert_eq!(chunk_file_offset(2), 18 + 2 * (cs + 16));
        assert_eq!(chunk_plain_len(cs + 5, 0), CHUNK_SIZE);
        assert_eq!(chunk_plain_len(cs + 5, 1), 5);
        assert_eq!(chunk_plain_len(cs + 5, 2), 0);
        assert_eq!(chunks_for_range(3 * cs, cs - 1, cs + 1), 0..2);
        assert_eq!(chunks_for_range(3 * cs, cs, 2 * cs), 1..2);
        assert_eq!(plain_len_for_blob_len(18 + 16), Some(0));
        assert_eq!(plain_len_for_blob_len(18 + cs + 16 + 16), None);
        assert_eq!(plain_len_for_blob_len(17), None);
        let dual = Layout::DUAL;
        assert_eq!(dual.blob_len(0), 18 + 32);
        assert_eq!(dual.blob_len(cs + 1), 18 + cs + 1 + 64);
        assert_eq!(dual.chunk_file_offset(2), 18 + 2 * (cs + 32));
        assert_eq!(dual.chunk_sealed_len(cs + 5, 1), 5 + 32);
        for len in [0, 1, cs - 1, cs, cs + 1, 3 * cs + 7] {
            assert_eq!(dual.plain_len_for_blob_len(dual.blob_len(len)), Some(len));
        }
        assert_eq!(dual.plain_len_for_blob_len(18 + 16), None);
    }
}
