//! The KMS end to end below HTTP: requests signed with the sigv4 crate's
//! `sign`, handled by `Kms::handle` over a real SQLite store, plus the entry
//! points the S3 layer calls.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
#![expect(
    clippy::indexing_slicing,
    reason = "JSON indexing in tests yields Null, never panics"
)]

mod aliases;
mod authz;
mod crypto;
mod keys;
mod never_panics;
mod rotation;
mod s3;
mod sessions;
mod support;
