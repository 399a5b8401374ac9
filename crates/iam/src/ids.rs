//! AWS-shaped identifiers and secrets from the system's secure random
//! generator: `AIDA`/`AGPA`/`ANPA` + 17 and `AKIA` + 16 base32 characters,
//! and 40-character secret access keys.
use crate::IamError;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) const USER_PREFIX: &str = "AIDA";
pub(crate) const GROUP_PREFIX: &str = "AGPA";
pub(crate) const POLICY_PREFIX: &str = "ANPA";
pub(crate) const ROLE_PREFIX: &str = "AROA";

/// A temporary (STS) access key id: `ASIA` + 16 base32 characters.
pub(crate) fn temporary_access_key_id() -> Result<String, IamError> {
    Ok(format!("ASIA{}", random_chars(16, BASE32)?.as_str()))
}

/// `prefix` + 17 random base32 characters (a user, group or policy id).
pub(crate) fn unique_id(prefix: &str) -> Result<String, IamError> {
    Ok(format!("{prefix}{}", random_chars(17, BASE32)?.as_str()))
}

pub(crate) fn access_key_id() -> Result<String, IamError> {
    Ok(format!("AKIA{}", random_chars(16, BASE32)?.as_str()))
}

pub(crate) fn secret_access_key() -> Result<Zeroizing<String>, IamError> {
    random_chars(40, SECRET_ALPHABET)
}

fn random_chars(n: usize, alphabet: &[u8]) -> Result<Zeroizing<String>, IamError> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| IamError::internal("the random number generator failed"))?;
    // Both alphabets divide 256, so `% len` picks uniformly.
    let chars = bytes
        .iter()
        .map(|b| char::from(alphabet.get(usize::from(*b) % alphabet.len()).copied().unwrap_or(b'A')))
        .collect();
    Ok(Zeroizing::new(chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = unique_id(USER_PREFIX).unwrap();
        assert!(id.starts_with("AIDA") && id.len() == 21);
        assert!(id.bytes().all(|b| BASE32.contains(&b)));
        let ak = access_key_id().unwrap();
        assert!(ak.starts_with("AKIA") && ak.len() == 20);
        assert_eq!(secret_access_key().unwrap().len(), 40);
        assert_ne!(access_key_id().unwrap(), ak);
    }
}
