//! What the engine is told about a request: who asks, for what action on
//! which resource, and the condition keys (`aws:SourceIp`, `s3:prefix`, ...).
//! The caller builds these; the engine never looks anything up itself.

/// Who is asking. All `None` means an anonymous caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrincipalFacts<'a> {
    /// `arn:aws:iam::111122223333:root`, a user, role or assumed-role ARN.
    pub arn: Option<&'a str>,
    /// The principal's 12-digit account id.
    pub account: Option<&'a str>,
    /// For AWS service principals, e.g. `cloudfront.amazonaws.com`.
    pub service: Option<&'a str>,
    /// The S3 canonical user id.
    pub canonical_user: Option<&'a str>,
    /// For a role session, the role's ARN: a `Principal` naming the role
    /// matches all its sessions (but, unlike the session ARN, such a grant
    /// stays limited by session policies and the role's boundary).
    pub role_arn: Option<&'a str>,
}

impl PrincipalFacts<'_> {
    /// True when nothing identifies the caller.
    pub fn is_anonymous(&self) -> bool {
        self.arn.is_none() && self.account.is_none() && self.service.is_none() && self.canonical_user.is_none()
    }

    /// True for `arn:aws:iam::<account>:root` of the caller's own account.
    pub fn is_account_root(&self) -> bool {
        let (Some(arn), Some(account)) = (self.arn, self.account) else {
            return false;
        };
        arn.strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
            == Some(account)
    }
}

/// The request being decided.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub principal: PrincipalFacts<'a>,
    /// e.g. `s3:GetObject`.
    pub action: &'a str,
    /// One ARN, e.g. `arn:aws:s3:::bucket/key`.
    pub resource: &'a str,
    pub context: &'a ContextKeys,
}

/// Condition keys: case-insensitive names, one or more string values each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextKeys {
    entries: Vec<(String, Vec<String>)>,
}

impl ContextKeys {
    pub fn new() -> Self {
        ContextKeys::default()
    }

    /// Adds `value` to `key` (a key may hold several values).
    pub fn insert(&mut self, key: &str, value: &str) {
        self.insert_multi(key, [value]);
    }

    /// Adds every value of `values` to `key`.
    pub fn insert_multi<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let values = values.into_iter().map(|v| v.as_ref().to_owned());
        match self.entries.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, existing)) => existing.extend(values),
            None => self.entries.push((key.to_owned(), values.collect())),
        }
    }

    /// Every key with its values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The values of `key` (compared ASCII case-insensitively); `None` when the
    /// key is absent or has no values.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
            .filter(|v| !v.is_empty())
    }
}
