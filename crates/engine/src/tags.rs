use crate::{EngineError, Result};
use std::collections::HashSet;
use strongbox_meta::Tag;

const MAX_OBJECT_TAGS: usize = 10;
const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

pub fn validate_object_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_OBJECT_TAGS {
        return Err(EngineError::InvalidTag("Object tags cannot be greater than 10".into()));
    }
    validate_each(tags)
}

pub fn validate_bucket_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_BUCKET_TAGS {
        return Err(EngineError::InvalidTag(
            "Bucket tag count cannot be greater than 50".into(),
        ));
    }
    validate_each(tags)
}

fn validate_each(tags: &[Tag]) -> Result<()> {
    let mut seen = HashSet::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > MAX_KEY_CHARS {
            return Err(EngineError::InvalidTag(
                "The TagKey you have provided is invalid".into(),
            ));
        }
        if t.value.chars().count() > MAX_VALUE_CHARS {
            return Err(EngineError::InvalidTag(
                "The TagValue you have provided is invalid".into(),
            ));
        }
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(EngineError::InvalidTag(
                "Your TagKey cannot be prefixed with aws:".into(),
            ));
        }
        if !seen.insert(t.key.as_str()) {
            return Err(EngineError::InvalidTag(
                "Cannot provide multiple Tags with the same key".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn limits_follow_aws() {
        let ten: Vec<Tag> = (0..10).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_object_tags(&ten).is_ok());
        let eleven: Vec<Tag> = (0..11).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_object_tags(&eleven).is_err());
        assert!(validate_object_tags(&[tag(&"k".repeat(128), &"v".repeat(256))]).is_ok());
        assert!(validate_object_tags(&[tag(&"k".repeat(129), "v")]).is_err());
        assert!(validate_object_tags(&[tag("k", &"v".repeat(257))]).is_err());
        assert!(validate_object_tags(&[tag("a", "1"), tag("a", "2")]).is_err());
        assert!(validate_object_tags(&[tag("aws:x", "1")]).is_err());
    }
}
