//! The encrypted blob format and its reader: `strongbox_crypto`'s header
//! parse and `ChunkOpener`, driven through `strongbox_engine`'s
//! `open_sealed` (what GET uses on an inline object's sealed bytes; blob
//! files go through the same chunk opening). A blob on disk is not trusted:
//! a damaged or swapped file must never yield plaintext.
//!
//! Input: byte 0 is flags (bit 0: two layers as DSSE-KMS, bit 1: round trip
//! instead of raw, bit 2: open with the wrong identity, bit 3: flip a byte),
//! bytes 1-3 a plaintext length (round trip; up to ~4 chunks, the input
//! repeated to fill it) or a claimed length (raw), bytes 4-7 where the read
//! range starts and ends; the rest is the blob (raw) or the plaintext.
//!
//! Oracles:
//! - nothing panics, for any blob bytes, length or range;
//! - `Layout::blob_len` and `plain_len_for_blob_len` are inverse (any
//!   length up to 2^56, one or two layers), and the last chunk ends the blob;
//! - raw input never opens (it would need AES-GCM tags under our key);
//! - a blob we sealed reads back, for any range, exactly that range of the
//!   plaintext, under the right keys and identity;
//! - with the wrong identity, or with any byte of the blob flipped, a read
//!   either fails or (a flip outside the chunks the range needs) returns
//!   exactly the right plaintext: never other bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use strongbox_crypto::{CHUNK_SIZE, ChunkSealer, DataKey, Layout, ObjectIdentity, chunk_count};
use strongbox_engine::fuzzing::open_sealed;

const ID: ObjectIdentity<'static> = ObjectIdentity {
    bucket: "amzn-s3-demo-bucket",
    key: "a/b",
    version: "null",
    part: 0,
};
const OTHER: ObjectIdentity<'static> = ObjectIdentity {
    bucket: "amzn-s3-demo-bucket",
    key: "a/c",
    version: "null",
    part: 0,
};
const MAX_PLAIN: u64 = 4 * CHUNK_SIZE as u64 + 1000;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_at_checked(8) else {
        return;
    };
    let (Ok(k1), Ok(k2)) = (DataKey::from_bytes(&[0x11; 32]), DataKey::from_bytes(&[0x22; 32])) else {
        return;
    };
    let keys: Vec<&DataKey> = if head[0] & 1 != 0 { vec![&k1, &k2] } else { vec![&k1] };
    let len = u64::from(u32::from_be_bytes([0, head[1], head[2], head[3]]));
    let a = u64::from(u16::from_be_bytes([head[4], head[5]]));
    let b = u64::from(u16::from_be_bytes([head[6], head[7]]));
    layout_arithmetic(&head[1..8]);
    if head[0] & 2 == 0 {
        let _ = strongbox_crypto::header_layout(rest);
        let blob = Bytes::copy_from_slice(rest);
        let plain_len = len % (MAX_PLAIN + 1);
        let range = scale(a, plain_len)..scale(b, plain_len);
        if let Ok(parts) = open_sealed(&keys, &ID, plain_len, &blob, range.clone()) {
            // Only an empty range may "open" without touching a chunk.
            assert!(parts.iter().all(|p| p.is_empty()), "raw bytes opened for {range:?}");
        }
        return;
    }
    let plain_len = len % (MAX_PLAIN + 1);
    let plain: Vec<u8> = if rest.is_empty() {
        vec![0; plain_len as usize]
    } else {
        rest.iter().copied().cycle().take(plain_len as usize).collect()
    };
    let Ok(blob) = seal(&keys, &plain) else {
        panic!("sealing {plain_len} bytes failed")
    };
    let (lo, hi) = (scale(a, plain_len), scale(b, plain_len));
    let range = lo.min(hi)..lo.max(hi);
    let want = &plain[range.start as usize..range.end as usize];
    let blob = Bytes::from(blob);
    let got = open_sealed(&keys, &ID, plain_len, &blob, range.clone()).expect("our own blob opens");
    assert_eq!(got.concat(), want, "wrong plaintext for {range:?}");

    let identity = if head[0] & 4 != 0 { &OTHER } else { &ID };
    let mut bad = blob.to_vec();
    if head[0] & 8 != 0 && !bad.is_empty() {
        let i = (usize::from(head[2]) << 8 | usize::from(head[5])) * bad.len() / 65536;
        bad[i] ^= 1 << (head[7] & 7);
    }
    if let Ok(parts) = open_sealed(&keys, identity, plain_len, &Bytes::from(bad), range.clone()) {
        let got = parts.concat();
        assert!(
            got.is_empty() || got == want,
            "a damaged blob yielded other bytes for {range:?}"
        );
        if head[0] & 4 != 0 {
            assert!(range.is_empty(), "a blob opened under another object's identity");
        }
    }
});

/// `blob_len` and `plain_len_for_blob_len` (what fsck and the blob reader
/// size files with) are inverse, for any length, both layouts.
fn layout_arithmetic(b: &[u8]) {
    let mut x = [0u8; 8];
    x[1..].copy_from_slice(b);
    let n = u64::from_be_bytes(x);
    for layout in [Layout::SINGLE, Layout::DUAL] {
        let blob = layout.blob_len(n);
        assert_eq!(layout.plain_len_for_blob_len(blob), Some(n), "{layout:?} {n}");
        if let Some(p) = layout.plain_len_for_blob_len(n) {
            assert_eq!(layout.blob_len(p), n, "{layout:?} blob length {n}");
        }
        let last = chunk_count(n) - 1;
        assert!(layout.chunk_file_offset(last) + layout.chunk_sealed_len(n, last) as u64 == blob);
    }
}

/// `v` (0..=65535) mapped onto 0..=plain_len.
fn scale(v: u64, plain_len: u64) -> u64 {
    v * plain_len / 65535
}

/// Seals `plain` the way the write path does: header, then full chunks, the
/// last one final.
fn seal(keys: &[&DataKey], plain: &[u8]) -> Result<Vec<u8>, strongbox_crypto::CryptoError> {
    let (mut sealer, header) = ChunkSealer::layered(keys, &ID)?;
    let mut out = header.to_vec();
    let n = chunk_count(plain.len() as u64) as usize;
    for i in 0..n {
        let chunk = plain
            .get(i * CHUNK_SIZE..((i + 1) * CHUNK_SIZE).min(plain.len()))
            .unwrap_or_default();
        let start = out.len();
        out.extend_from_slice(chunk);
        sealer.seal_tail(&mut out, start, i + 1 == n)?;
    }
    Ok(out)
}
