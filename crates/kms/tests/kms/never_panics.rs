//! Property tests of the ciphertext format: arbitrary bytes never panic and
//! never decrypt; sealed blobs round-trip; any single changed byte or any
//! other encryption context is refused. The same through `Kms::decrypt`.
use crate::support::*;
use proptest::prelude::*;
use strongbox_kms::ciphertext::{self, Header};
use strongbox_kms::{EncryptionContext, KmsError};

fn context() -> impl Strategy<Value = EncryptionContext> {
    prop::collection::btree_map("[a-z:/]{0,8}", ".{0,8}", 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_parse_or_fail_cleanly(blob in prop::collection::vec(any::<u8>(), 0..200), ctx in context()) {
        if let Ok(parsed) = ciphertext::parse(&blob) {
            prop_assert!(ciphertext::open(&[3; 32], &parsed, &ctx).is_err());
        }
    }

    #[test]
    fn sealed_blobs_round_trip_and_bind_everything(
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
        ctx in context(),
        other in context(),
        key_id in any::<[u8; 16]>(),
        version in any::<u32>(),
        flip_at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let material = [9u8; 32];
        let header = Header { key_id, material_version: version };
        let blob = ciphertext::seal(&material, header, &ctx, &plaintext).unwrap();
        let parsed = ciphertext::parse(&blob).unwrap();
        prop_assert_eq!(parsed.header, header);
        let opened = ciphertext::open(&material, &parsed, &ctx).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        if other != ctx {
            prop_assert!(ciphertext::open(&material, &parsed, &other).is_err());
        }
        let mut bad = blob.clone();
        let i = flip_at.index(bad.len());
        bad[i] ^= flip;
        let reopened = ciphertext::parse(&bad).and_then(|p| ciphertext::open(&material, &p, &ctx));
        prop_assert!(reopened.is_err());
    }
}

#[test]
fn kms_decrypt_refuses_arbitrary_bytes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(harness());
    let (id, _) = rt.block_on(h.key());
    let caller = h.s3_caller(None);
    let real = rt
        .block_on(h.kms.generate_data_key(&caller, &id, &EncryptionContext::new()))
        .unwrap()
        .ciphertext_blob;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(128));
    let strategy = (prop::collection::vec(any::<u8>(), 0..120), any::<bool>());
    runner
        .run(&strategy, |(noise, keep_header)| {
            // Half the cases keep a real header so they reach the key and its material.
            let blob = if keep_header {
                let mut b = real[..21].to_vec();
                b.extend_from_slice(&noise);
                b
            } else {
                noise
            };
            let r = rt.block_on(h.kms.decrypt(&caller, &blob, &EncryptionContext::new()));
            prop_assert_eq!(r.err(), Some(KmsError::InvalidCiphertext));
            Ok(())
        })
        .unwrap();
}
