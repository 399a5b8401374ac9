//! STS session tokens (`X-Amz-Security-Token`): base64 → the root-key AEAD
//! (`open_secret`) → the JSON claims → key-id binding → expiry. The token is
//! read after the request's signature verified, but it is the one part of
//! temporary credentials a client can change freely.
//!
//! Input: the first line is a JSON claims document to seal (skipped if it
//! is not one), the rest is a token as a client sends it.
//!
//! Oracles:
//! - nothing panics;
//! - an arbitrary token never opens (it would need the root key);
//! - claims sealed under the root key open to the same claims for their
//!   own key id before expiry, never for another key id, and never once
//!   expired; a token with any byte changed never opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_crypto::RootKey;
use strongbox_iam::identity::{IdentityError, SessionClaims, open_token, seal_token};

fuzz_target!(|data: &[u8]| {
    let Ok(root) = RootKey::from_bytes(&[7u8; 32]) else { return };
    let (first, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let token = String::from_utf8_lossy(rest);
    assert!(
        open_token(&root, &token, "ASIAAAAAAAAAAAAAAAAA", 0).is_err(),
        "an unsealed token opened"
    );
    let Ok(claims) = serde_json::from_slice::<SessionClaims>(first) else { return };
    let Ok(sealed) = seal_token(&root, &claims) else { return };
    let before = claims.expires_ms.saturating_sub(1);
    if claims.expires_ms > i64::MIN {
        let opened = open_token(&root, &sealed, &claims.access_key, before).expect("own claims open");
        assert_eq!(opened, claims);
    }
    assert!(matches!(
        open_token(&root, &sealed, &format!("{}X", claims.access_key), before),
        Err(IdentityError::InvalidToken)
    ));
    assert!(open_token(&root, &sealed, &claims.access_key, claims.expires_ms).is_err());
    if let Some(&b) = rest.first() {
        let mut bytes = sealed.into_bytes();
        let i = usize::from(b) % bytes.len();
        bytes[i] ^= 0x01;
        if let Ok(t) = String::from_utf8(bytes) {
            assert!(open_token(&root, &t, &claims.access_key, before).is_err(), "a changed token opened");
        }
    }
});
