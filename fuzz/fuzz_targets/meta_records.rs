//! The metadata records Strongbox keeps as JSON documents in SQLite
//! (`strongbox_meta`: object and upload documents, bucket tags and default
//! encryption, KMS key documents). They are written only by the server, so
//! this is about a damaged or hostile database file (restore, `admin fsck`):
//! decoding must fail cleanly, never panic, and never change a record.
//!
//! Input: byte 0 picks the record type, the rest is its JSON.
//!
//! Oracles:
//! - decoding (`serde_json::from_slice`, as the store does) never panics;
//! - a record that decodes re-encodes, and that decodes to an equal record
//!   (encode(decode(x)) is a fixed point);
//! - `AccountId::parse` accepts only what it prints back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strongbox_meta::{
    BucketEncryption, ContentHeaders, EncryptionRecord, KmsKeyDoc, ObjectChecksum, ObjectDoc, Segment, Tag, UploadDoc,
};

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(json: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(json) else {
        return;
    };
    let text = serde_json::to_string(&first).expect("a decoded record encodes");
    let second: T = serde_json::from_str(&text).expect("an encoded record decodes");
    assert_eq!(first, second, "{text}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, json)) = data.split_first() else { return };
    match sel % 10 {
        0 => round_trip::<ObjectDoc>(json),
        1 => round_trip::<UploadDoc>(json),
        2 => round_trip::<Vec<Tag>>(json),
        3 => round_trip::<BucketEncryption>(json),
        4 => round_trip::<EncryptionRecord>(json),
        5 => round_trip::<Segment>(json),
        6 => round_trip::<KmsKeyDoc>(json),
        7 => round_trip::<ContentHeaders>(json),
        8 => round_trip::<ObjectChecksum>(json),
        _ => {
            if let Ok(s) = std::str::from_utf8(json)
                && let Ok(id) = strongbox_types::AccountId::parse(s)
            {
                assert_eq!(id.to_string(), s);
            }
        }
    }
});
