//! What hashing a PUT body costs: MD5 (the ETag, always computed) and each
//! flexible checksum the engine supports (CRC32, CRC32C, CRC64/NVME, SHA-1,
//! SHA-256), over 64 KiB and 1 MiB buffers, fed the way the engine feeds
//! them: `md5::Md5` and `strongbox_engine::checksum::Hasher`, one `update` per buffer.
//!
//! Run: `cargo bench --ignore-rust-version -p strongbox-engine --bench hash`
//! (add `-- --sample-count 20` for a quick run; `-- crc` filters by name).
use divan::Bencher;
use divan::counter::BytesCount;
use md5::Digest as _;
use strongbox_engine::ChecksumAlgorithm;
use strongbox_engine::checksum::Hasher;

fn main() {
    divan::main();
}

const SIZES: [usize; 2] = [64 * 1024, 1024 * 1024];

#[divan::bench(args = SIZES)]
fn md5(bencher: Bencher, size: usize) {
    let data = payload(size);
    bencher.counter(BytesCount::new(size)).bench(|| {
        let mut h = md5::Md5::new();
        h.update(divan::black_box(&data));
        <[u8; 16]>::from(h.finalize())
    });
}

#[divan::bench(args = SIZES)]
fn crc32(bencher: Bencher, size: usize) {
    checksum(bencher, ChecksumAlgorithm::Crc32, size);
}

#[divan::bench(args = SIZES)]
fn crc32c(bencher: Bencher, size: usize) {
    checksum(bencher, ChecksumAlgorithm::Crc32c, size);
}

#[divan::bench(args = SIZES)]
fn crc64nvme(bencher: Bencher, size: usize) {
    checksum(bencher, ChecksumAlgorithm::Crc64Nvme, size);
}

#[divan::bench(args = SIZES)]
fn sha1(bencher: Bencher, size: usize) {
    checksum(bencher, ChecksumAlgorithm::Sha1, size);
}

#[divan::bench(args = SIZES)]
fn sha256(bencher: Bencher, size: usize) {
    checksum(bencher, ChecksumAlgorithm::Sha256, size);
}

fn checksum(bencher: Bencher, algorithm: ChecksumAlgorithm, size: usize) {
    let data = payload(size);
    bencher.counter(BytesCount::new(size)).bench(|| {
        let mut h = Hasher::new(algorithm);
        h.update(divan::black_box(&data));
        h.finish_raw()
    });
}

/// `size` bytes of a repeating pattern (the hashes do not care what).
fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}
