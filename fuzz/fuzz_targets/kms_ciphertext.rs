//! The KMS ciphertext blob, as reached from Decrypt, ReEncrypt and S3's
//! SSE-KMS objects (docs/design/kms.md).
//!
//! Oracles:
//! - `ciphertext::parse` never panics on any input, and whatever it accepts
//!   never opens under a material nor with a context it was not sealed with;
//! - decode(encode(x)) == x: a blob sealed from the input's bytes (header,
//!   context, plaintext) parses back to the same header and opens to the same
//!   plaintext with the same context, and to nothing with any byte changed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_kms::EncryptionContext;
use strongbox_kms::ciphertext::{self, Header};

const MATERIAL: [u8; 32] = [0x5a; 32];

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = ciphertext::parse(data) {
        assert!(ciphertext::open(&MATERIAL, &parsed, &EncryptionContext::new()).is_err());
    }
    round_trip(data);
});

fn round_trip(data: &[u8]) {
    let Some((head, rest)) = data.split_at_checked(20) else { return };
    let mut key_id = [0u8; 16];
    key_id.copy_from_slice(&head[..16]);
    let material_version = u32::from_be_bytes([head[16], head[17], head[18], head[19]]);
    let header = Header { key_id, material_version };
    let (context_bytes, plaintext) = rest.split_at(rest.len() / 2);
    let mut context = EncryptionContext::new();
    for pair in String::from_utf8_lossy(context_bytes).split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            context.insert(k.to_owned(), v.to_owned());
        }
    }
    let blob = ciphertext::seal(&MATERIAL, header, &context, plaintext).expect("sealing succeeds");
    let parsed = ciphertext::parse(&blob).expect("a sealed blob parses");
    assert_eq!(parsed.header, header);
    let opened = ciphertext::open(&MATERIAL, &parsed, &context).expect("a sealed blob opens");
    assert_eq!(opened.as_slice(), plaintext);
    let mut other = context.clone();
    other.insert("extra".into(), String::new());
    if other != context {
        assert!(ciphertext::open(&MATERIAL, &parsed, &other).is_err());
    }
    let i = usize::from(head[0]) % blob.len();
    let mut bad = blob.clone();
    bad[i] ^= 0x01;
    assert!(ciphertext::parse(&bad).and_then(|p| ciphertext::open(&MATERIAL, &p, &context)).is_err());
}
