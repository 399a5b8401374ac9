//! The S3 checksum algorithms, computed while a body streams through.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::Digest as _;

/// A flexible-checksum algorithm S3 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [Self::Crc32, Self::Crc32c, Self::Crc64Nvme, Self::Sha1, Self::Sha256];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The name as S3 spells it (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header carrying this checksum, e.g. `x-amz-checksum-crc32`.
    pub fn header_name(self) -> String {
        format!("x-amz-checksum-{}", self.as_str().to_ascii_lowercase())
    }

    /// Whether a full-object checksum of a multipart upload can be combined from parts.
    pub fn is_crc(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }
}

enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64(crc64fast_nvme::Digest),
    // ring's SHA-256 uses SHA-NI here (about 1.4 GiB/s) but its SHA-1 is
    // portable code (0.3 GiB/s); the sha1 crate's uses SHA-NI.
    Sha1(sha1::Sha1),
    Sha256(ring::digest::Context),
}

/// One running checksum.
pub struct Hasher {
    algorithm: ChecksumAlgorithm,
    state: State,
}

impl Hasher {
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(ring::digest::Context::new(&ring::digest::SHA256)),
        };
        Self { algorithm, state }
    }

    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(h) => h.update(data),
            State::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            State::Crc64(d) => d.write(data),
            State::Sha1(h) => sha1::Digest::update(h, data),
            State::Sha256(h) => h.update(data),
        }
    }

    /// The raw digest bytes (big-endian for CRCs, as S3 encodes them).
    pub fn finish_raw(self) -> Vec<u8> {
        match self.state {
            State::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            State::Crc32c(c) => c.to_be_bytes().to_vec(),
            State::Crc64(d) => d.sum64().to_be_bytes().to_vec(),
            State::Sha1(h) => sha1::Digest::finalize(h).to_vec(),
            State::Sha256(h) => h.finish().as_ref().to_vec(),
        }
    }

    /// The base64 value as carried in `x-amz-checksum-*` headers.
    pub fn finish(self) -> String {
        B64.encode(self.finish_raw())
    }
}

/// Computes `algorithm` over `data` in one go.
pub fn checksum_of(algorithm: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish_raw()
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn from_b64(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.trim()).ok()
}

/// MD5 for ETags and Content-MD5.
pub fn md5_of(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// Full-object checksum of a concatenation from its parts' checksums and
/// sizes (CRCs only: SHA digests cannot be combined).
pub fn combine(algorithm: ChecksumAlgorithm, parts: &[Vec<u8>], sizes: &[u64]) -> Option<Vec<u8>> {
    let (poly, width) = match algorithm {
        ChecksumAlgorithm::Crc32 => (0xEDB8_8320, 32),
        ChecksumAlgorithm::Crc32c => (0x82F6_3B78, 32),
        ChecksumAlgorithm::Crc64Nvme => (0x9A6C_9329_AC4B_C9B5, 64),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return None,
    };
    let mut acc: Option<u64> = None;
    for (raw, len) in parts.iter().zip(sizes) {
        let crc = raw
            .iter()
            .try_fold(0u64, |a, b| (raw.len() <= 8).then_some((a << 8) | u64::from(*b)))?;
        acc = Some(match acc {
            None => crc,
            Some(prev) => crc_combine(prev, crc, *len, poly, width),
        });
    }
    let v = acc?;
    Some(if width == 32 {
        (v as u32).to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    })
}

type Matrix = [u64; 64];

fn gf2_times(mat: &Matrix, mut vec: u64) -> u64 {
    let mut sum = 0;
    for row in mat {
        if vec == 0 {
            break;
        }
        if vec & 1 != 0 {
            sum ^= row;
        }
        vec >>= 1;
    }
    sum
}

fn gf2_square(mat: &Matrix) -> Matrix {
    let mut out = [0u64; 64];
    for (o, row) in out.iter_mut().zip(mat) {
        *o = gf2_times(mat, *row);
    }
    out
}

/// zlib's crc32_combine, generalised to any reflected CRC with all-ones
/// init and xor-out (CRC32, CRC32C, CRC64/NVME): the CRC of A||B from
/// crc(A), crc(B) and len(B), by applying len(B) zero bytes as GF(2) matrix powers.
fn crc_combine(crc1: u64, crc2: u64, len2: u64, poly: u64, width: u32) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    // The operator for one zero bit.
    let mut odd = [0u64; 64];
    let mut row = 1u64;
    for (n, slot) in odd.iter_mut().enumerate().take(width as usize) {
        *slot = if n == 0 { poly } else { row };
        if n > 0 {
            row <<= 1;
        }
    }
    let mut even = gf2_square(&odd); // two zero bits
    odd = gf2_square(&even); // four zero bits
    let (mut crc1, mut len2) = (crc1, len2);
    loop {
        even = gf2_square(&odd);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        odd = gf2_square(&even);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Values from AWS's documentation / RFC test vectors for "hello world"-style inputs.
        assert_eq!(
            b64(&checksum_of(ChecksumAlgorithm::Crc32, b"123456789")),
            b64(&0xCBF4_3926u32.to_be_bytes())
        );
        assert_eq!(
            b64(&checksum_of(ChecksumAlgorithm::Crc32c, b"123456789")),
            b64(&0xE306_9283u32.to_be_bytes())
        );
        assert_eq!(
            b64(&checksum_of(ChecksumAlgorithm::Crc64Nvme, b"123456789")),
            b64(&0xAE8B_1486_0A79_9888u64.to_be_bytes())
        );
        assert_eq!(
            hex::encode(checksum_of(ChecksumAlgorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex::encode(md5_of(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn combined_crc_equals_crc_of_concatenation(a in proptest::collection::vec(0u8.., 0..300), b in proptest::collection::vec(0u8.., 0..300), c in proptest::collection::vec(0u8.., 0..50)) {
            for alg in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Crc64Nvme] {
                let parts = vec![checksum_of(alg, &a), checksum_of(alg, &b), checksum_of(alg, &c)];
                let sizes = [a.len() as u64, b.len() as u64, c.len() as u64];
                let whole = checksum_of(alg, &[a.clone(), b.clone(), c.clone()].concat());
                proptest::prop_assert_eq!(combine(alg, &parts, &sizes), Some(whole));
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.header_name(), "x-amz-checksum-crc64nvme");
    }
}
