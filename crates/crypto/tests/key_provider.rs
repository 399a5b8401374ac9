//! Property tests of data-key wrapping and secret sealing under the root key.

mod common;

use common::{IDENTITY, open_blob, plaintext, seal_blob};
use proptest::prelude::*;
use strongbox_crypto::{
    CryptoError, DataKey, KeyProvider, RootKey, RootKeyProvider, WrappedKey, open_secret, seal_secret,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// The unwrapped key must be the same key: what one seals, the other opens.
fn same_key(a: &DataKey, b: &DataKey) -> Result<bool, CryptoError> {
    let blob = seal_blob(a, &IDENTITY, &plaintext(100, 1))?;
    Ok(open_blob(b, &IDENTITY, &blob).is_ok())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wrap_unwrap_round_trips(context in prop::collection::vec(any::<u8>(), 0..64)) {
        let provider = RootKeyProvider::new(RootKey::generate()?);
        let key = DataKey::generate()?;
        let wrapped = provider.wrap(&key, &context)?;
        prop_assert_eq!(wrapped.0[0], strongbox_crypto::WRAPPED_KEY_VERSION);
        prop_assert_eq!(wrapped.key_id()?, provider.key_id());
        let unwrapped = provider.unwrap(&wrapped, &context)?;
        prop_assert!(same_key(&key, &unwrapped)?);
    }

    #[test]
    fn unwrap_with_other_context_fails(context in prop::collection::vec(any::<u8>(), 0..64),
                                       other in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(context != other);
        let provider = RootKeyProvider::new(RootKey::generate()?);
        let wrapped = provider.wrap(&DataKey::generate()?, &context)?;
        prop_assert_eq!(provider.unwrap(&wrapped, &other).err(), Some(CryptoError::UnwrapFailed));
    }

    #[test]
    fn tampered_wrapped_key_fails(bit in any::<prop::sample::Index>()) {
        let provider = RootKeyProvider::new(RootKey::generate()?);
        let context = IDENTITY.digest();
        let WrappedKey(mut bytes) = provider.wrap(&DataKey::generate()?, &context)?;
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(provider.unwrap(&WrappedKey(bytes), &context).is_err());
    }

    #[test]
    fn truncated_wrapped_key_is_malformed(len in 0usize..81) {
        let provider = RootKeyProvider::new(RootKey::generate()?);
        let WrappedKey(bytes) = provider.wrap(&DataKey::generate()?, b"ctx")?;
        prop_assume!(len < bytes.len());
        prop_assert!(provider.unwrap(&WrappedKey(bytes[..len].to_vec()), b"ctx").is_err());
    }

    #[test]
    fn secret_round_trips(purpose in ".{0,40}", secret in prop::collection::vec(any::<u8>(), 0..100)) {
        let root = RootKey::generate()?;
        let sealed = seal_secret(&root, &purpose, &secret)?;
        prop_assert_eq!(sealed[0], strongbox_crypto::SEALED_SECRET_VERSION);
        let opened = open_secret(&root, &purpose, &sealed)?;
        prop_assert_eq!(opened.as_slice(), secret.as_slice());
    }

    #[test]
    fn secret_with_other_purpose_or_root_fails(purpose in ".{0,40}", other in ".{0,40}",
                                               secret in prop::collection::vec(any::<u8>(), 0..100)) {
        prop_assume!(purpose != other);
        let root = RootKey::generate()?;
        let sealed = seal_secret(&root, &purpose, &secret)?;
        prop_assert_eq!(open_secret(&root, &other, &sealed).err(), Some(CryptoError::SecretAuthentication));
        let other_root = RootKey::generate()?;
        prop_assert_eq!(open_secret(&other_root, &purpose, &sealed).err(), Some(CryptoError::SecretAuthentication));
    }

    #[test]
    fn tampered_secret_fails(secret in prop::collection::vec(any::<u8>(), 0..100), bit in any::<prop::sample::Index>()) {
        let root = RootKey::generate()?;
        let mut sealed = seal_secret(&root, "iam/secret-access-key", &secret)?;
        let bit = bit.index(sealed.len() * 8);
        sealed[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(open_secret(&root, "iam/secret-access-key", &sealed).is_err());
    }
}

#[test]
fn other_root_key_is_reported_by_id() -> Result<(), CryptoError> {
    let a = RootKeyProvider::new(RootKey::generate()?);
    let b = RootKeyProvider::new(RootKey::generate()?);
    assert_ne!(a.key_id(), b.key_id());
    let wrapped = a.wrap(&DataKey::generate()?, b"ctx")?;
    assert_eq!(
        b.unwrap(&wrapped, b"ctx").err(),
        Some(CryptoError::WrongKeyId {
            expected: b.key_id().to_owned(),
            found: a.key_id().to_owned()
        })
    );
    Ok(())
}

#[test]
fn provider_from_reloaded_root_key_unwraps() -> Result<(), CryptoError> {
    // The key file round trip: a restarted server must unwrap old keys.
    let root = RootKey::generate()?;
    let file = root.to_base64();
    let before = RootKeyProvider::new(root);
    let after = RootKeyProvider::new(RootKey::from_base64(&format!("{}\n", file.as_str()))?);
    assert_eq!(before.key_id(), after.key_id());
    let key = DataKey::generate()?;
    let wrapped = before.wrap(&key, b"ctx")?;
    assert!(same_key(&key, &after.unwrap(&wrapped, b"ctx")?)?);
    Ok(())
}

#[test]
fn secrets_and_wrapped_keys_use_different_keys() -> Result<(), CryptoError> {
    // A wrapped key presented as a sealed secret (and vice versa) does not open.
    let root = RootKey::generate()?;
    let provider = RootKeyProvider::new(root.clone());
    let sealed = seal_secret(&root, "p", &[7u8; 32])?;
    assert!(provider.unwrap(&WrappedKey(sealed), b"p").is_err());
    let WrappedKey(wrapped) = provider.wrap(&DataKey::generate()?, b"")?;
    assert!(open_secret(&root, "", &wrapped).is_err());
    Ok(())
}

#[test]
fn debug_output_reveals_no_key_material() -> Result<(), CryptoError> {
    let provider = RootKeyProvider::new(RootKey::generate()?);
    let printed = format!("{provider:?} {:?} {:?}", DataKey::generate()?, RootKey::generate()?);
    assert!(printed.contains("DataKey(..)") && printed.contains("RootKey(..)"));
    assert!(printed.contains(provider.key_id()));
    Ok(())
}

#[test]
fn opaque_etag_is_stable_per_key_and_hides_the_md5() -> Result<(), CryptoError> {
    let (a, b) = (DataKey::generate()?, DataKey::generate()?);
    let md5 = [7u8; 16];
    assert_eq!(a.opaque_etag(&md5), a.opaque_etag(&md5));
    assert_ne!(a.opaque_etag(&md5), b.opaque_etag(&md5));
    assert_ne!(a.opaque_etag(&md5), md5);
    Ok(())
}

#[test]
fn customer_key_fingerprint_depends_on_salt_and_key() {
    let f = strongbox_crypto::customer_key_fingerprint;
    assert_eq!(f(b"salt", b"key"), f(b"salt", b"key"));
    assert_ne!(f(b"salt", b"key"), f(b"salt2", b"key"));
    assert_ne!(f(b"salt", b"key"), f(b"salt", b"key2"));
}

#[test]
fn provider_with_key_id_wraps_under_its_own_material() -> Result<(), CryptoError> {
    let customer = RootKey::generate()?;
    let p = RootKeyProvider::with_key_id(customer.clone(), "customer");
    let dek = DataKey::generate()?;
    let wrapped = p.wrap(&dek, b"ctx")?;
    assert_eq!(wrapped.key_id()?, "customer");
    let other = RootKeyProvider::with_key_id(RootKey::generate()?, "customer");
    assert_eq!(other.unwrap(&wrapped, b"ctx").err(), Some(CryptoError::UnwrapFailed));
    assert!(
        RootKeyProvider::with_key_id(customer, "customer")
            .unwrap(&wrapped, b"ctx")
            .is_ok()
    );
    Ok(())
}
