//! Request parameters of the Query protocol (`Action=...&Version=...` in an
//! `application/x-www-form-urlencoded` body and/or the query string), with
//! AWS's validation rules for the values IAM actions take, and pagination.
use crate::IamError;

/// Decoded parameters, in request order (query string first, then body).
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(query: Option<&str>, body: &[u8]) -> Result<Params, IamError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| IamError::ValidationError("The request body is not UTF-8 form data.".into()))?;
        let mut pairs = Vec::new();
        for part in query.into_iter().chain([body]).flat_map(|s| s.split('&')) {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((form_decode(k)?, form_decode(v)?));
        }
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A required parameter; `field` is its name in AWS's messages (`userName`).
    pub fn required(&self, name: &str, field: &str) -> Result<&str, IamError> {
        self.get(name)
            .ok_or_else(|| IamError::invalid(field, None, "Member must not be null"))
    }

    pub fn flag(&self, name: &str) -> Result<bool, IamError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(IamError::ValidationError(format!(
                "Invalid value '{v}' for parameter {name}: expected true or false"
            ))),
        }
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then `%XX`.
fn form_decode(s: &str) -> Result<String, IamError> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| IamError::ValidationError("Request parameters must be UTF-8.".into()))
}

const NAME_PATTERN: &str = "Member must satisfy regular expression pattern: [\\w+=,.@-]+";

fn check_length(field: &str, value: &str, min: usize, max: usize) -> Result<(), IamError> {
    let n = value.chars().count();
    if n < min {
        return Err(IamError::invalid(
            field,
            Some(value),
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(IamError::invalid(
            field,
            Some(value),
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// User, group and policy names: `[\w+=,.@-]+` (ASCII), `min..=max` characters.
pub fn name(field: &str, value: &str, max: usize) -> Result<(), IamError> {
    check_length(field, value, 1, max)?;
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid(field, Some(value), NAME_PATTERN))
    }
}

/// A user name being created (1-64) or referenced (1-128).
pub const USER_NAME_MAX: usize = 64;
pub const EXISTING_NAME_MAX: usize = 128;
pub const GROUP_NAME_MAX: usize = 128;
pub const POLICY_NAME_MAX: usize = 128;

/// `/` or `/a/b/`: printable ASCII between slashes, at most 512 characters.
pub fn path(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 1, 512)?;
    let printable = value.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if value == "/" || (printable && value.len() > 2 && value.starts_with('/') && value.ends_with('/')) {
        Ok(())
    } else {
        Err(IamError::invalid(
            field,
            Some(value),
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

/// A path prefix: `/` followed by printable ASCII.
pub fn path_prefix(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 1, 512)?;
    if value.starts_with('/') && value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(())
    } else {
        Err(IamError::invalid(
            field,
            Some(value),
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ))
    }
}

/// An ARN parameter (20-2048 characters).
pub fn arn(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 20, 2048)
}

/// A policy document: 1-131072 characters of tab, newline, carriage return or U+0020-U+00FF.
pub fn document(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 1, 131_072)?;
    let ok = value
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c));
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid(
            field,
            Some("<document>"),
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ))
    }
}

/// `v1`, `v2`, ...
pub fn version_id(field: &str, value: &str) -> Result<(), IamError> {
    let digits = value.strip_prefix('v').unwrap_or_default();
    let ok = !digits.is_empty() && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid(
            field,
            Some(value),
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ))
    }
}

/// An access key id: 16-128 word characters.
pub fn access_key_id(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 16, 128)?;
    if value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(IamError::invalid(
            field,
            Some(value),
            "Member must satisfy regular expression pattern: [\\w]+",
        ))
    }
}

pub fn description(field: &str, value: &str) -> Result<(), IamError> {
    check_length(field, value, 0, 1000)
}

/// `Marker` and `MaxItems` of a list call.
#[derive(Debug)]
pub struct Page {
    marker: Option<String>,
    max_items: usize,
}

impl Page {
    pub fn from(params: &Params) -> Result<Page, IamError> {
        let max_items = match params.get("MaxItems") {
            None => 100,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(IamError::invalid(
                        "maxItems",
                        Some(v),
                        "Member must have value between 1 and 1000",
                    ));
                }
            },
        };
        let marker = params.get("Marker").map(str::to_owned);
        if let Some(m) = &marker {
            check_length("marker", m, 1, 320)?;
        }
        Ok(Page { marker, max_items })
    }

    /// The page of `items` (sorted by `key`) starting at the marker, and the
    /// marker of the next page when there is one. Markers are the key of the
    /// first item not returned.
    pub fn apply<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
        let mut rest: Vec<T> = match &self.marker {
            Some(m) => items.into_iter().filter(|i| key(i).as_str() >= m.as_str()).collect(),
            None => items,
        };
        let next = rest.get(self.max_items).map(&key);
        rest.truncate(self.max_items);
        (rest, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let p = Params::parse(
            Some("Action=ListUsers"),
            b"Version=2010-05-08&PolicyDocument=%7B%22a%22%3A+1%7D&Empty=&Flag",
        )
        .unwrap();
        assert_eq!(p.get("Action"), Some("ListUsers"));
        assert_eq!(p.get("PolicyDocument"), Some(r#"{"a": 1}"#));
        assert_eq!(p.get("Empty"), Some(""));
        assert_eq!(p.get("Flag"), Some(""));
        assert!(
            matches!(p.required("UserName", "userName"), Err(IamError::ValidationError(m)) if m.contains("Value null at 'userName'"))
        );
        assert!(Params::parse(None, b"A=%FF").is_err());
    }

    #[test]
    fn names_paths_and_versions() {
        assert!(name("userName", "alice+ops=1,a.b@c-d_e", 64).is_ok());
        assert!(name("userName", "", 64).is_err());
        assert!(name("userName", "a b", 64).is_err());
        assert!(name("userName", "é", 64).is_err());
        assert!(name("userName", &"a".repeat(65), 64).is_err());
        assert!(path("path", "/").is_ok());
        assert!(path("path", "/a/b/").is_ok());
        assert!(path("path", "/a").is_err());
        assert!(path("path", "//").is_err());
        assert!(path("path", "/a b/").is_err());
        assert!(path_prefix("pathPrefix", "/a").is_ok());
        assert!(path_prefix("pathPrefix", "a").is_err());
        assert!(version_id("versionId", "v12").is_ok());
        assert!(version_id("versionId", "v0").is_err());
        assert!(version_id("versionId", "12").is_err());
    }

    #[test]
    fn pages_follow_markers() {
        let page = |m: Option<&str>, max: &str| {
            let mut q = format!("MaxItems={max}");
            if let Some(m) = m {
                q.push_str(&format!("&Marker={m}"));
            }
            Page::from(&Params::parse(Some(&q), b"").unwrap()).unwrap()
        };
        let items = vec!["a", "b", "c", "d", "e"];
        let key = |s: &&str| s.to_string();
        assert_eq!(
            page(None, "2").apply(items.clone(), key),
            (vec!["a", "b"], Some("c".into()))
        );
        assert_eq!(
            page(Some("c"), "2").apply(items.clone(), key),
            (vec!["c", "d"], Some("e".into()))
        );
        assert_eq!(page(Some("e"), "2").apply(items.clone(), key), (vec!["e"], None));
        assert!(Page::from(&Params::parse(Some("MaxItems=0"), b"").unwrap()).is_err());
    }
}
