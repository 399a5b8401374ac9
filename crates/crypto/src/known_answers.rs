//! Known-answer tests pinning the on-disk formats. The expected values were
//! computed by an independent implementation (Python `cryptography`) written
//! from `docs/design/encryption-format.md` alone, so they check the code and
//! the specification against each other. If one of these fails, the format
//! changed: existing data would no longer open.

use ring::digest;

use crate::chunk::ChunkSealer;
use crate::kdf::root_key_id;
use crate::{CHUNK_SIZE, CryptoError, DataKey, KeyProvider, ObjectIdentity, RootKey, RootKeyProvider, WrappedKey};

const IDENTITY: ObjectIdentity<'static> = ObjectIdentity {
    bucket: "b",
    key: "k",
    version: "v",
    part: 3,
};
const NONCE_PREFIX: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn data_key() -> Result<DataKey, CryptoError> {
    DataKey::from_bytes(&(0u8..32).collect::<Vec<_>>())
}

fn root_key() -> Result<RootKey, CryptoError> {
    RootKey::from_bytes(&[0x42; 32])
}

/// Seals `plain` with the fixed nonce prefix, header first.
fn seal_fixed(plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (mut sealer, header) = ChunkSealer::with_nonce_prefix(&data_key()?, &IDENTITY, NONCE_PREFIX)?;
    let mut blob = header.to_vec();
    let mut chunks = plain.chunks(CHUNK_SIZE).peekable();
    while let Some(chunk) = chunks.next() {
        let mut buf = chunk.to_vec();
        sealer.seal_next(&mut buf, chunks.peek().is_none())?;
        blob.extend_from_slice(&buf);
    }
    Ok(blob)
}

#[test]
fn identity_digest() {
    assert_eq!(
        hex(&IDENTITY.digest()),
        "6f5b0d0e0064cd15d1954e1f06e832edd2173c5717ce96872dfc6f451c852234"
    );
}

#[test]
fn single_chunk_blob() -> Result<(), CryptoError> {
    assert_eq!(
        hex(&seal_fixed(b"hello")?),
        "534258450101000100000102030405060708e27a42dce22c291b7fa6a5332a85e3ff05262f15bf"
    );
    Ok(())
}

#[test]
fn two_chunk_blob() -> Result<(), CryptoError> {
    let plain: Vec<u8> = (0..CHUNK_SIZE + 5).map(|i| (i % 251) as u8).collect();
    let blob = seal_fixed(&plain)?;
    assert_eq!(
        hex(digest::digest(&digest::SHA256, &blob).as_ref()),
        "7ba92d61b9b81147e83311bb7efc34735d7b26ae475a07ed268b33f551b5069a"
    );
    Ok(())
}

#[test]
fn root_key_id_derivation() -> Result<(), CryptoError> {
    assert_eq!(root_key_id(&root_key()?), "root-a3fb18d357f020e2");
    Ok(())
}

#[test]
fn wrapped_key_opens() -> Result<(), CryptoError> {
    let wrapped = WrappedKey(unhex(
        "0115726f6f742d613366623138643335376630323065320c0c0c0c0c0c0c0c0c0c0c0c\
         f3a51bc8a376d3d6343fa8442bcd3ca18f0cb3a2d1d6ee2f884c8e9eb6ba7317\
         c147d97fe1847513f6820398fb5c7869",
    ));
    let key = RootKeyProvider::new(root_key()?).unwrap(&wrapped, b"ctx")?;
    assert_eq!(key.bytes().as_slice(), (32u8..64).collect::<Vec<_>>().as_slice());
    Ok(())
}

#[test]
fn sealed_secret_opens() -> Result<(), CryptoError> {
    let sealed = unhex(
        "010d0d0d0d0d0d0d0d0d0d0d0d2049d2f67560bd199b41b67a51c6488ecfc4810ac6\
         5e2d983fcb4f2900be1c65cfa3c67db4",
    );
    let secret = crate::open_secret(&root_key()?, "iam/secret-access-key", &sealed)?;
    assert_eq!(secret.as_slice(), b"wJalrXUtnFEMI/K7MDENG");
    Ok(())
}
