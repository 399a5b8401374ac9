//! Entry point for the cargo-fuzz target `blob_reader` (`fuzz/`); not an API.
pub use crate::stream::open_sealed;
