//! What the metadata says is stored, for the offline consistency check
//! (`strongbox admin fsck`): every reference from an object or a multipart
//! part to its bytes (a blob file, or an `object_data` row for inline
//! objects), and every `object_data` row. The check itself, which compares
//! this with the files on disk, lives in the server crate.

/// One reference from a record to the sealed bytes it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRef {
    /// Who needs the bytes, for messages: `object b/k` or `part 2 of upload U (b/k)`.
    pub owner: String,
    /// The blob id (file name, or `object_data` id when inline).
    pub blob_id: String,
    /// Plaintext length: with the layout, it fixes the sealed length.
    pub plain_size: u64,
    /// The record's encryption scheme (`aws:kms:dsse` seals every chunk twice).
    pub scheme: String,
    /// The bytes are an `object_data` row, not a blob file.
    pub inline: bool,
}

/// One `object_data` row: its length and first bytes, not the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineRow {
    pub id: String,
    pub len: u64,
    /// At most the first [`INLINE_HEAD_LEN`] bytes.
    pub head: Vec<u8>,
}

/// How many leading bytes of an inline row [`MetaInventory`] carries: the
/// encrypted-blob header length, which is all a check without keys reads.
pub const INLINE_HEAD_LEN: usize = 18;

/// A consistent snapshot (one read transaction) of what the metadata references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaInventory {
    pub objects: u64,
    pub parts: u64,
    pub refs: Vec<StoredRef>,
    pub inline_rows: Vec<InlineRow>,
    /// Records that do not parse: `object b/k: <reason>`.
    pub unreadable: Vec<String>,
}
