use crate::InvalidValue;
use std::fmt;

/// Longest object key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// An object key: any non-empty UTF-8 string up to 1024 bytes. Keys are
/// opaque names: `../`, `//`, leading and trailing slashes are ordinary
/// characters, and no file name is ever derived from a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(key: &str) -> Result<Self, InvalidValue> {
        if key.is_empty() {
            return Err(InvalidValue::EmptyKey);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(InvalidValue::KeyTooLong);
        }
        // NUL cannot be carried in XML listings; AWS rejects it too.
        if key.contains('\0') {
            return Err(InvalidValue::KeyCharacters);
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_but_legal_keys_are_accepted() {
        for k in ["../etc/passwd", "a//b", "/lead", "trail/", "é漢字🙂", " "] {
            assert!(ObjectKey::parse(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn length_is_counted_in_bytes() {
        assert!(ObjectKey::parse(&"a".repeat(1024)).is_ok());
        assert_eq!(ObjectKey::parse(&"a".repeat(1025)), Err(InvalidValue::KeyTooLong));
        // 342 three-byte characters = 1026 bytes.
        assert_eq!(ObjectKey::parse(&"漢".repeat(342)), Err(InvalidValue::KeyTooLong));
        assert_eq!(ObjectKey::parse(""), Err(InvalidValue::EmptyKey));
    }
}
