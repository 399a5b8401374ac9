use crate::InvalidValue;
use std::fmt;

/// A general-purpose bucket name under AWS's naming rules: 3-63 characters of
/// lowercase letters, digits, dots and hyphens; starts and ends with a letter
/// or digit; no adjacent dots; not an IPv4 address; none of the reserved
/// prefixes and suffixes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketName(String);

const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 4] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];

impl BucketName {
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        if is_valid(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidValue::BucketName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BucketName {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<BucketName> for String {
    fn from(value: BucketName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_aws_examples() {
        for ok in [
            "docexamplebucket1",
            "log-delivery-march-2020",
            "my-hosted-content",
            "a.b.c",
            "abc",
        ] {
            assert!(BucketName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_aws_counter_examples() {
        let long = "a".repeat(64);
        for bad in [
            "doc_example_bucket",
            "DocExampleBucket",
            "doc-example-bucket-",
            "ab",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
            "my.-bucket",
            long.as_str(),
            "",
        ] {
            assert_eq!(BucketName::parse(bad), Err(InvalidValue::BucketName), "{bad}");
        }
    }
}
