//! AES-256-GCM cost of the blob format: ring's seal and open alone at 4 KiB to
//! 1 MiB buffers (the cipher's ceiling), then [`ChunkSealer`] / [`ChunkOpener`]
//! over one 64 KiB chunk and over a 1 MiB body chunk by chunk, with one layer
//! (SSE-S3, SSE-KMS, SSE-C) and two (DSSE-KMS). Throughput counts plaintext bytes.
//!
//! Run: `cargo bench --ignore-rust-version -p strongbox-crypto --bench chunk`
//! (add `-- --sample-count 20` for a quick run; `-- seal` filters by name).
//!
//! Buffers are generated outside the timed region (divan's `with_inputs`), so
//! every sample seals or opens a fresh copy, as the PUT and GET paths do.
#![expect(clippy::unwrap_used, reason = "benchmark setup: any failure aborts the run")]

use divan::Bencher;
use divan::counter::BytesCount;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use strongbox_crypto::{CHUNK_SIZE, ChunkOpener, ChunkSealer, DataKey, HEADER_LEN, ObjectIdentity, TAG_LEN};

fn main() {
    divan::main();
}

const KIB: usize = 1024;
const SIZES: [usize; 5] = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1024 * KIB];
/// The whole-body cases: 16 full chunks.
const BODY: usize = 1024 * KIB;
const LAYERS: [usize; 2] = [1, 2];

const ID: ObjectIdentity<'static> = ObjectIdentity {
    bucket: "bench-bucket",
    key: "photos/2026/01/img-0001.jpg",
    version: "00000000000000000000000000000001",
    part: 0,
};

/// ring's AES-256-GCM with nothing around it: the ceiling for the format.
mod ring_aes_256_gcm {
    use super::*;

    #[divan::bench(args = SIZES)]
    fn seal(bencher: Bencher, size: usize) {
        let key = ring_key();
        bencher
            .counter(BytesCount::new(size))
            .with_inputs(|| plaintext_with_room(size, TAG_LEN))
            .bench_local_refs(|buf| key.seal_in_place_append_tag(nonce(), Aad::empty(), buf).unwrap());
    }

    #[divan::bench(args = SIZES)]
    fn open(bencher: Bencher, size: usize) {
        let key = ring_key();
        let mut sealed = plaintext_with_room(size, TAG_LEN);
        key.seal_in_place_append_tag(nonce(), Aad::empty(), &mut sealed)
            .unwrap();
        bencher
            .counter(BytesCount::new(size))
            .with_inputs(|| sealed.clone())
            .bench_local_refs(|buf| {
                key.open_in_place(nonce(), Aad::empty(), buf).unwrap();
            });
    }

    fn ring_key() -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap())
    }

    /// One fixed nonce: every iteration seals under the same key and nonce,
    /// which would break GCM's security and does not change its speed.
    fn nonce() -> Nonce {
        Nonce::assume_unique_for_key([0u8; NONCE_LEN])
    }
}

/// The crate's sealer and opener: per-chunk associated data, one AES-GCM
/// pass per layer.
mod blob_format {
    use super::*;

    /// One full, non-final 64 KiB chunk of a sealer already started.
    #[divan::bench(args = LAYERS)]
    fn seal_chunk_64k(bencher: Bencher, layers: usize) {
        let keys = data_keys(layers);
        let keys: Vec<&DataKey> = keys.iter().collect();
        bencher
            .counter(BytesCount::new(CHUNK_SIZE))
            .with_inputs(|| {
                let (sealer, _header) = ChunkSealer::layered(&keys, &ID).unwrap();
                (sealer, plaintext_with_room(CHUNK_SIZE, layers * TAG_LEN))
            })
            .bench_local_refs(|(sealer, buf)| sealer.seal_next(buf, false).unwrap());
    }

    /// One full, non-final 64 KiB chunk with an opener already built.
    #[divan::bench(args = LAYERS)]
    fn open_chunk_64k(bencher: Bencher, layers: usize) {
        let keys = data_keys(layers);
        let keys: Vec<&DataKey> = keys.iter().collect();
        let (header, chunks) = seal_body(&keys, 2 * CHUNK_SIZE);
        let opener = ChunkOpener::layered(&keys, &ID, &header).unwrap();
        let first = chunks.into_iter().next().unwrap();
        bencher
            .counter(BytesCount::new(CHUNK_SIZE))
            .with_inputs(|| first.clone())
            .bench_local_refs(|buf| opener.open(0, false, buf).unwrap());
    }

    /// A 1 MiB body: starting the blob (random nonce prefix, key schedules,
    /// identity digest) and sealing its 16 chunks, the last one final.
    #[divan::bench(args = LAYERS)]
    fn seal_body_1m(bencher: Bencher, layers: usize) {
        let keys = data_keys(layers);
        let keys: Vec<&DataKey> = keys.iter().collect();
        bencher
            .counter(BytesCount::new(BODY))
            .with_inputs(|| plain_chunks(BODY, layers))
            .bench_local_refs(|chunks| {
                let (mut sealer, header) = ChunkSealer::layered(&keys, &ID).unwrap();
                let last = chunks.len() - 1;
                for (i, chunk) in chunks.iter_mut().enumerate() {
                    sealer.seal_next(chunk, i == last).unwrap();
                }
                header
            });
    }

    /// A 1 MiB body: parsing the header into an opener and opening 16 chunks.
    #[divan::bench(args = LAYERS)]
    fn open_body_1m(bencher: Bencher, layers: usize) {
        let keys = data_keys(layers);
        let keys: Vec<&DataKey> = keys.iter().collect();
        let (header, chunks) = seal_body(&keys, BODY);
        bencher
            .counter(BytesCount::new(BODY))
            .with_inputs(|| chunks.clone())
            .bench_local_refs(|chunks| {
                let opener = ChunkOpener::layered(&keys, &ID, &header).unwrap();
                let last = chunks.len() - 1;
                for (i, chunk) in chunks.iter_mut().enumerate() {
                    opener.open(i as u64, i == last, chunk).unwrap();
                }
            });
    }

    fn data_keys(layers: usize) -> Vec<DataKey> {
        (0..layers).map(|_| DataKey::generate().unwrap()).collect()
    }

    /// `len` bytes cut into CHUNK_SIZE chunks, each with room for its tags.
    fn plain_chunks(len: usize, layers: usize) -> Vec<Vec<u8>> {
        (0..len.div_ceil(CHUNK_SIZE))
            .map(|i| plaintext_with_room(CHUNK_SIZE.min(len - i * CHUNK_SIZE), layers * TAG_LEN))
            .collect()
    }

    fn seal_body(keys: &[&DataKey], len: usize) -> ([u8; HEADER_LEN], Vec<Vec<u8>>) {
        let (mut sealer, header) = ChunkSealer::layered(keys, &ID).unwrap();
        let mut chunks = plain_chunks(len, keys.len());
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.iter_mut().enumerate() {
            sealer.seal_next(chunk, i == last).unwrap();
        }
        (header, chunks)
    }
}

/// `len` bytes of a repeating pattern, with capacity for `room` more so the
/// tags append without reallocating.
fn plaintext_with_room(len: usize, room: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(len + room);
    buf.extend((0..len).map(|i| (i % 251) as u8));
    buf
}
