use crate::InvalidValue;
use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(id: &str) -> Result<Self, InvalidValue> {
        if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidValue::AccountId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ARN of the account's root user, as policies name it.
    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> Self {
        value.0
    }
}

/// Lowercase hex of `bytes` random bytes, for identifiers that must not be
/// guessable (upload ids, blob ids, request ids). Randomness comes from the
/// caller so this crate stays free of I/O.
pub fn random_hex(random: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(random.len() * 2);
    for b in random {
        // INVARIANT: writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
        assert_eq!(
            AccountId::parse("111122223333").map(|a| a.root_arn()).ok().as_deref(),
            Some("arn:aws:iam::111122223333:root")
        );
    }

    #[test]
    fn hex_encodes_every_byte() {
        assert_eq!(random_hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
