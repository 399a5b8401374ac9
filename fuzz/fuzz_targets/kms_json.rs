//! KMS JSON 1.1 request bodies (`POST /`, `X-Amz-Target: TrentService.<Op>`):
//! `strongbox_kms::fuzzing::decode` runs the body parse and the parameter
//! reads (types, base64 blobs, encryption contexts, tags, page limits, enum
//! values) each operation does before it touches a key. Bodies reach this
//! after SigV4 authentication, so the callers are key holders, not anyone.
//!
//! Input: byte 0 picks the operation, the rest is the body.
//!
//! Oracles:
//! - decoding never panics;
//! - every refusal is a 4xx KMS error whose JSON body parses and carries
//!   `__type` equal to the error code, the same code as `x-amzn-ErrorType`,
//!   and the message when there is one;
//! - an empty or all-whitespace body decodes as `{}` (so it fails only
//!   for a missing required parameter).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_kms::fuzzing::{OPERATIONS, decode, error_body};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let op = OPERATIONS[usize::from(sel) % OPERATIONS.len()];
    let result = decode(op, body);
    if let Err(e) = &result {
        assert!(e.status().is_client_error(), "{op}: {e:?} is not a client error");
        let (text, error_type) = error_body(e);
        let v: serde_json::Value = serde_json::from_str(&text).expect("the error body is JSON");
        assert_eq!(v["__type"].as_str(), Some(e.code()));
        assert_eq!(error_type, Some(e.code()));
        let message = e.message();
        if !message.is_empty() {
            assert_eq!(v["message"].as_str(), Some(message.as_str()));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        assert_eq!(result.is_ok(), decode(op, b"{}").is_ok());
    }
});
