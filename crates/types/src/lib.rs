//! Value types shared by every Strongbox crate: bucket names, object keys,
//! account ids and identifiers, each with a parsing constructor so that an
//! invalid value cannot be represented past the trust boundary.
//!
//! This crate owns validation rules only; it performs no I/O.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bucket;
mod ids;
mod key;

pub use bucket::BucketName;
pub use ids::{AccountId, random_hex};
pub use key::{MAX_KEY_LEN, ObjectKey};

/// Why a value was rejected; the message is shown to S3 clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("The specified bucket is not valid.")]
    BucketName,
    #[error("Your key is too long")]
    KeyTooLong,
    #[error("Object key must not be empty")]
    EmptyKey,
    #[error("Object key contains characters that are not allowed")]
    KeyCharacters,
    #[error("Account id must be 12 digits")]
    AccountId,
}
