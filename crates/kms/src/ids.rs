//! Key ids (random UUIDs), ARNs, and the forms a caller may name a key in:
//! key id, key ARN, alias name (`alias/x`) or alias ARN.
use crate::KmsError;
use ring::rand::{SecureRandom, SystemRandom};

/// A fresh random (version 4) UUID, lowercase.
pub(crate) fn new_uuid() -> Result<String, KmsError> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| KmsError::internal("the system random number generator failed"))?;
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | 0x40;
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    Ok(format_uuid(&b))
}

/// `8-4-4-4-12` lowercase hex.
pub fn format_uuid(b: &[u8; 16]) -> String {
    let hex = strongbox_types::random_hex(b);
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// The 16 bytes of a UUID in `8-4-4-4-12` form (either case).
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let groups: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lens != [8, 4, 4, 4, 12] {
        return None;
    }
    let hex: String = groups.concat();
    let bytes = hex::decode_lenient(&hex)?;
    bytes.try_into().ok()
}

mod hex {
    pub fn decode_lenient(s: &str) -> Option<Vec<u8>> {
        let digits: Option<Vec<u8>> = s
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect();
        let digits = digits?;
        Some(
            digits
                .chunks(2)
                .map(|p| p.iter().fold(0u8, |acc, d| (acc << 4) | d))
                .collect(),
        )
    }
}

pub(crate) fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{key_id}")
}

pub(crate) fn alias_arn(region: &str, account: &str, alias_name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{alias_name}")
}

/// How a request named a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key id of the caller's account.
    Id(String),
    KeyArn {
        account: String,
        id: String,
    },
    /// `alias/x` of the caller's account.
    Alias(String),
    AliasArn {
        account: String,
        name: String,
    },
}

impl KeyRef {
    /// Parses a `KeyId` parameter; ARNs must be KMS ARNs of `region`.
    pub fn parse(text: &str, region: &str) -> Result<KeyRef, KmsError> {
        if text.is_empty() {
            return Err(KmsError::invalid(
                "keyId",
                Some(text),
                "Member must have length greater than or equal to 1",
            ));
        }
        if text.len() > 2048 {
            return Err(KmsError::invalid(
                "keyId",
                Some(text),
                "Member must have length less than or equal to 2048",
            ));
        }
        if text.starts_with("alias/") {
            return Ok(KeyRef::Alias(text.to_owned()));
        }
        let Some(rest) = text.strip_prefix("arn:") else {
            return Ok(KeyRef::Id(text.to_ascii_lowercase()));
        };
        let invalid = || KmsError::NotFound(format!("Invalid arn {text}"));
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, arn_region, account, resource] = parts.as_slice() else {
            return Err(invalid());
        };
        if *partition != "aws" || *service != "kms" {
            return Err(invalid());
        }
        if *arn_region != region {
            return Err(KmsError::NotFound(format!("Invalid arn {arn_region}")));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            return Ok(KeyRef::KeyArn {
                account: (*account).to_owned(),
                id: id.to_ascii_lowercase(),
            });
        }
        if resource.starts_with("alias/") {
            return Ok(KeyRef::AliasArn {
                account: (*account).to_owned(),
                name: (*resource).to_owned(),
            });
        }
        Err(invalid())
    }

    /// The alias name when the key was named through an alias (`kms:RequestAlias`).
    pub fn alias(&self) -> Option<&str> {
        match self {
            KeyRef::Alias(name) | KeyRef::AliasArn { name, .. } => Some(name),
            KeyRef::Id(_) | KeyRef::KeyArn { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_and_are_version_4() {
        let id = new_uuid().unwrap_or_default();
        assert_eq!(id.len(), 36);
        assert_eq!(id.chars().nth(14), Some('4'));
        let bytes = parse_uuid(&id).unwrap_or_default();
        assert_eq!(format_uuid(&bytes), id);
        assert_eq!(parse_uuid(&id.to_ascii_uppercase()), Some(bytes));
        assert_eq!(parse_uuid("not-a-uuid"), None);
        assert_eq!(parse_uuid("1234abcd-12ab-34cd-56ef-1234567890aZ"), None);
    }

    #[test]
    fn key_references() {
        let r = "us-east-1";
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(KeyRef::parse(id, r).ok(), Some(KeyRef::Id(id.into())));
        assert_eq!(
            KeyRef::parse(&format!("arn:aws:kms:us-east-1:111122223333:key/{id}"), r).ok(),
            Some(KeyRef::KeyArn {
                account: "111122223333".into(),
                id: id.into()
            })
        );
        assert_eq!(KeyRef::parse("alias/x", r).ok(), Some(KeyRef::Alias("alias/x".into())));
        assert_eq!(
            KeyRef::parse("arn:aws:kms:us-east-1:111122223333:alias/x/y", r).ok(),
            Some(KeyRef::AliasArn {
                account: "111122223333".into(),
                name: "alias/x/y".into()
            })
        );
        assert!(matches!(
            KeyRef::parse(&format!("arn:aws:kms:eu-west-1:111122223333:key/{id}"), r),
            Err(KmsError::NotFound(m)) if m == "Invalid arn eu-west-1"
        ));
        assert!(KeyRef::parse("arn:aws:s3:::bucket", r).is_err());
        assert!(KeyRef::parse("", r).is_err());
    }
}
