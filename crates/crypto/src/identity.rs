//! What a blob belongs to, reduced to a digest bound into every chunk.

use ring::digest;

/// Domain-separation label of the identity digest. DO NOT CHANGE: on-disk format.
const IDENTITY_LABEL: &[u8] = b"strongbox/v1/object-identity";

/// The object (or multipart part) a blob belongs to.
///
/// Its [`digest`](ObjectIdentity::digest) is part of every chunk's associated
/// data, so a chunk sealed for one bucket/key/version/part does not open as
/// part of another. Single-part objects use `part: 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectIdentity<'a> {
    /// Bucket name.
    pub bucket: &'a str,
    /// Object key.
    pub key: &'a str,
    /// Version id (the engine's internal version id for unversioned buckets too).
    pub version: &'a str,
    /// Multipart part number, 0 for a single-part object.
    pub part: u32,
}

impl ObjectIdentity<'_> {
    /// SHA-256 over `label || len(bucket) || bucket || len(key) || key ||
    /// len(version) || version || part`, lengths as u64 big-endian and the
    /// part as u32 big-endian, so distinct identities never encode alike.
    pub fn digest(&self) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for field in [
            IDENTITY_LABEL,
            self.bucket.as_bytes(),
            self.key.as_bytes(),
            self.version.as_bytes(),
        ] {
            ctx.update(&(field.len() as u64).to_be_bytes());
            ctx.update(field);
        }
        ctx.update(&self.part.to_be_bytes());
        let mut out = [0u8; 32];
        // INVARIANT: a SHA-256 digest is 32 bytes, so the lengths match.
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::ObjectIdentity;

    fn id<'a>(bucket: &'a str, key: &'a str, version: &'a str, part: u32) -> ObjectIdentity<'a> {
        ObjectIdentity {
            bucket,
            key,
            version,
            part,
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        assert_ne!(id("ab", "c", "v", 0).digest(), id("a", "bc", "v", 0).digest());
        assert_ne!(id("a", "bv", "", 0).digest(), id("a", "b", "v", 0).digest());
        assert_ne!(id("a", "b", "v", 0).digest(), id("a", "b", "v", 1).digest());
        assert_eq!(id("a", "b", "v", 7).digest(), id("a", "b", "v", 7).digest());
    }
}
