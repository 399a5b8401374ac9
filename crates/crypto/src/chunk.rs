//! Streaming sealing and random-access opening of blob chunks.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::format::{CHUNK_SIZE, HEADER_LEN, Header, Layout, MAX_CHUNKS, NONCE_PREFIX_LEN};
use crate::keys::fill_random;
use crate::{CryptoError, DataKey, ObjectIdentity};

/// Per-chunk associated data: identity digest (32) || chunk index (u64 BE, 8)
/// || final flag (1) || blob header (HEADER_LEN). DO NOT CHANGE: on-disk format.
const AAD_LEN: usize = 32 + 8 + 1 + HEADER_LEN;
const FINAL: u8 = 1;
const NOT_FINAL: u8 = 0;

/// What every chunk of one blob shares: the keys (inner layer first), the
/// nonce prefix and the associated-data fields that do not vary per chunk.
/// Both layers use the same nonce and associated data; their keys differ.
struct BlobContext {
    keys: Vec<LessSafeKey>,
    layout: Layout,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
    identity_digest: [u8; 32],
    header: [u8; HEADER_LEN],
}

impl BlobContext {
    fn new(keys: &[&DataKey], identity: &ObjectIdentity, header: Header) -> Result<Self, CryptoError> {
        if keys.len() != header.layout.layers() {
            return Err(CryptoError::LayerCount {
                keys: keys.len(),
                layers: header.layout.layers(),
            });
        }
        let keys = keys
            .iter()
            .map(|key| {
                UnboundKey::new(&AES_256_GCM, key.bytes())
                    .map(LessSafeKey::new)
                    .map_err(|_| CryptoError::BadKeyLength(key.bytes().len()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BlobContext {
            keys,
            layout: header.layout,
            nonce_prefix: header.nonce_prefix,
            identity_digest: identity.digest(),
            header: header.encode(),
        })
    }

    /// Nonce = nonce prefix (8) || chunk index (u32 BE, 4).
    fn nonce(&self, index: u64) -> Result<Nonce, CryptoError> {
        let index = u32::try_from(index)
            .ok()
            .filter(|&i| u64::from(i) < MAX_CHUNKS)
            .ok_or(CryptoError::TooManyChunks)?;
        let mut nonce = [0u8; NONCE_LEN];
        let (prefix, counter) = nonce.split_at_mut(NONCE_PREFIX_LEN);
        prefix.copy_from_slice(&self.nonce_prefix);
        counter.copy_from_slice(&index.to_be_bytes());
        Ok(Nonce::assume_unique_for_key(nonce))
    }

    fn aad(&self, index: u64, is_final: bool) -> [u8; AAD_LEN] {
        let mut aad = [0u8; AAD_LEN];
        let (digest, rest) = aad.split_at_mut(32);
        digest.copy_from_slice(&self.identity_digest);
        let (idx, rest) = rest.split_at_mut(8);
        idx.copy_from_slice(&index.to_be_bytes());
        let (flag, header) = rest.split_at_mut(1);
        flag.copy_from_slice(&[if is_final { FINAL } else { NOT_FINAL }]);
        header.copy_from_slice(&self.header);
        aad
    }
}

/// Streaming encryption of one blob, chunk by chunk, in order.
///
/// Every chunk but the last must hold exactly [`CHUNK_SIZE`] bytes; the last
/// one is sealed with `is_final = true` and holds 1..=CHUNK_SIZE bytes, or 0
/// bytes when it is also the first (the empty object). A writer that does not
/// know whether more data follows a full chunk must hold that chunk back until
/// it does: a full chunk followed by an empty final chunk is not a valid blob.
pub struct ChunkSealer {
    ctx: BlobContext,
    next_index: u64,
    finished: bool,
}

impl ChunkSealer {
    /// Starts a blob with a fresh random nonce prefix; returns the sealer and
    /// the header to write before the first chunk.
    pub fn new(key: &DataKey, identity: &ObjectIdentity) -> Result<(ChunkSealer, [u8; HEADER_LEN]), CryptoError> {
        ChunkSealer::layered(&[key], identity)
    }

    /// Starts a blob sealed in `keys.len()` layers (1, or 2 for DSSE-KMS),
    /// inner layer first.
    pub fn layered(
        keys: &[&DataKey],
        identity: &ObjectIdentity,
    ) -> Result<(ChunkSealer, [u8; HEADER_LEN]), CryptoError> {
        let layout = match keys.len() {
            1 => Layout::SINGLE,
            2 => Layout::DUAL,
            n => return Err(CryptoError::LayerCount { keys: n, layers: 2 }),
        };
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        fill_random(&mut nonce_prefix)?;
        ChunkSealer::start(keys, identity, Header { nonce_prefix, layout })
    }

    fn start(
        keys: &[&DataKey],
        identity: &ObjectIdentity,
        header: Header,
    ) -> Result<(ChunkSealer, [u8; HEADER_LEN]), CryptoError> {
        let ctx = BlobContext::new(keys, identity, header)?;
        let header = ctx.header;
        let sealer = ChunkSealer {
            ctx,
            next_index: 0,
            finished: false,
        };
        Ok((sealer, header))
    }

    /// A sealer with a chosen nonce prefix. Reusing a prefix under one data
    /// key breaks AES-GCM, so only known-answer tests may choose it.
    #[cfg(test)]
    pub(crate) fn with_nonce_prefix(
        key: &DataKey,
        identity: &ObjectIdentity,
        nonce_prefix: [u8; NONCE_PREFIX_LEN],
    ) -> Result<(ChunkSealer, [u8; HEADER_LEN]), CryptoError> {
        let header = Header {
            nonce_prefix,
            layout: Layout::SINGLE,
        };
        ChunkSealer::start(&[key], identity, header)
    }

    /// Seals the plaintext in `buf` in place as the next chunk and appends the tag.
    pub fn seal_next(&mut self, buf: &mut Vec<u8>, is_final: bool) -> Result<(), CryptoError> {
        self.seal_tail(buf, 0, is_final)
    }

    /// Seals `buf[start..]` in place as the next chunk and appends its tags,
    /// so a writer can gather many sealed chunks in one buffer without
    /// copying each one out of a scratch chunk.
    pub fn seal_tail(&mut self, buf: &mut Vec<u8>, start: usize, is_final: bool) -> Result<(), CryptoError> {
        if self.finished {
            return Err(CryptoError::SealerFinished);
        }
        let index = self.next_index;
        let len = buf.len().saturating_sub(start);
        let len_ok = start <= buf.len()
            && match (is_final, index) {
                (false, _) => len == CHUNK_SIZE,
                (true, 0) => len <= CHUNK_SIZE,
                (true, _) => (1..=CHUNK_SIZE).contains(&len),
            };
        if !len_ok {
            return Err(CryptoError::ChunkLength { index, len });
        }
        let aad = self.ctx.aad(index, is_final);
        for key in &self.ctx.keys {
            let nonce = self.ctx.nonce(index)?;
            let tail = buf.get_mut(start..).ok_or(CryptoError::ChunkLength { index, len })?;
            let tag = key
                .seal_in_place_separate_tag(nonce, Aad::from(aad), tail)
                .map_err(|_| CryptoError::ChunkLength { index, len })?;
            buf.extend_from_slice(tag.as_ref());
        }
        self.next_index += 1;
        self.finished = is_final;
        Ok(())
    }

    /// Index the next call to [`seal_next`](ChunkSealer::seal_next) will seal.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Whether the final chunk has been sealed.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

impl fmt::Debug for ChunkSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSealer")
            .field("next_index", &self.next_index)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// Random-access decryption of the chunks of one blob.
pub struct ChunkOpener {
    ctx: BlobContext,
}

impl ChunkOpener {
    /// Validates the header (length, magic, version, algorithm, chunk size).
    /// The header's integrity is verified with every chunk, since it is part
    /// of each chunk's associated data.
    pub fn new(key: &DataKey, identity: &ObjectIdentity, header: &[u8]) -> Result<ChunkOpener, CryptoError> {
        ChunkOpener::layered(&[key], identity, header)
    }

    /// Like [`ChunkOpener::new`] for a blob of `keys.len()` layers, inner first;
    /// the header must record that many layers.
    pub fn layered(keys: &[&DataKey], identity: &ObjectIdentity, header: &[u8]) -> Result<ChunkOpener, CryptoError> {
        let header = Header::parse(header)?;
        Ok(ChunkOpener {
            ctx: BlobContext::new(keys, identity, header)?,
        })
    }

    /// The blob's chunk layout, from its header.
    pub fn layout(&self) -> Layout {
        self.ctx.layout
    }

    /// Opens chunk `index` in place: `buf` holds its ciphertext and tag and
    /// is truncated to the plaintext on success. `is_final` must say whether
    /// this is the blob's last chunk, as [`crate::chunk_count`] tells.
    /// On failure `buf`'s contents are unspecified and must be discarded.
    pub fn open(&self, index: u64, is_final: bool, buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let plain_len = self.open_slice(index, is_final, buf)?;
        buf.truncate(plain_len);
        Ok(())
    }

    /// [`ChunkOpener::open`] over a slice of a larger buffer (a batch of
    /// chunks read at once): returns the plaintext length, the plaintext
    /// being the start of `buf`.
    pub fn open_slice(&self, index: u64, is_final: bool, buf: &mut [u8]) -> Result<usize, CryptoError> {
        let overhead = self.ctx.layout.overhead();
        if !(overhead..=CHUNK_SIZE + overhead).contains(&buf.len()) {
            return Err(CryptoError::ChunkLength { index, len: buf.len() });
        }
        let aad = self.ctx.aad(index, is_final);
        let mut len = buf.len();
        for key in self.ctx.keys.iter().rev() {
            let nonce = self.ctx.nonce(index)?;
            let layer = buf.get_mut(..len).ok_or(CryptoError::Authentication)?;
            len = key
                .open_in_place(nonce, Aad::from(aad), layer)
                .map_err(|_| CryptoError::Authentication)?
                .len();
        }
        Ok(len)
    }
}

impl fmt::Debug for ChunkOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkOpener").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::TAG_LEN;

    const ID: ObjectIdentity<'static> = ObjectIdentity {
        bucket: "b",
        key: "k",
        version: "v",
        part: 0,
    };

    #[test]
    fn sealing_tails_of_one_buffer_matches_chunk_by_chunk() -> Result<(), CryptoError> {
        for keys in [
            vec![DataKey::generate()?],
            vec![DataKey::generate()?, DataKey::generate()?],
        ] {
            let keys: Vec<&DataKey> = keys.iter().collect();
            let header = || Header {
                nonce_prefix: [7; NONCE_PREFIX_LEN],
                layout: if keys.len() == 1 { Layout::SINGLE } else { Layout::DUAL },
            };
            let (mut a, _) = ChunkSealer::start(&keys, &ID, header())?;
            let (mut b, hdr) = ChunkSealer::start(&keys, &ID, header())?;
            let plain: Vec<u8> = (0..CHUNK_SIZE + 100).map(|i| (i % 251) as u8).collect();
            let (first, second) = plain.split_at(CHUNK_SIZE);
            let mut separate = Vec::new();
            for (part, last) in [(first, false), (second, true)] {
                let mut chunk = part.to_vec();
                a.seal_next(&mut chunk, last)?;
                separate.extend_from_slice(&chunk);
            }
            let mut gathered = first.to_vec();
            b.seal_tail(&mut gathered, 0, false)?;
            let start = gathered.len();
            gathered.extend_from_slice(second);
            b.seal_tail(&mut gathered, start, true)?;
            assert_eq!(separate, gathered);

            let opener = ChunkOpener::layered(&keys, &ID, &hdr)?;
            let (c0, c1) = gathered.split_at_mut(start);
            assert_eq!(opener.open_slice(0, false, c0)?, CHUNK_SIZE);
            assert_eq!(c0.get(..CHUNK_SIZE), Some(first));
            assert_eq!(opener.open_slice(1, true, c1)?, 100);
            assert_eq!(c1.get(..100), Some(second));
            let mut tampered = separate.clone();
            tampered[3] ^= 1;
            assert!(opener.open_slice(0, false, &mut tampered[..start]).is_err());
        }
        Ok(())
    }

    #[test]
    fn sealer_enforces_chunk_sizes() -> Result<(), CryptoError> {
        let key = DataKey::generate()?;
        let (mut sealer, _) = ChunkSealer::new(&key, &ID)?;
        let mut short = vec![0u8; CHUNK_SIZE - 1];
        assert_eq!(
            sealer.seal_next(&mut short, false),
            Err(CryptoError::ChunkLength {
                index: 0,
                len: CHUNK_SIZE - 1
            })
        );
        let mut long = vec![0u8; CHUNK_SIZE + 1];
        assert!(sealer.seal_next(&mut long, true).is_err());
        let mut full = vec![0u8; CHUNK_SIZE];
        sealer.seal_next(&mut full, false)?;
        assert_eq!(full.len(), CHUNK_SIZE + TAG_LEN);
        // A full chunk followed by an empty final chunk is not a valid layout.
        assert_eq!(
            sealer.seal_next(&mut Vec::new(), true),
            Err(CryptoError::ChunkLength { index: 1, len: 0 })
        );
        sealer.seal_next(&mut vec![1u8], true)?;
        assert!(sealer.is_finished());
        assert_eq!(sealer.next_index(), 2);
        assert_eq!(sealer.seal_next(&mut vec![1u8], true), Err(CryptoError::SealerFinished));
        Ok(())
    }

    #[test]
    fn opener_rejects_bad_lengths_and_indexes() -> Result<(), CryptoError> {
        let key = DataKey::generate()?;
        let (_, header) = ChunkSealer::new(&key, &ID)?;
        let opener = ChunkOpener::new(&key, &ID, &header)?;
        let mut short = vec![0u8; TAG_LEN - 1];
        assert!(matches!(
            opener.open(0, true, &mut short),
            Err(CryptoError::ChunkLength { .. })
        ));
        let mut long = vec![0u8; CHUNK_SIZE + TAG_LEN + 1];
        assert!(matches!(
            opener.open(0, true, &mut long),
            Err(CryptoError::ChunkLength { .. })
        ));
        let mut tag_only = vec![0u8; TAG_LEN];
        assert_eq!(
            opener.open(u64::from(u32::MAX), true, &mut tag_only),
            Err(CryptoError::TooManyChunks)
        );
        assert_eq!(opener.open(0, true, &mut tag_only), Err(CryptoError::Authentication));
        Ok(())
    }

    #[test]
    fn opener_rejects_bad_headers() -> Result<(), CryptoError> {
        let key = DataKey::generate()?;
        let (_, header) = ChunkSealer::new(&key, &ID)?;
        let with = |at: usize, value: u8| {
            let mut h = header;
            if let Some(b) = h.get_mut(at) {
                *b = value;
            }
            ChunkOpener::new(&key, &ID, &h).err()
        };
        assert_eq!(with(0, b'X'), Some(CryptoError::BadHeader));
        assert_eq!(with(4, 2), Some(CryptoError::UnsupportedVersion(2)));
        assert_eq!(with(5, 9), Some(CryptoError::UnsupportedAlgorithm(9)));
        assert_eq!(with(7, 2), Some(CryptoError::UnsupportedChunkSize(2 * 65536)));
        assert!(ChunkOpener::new(&key, &ID, header.get(..HEADER_LEN - 1).unwrap_or_default()).is_err());
        Ok(())
    }
}
