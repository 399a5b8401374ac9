//! The typed policy AST. Every value here was produced by [`crate::parse`]
//! and is valid by construction: operators are enums, condition values are
//! already converted for their operator, patterns are compiled.

use crate::pattern::{Template, Tok};
use crate::values::{Decimal, IpNet, Timestamp};

/// A parsed, validated IAM policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// The policy language version. A missing `Version` means 2008-10-17, in
/// which policy variables are not substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// An element that AWS lets policies state positively or negatively
/// (`Action` / `NotAction`, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum Match<T> {
    /// Applies when the request matches one of the entries.
    Any(T),
    /// Applies when the request matches none of the entries.
    NoneOf(T),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` in identity policies.
    pub principal: Option<Match<Principals>>,
    pub action: Match<Vec<ActionPattern>>,
    pub resource: Match<Vec<Template>>,
    /// All must hold (AND).
    pub conditions: Vec<Condition>,
}

/// The value of `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"`: everyone, anonymous callers included.
    Everyone,
    List(Vec<PrincipalEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `{"AWS": "*"}`: everyone, anonymous callers included.
    AnyAws,
    /// A 12-digit account id or `arn:aws:iam::ACCOUNT:root`: the account.
    Account(String),
    /// A user, role or assumed-role ARN (exact match).
    Arn(String),
    Service(String),
    CanonicalUser(String),
    /// Accepted but never matched: Strongbox has no federation.
    Federated(String),
}

/// `service:Pattern`, matched case-insensitively with wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub(crate) source: String,
    pub(crate) toks: Vec<Tok>,
    /// Literal ASCII head, for fast rejection.
    pub(crate) prefix: String,
}

impl ActionPattern {
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// One `operator -> key -> values` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written; looked up case-insensitively.
    pub key: String,
    /// Several values OR together (negated operators: match none).
    pub values: Vec<ConditionValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub kind: OperatorKind,
    /// The `...IfExists` form: an absent key makes the condition true.
    pub if_exists: bool,
    pub set: Option<SetQualifier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// A condition value, converted once for its operator. `None` inside means
/// the text could not be read for this operator: it then matches nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionValue {
    Text(Template),
    Number(Option<Decimal>),
    Date(Option<Timestamp>),
    Bool(Option<bool>),
    Binary(Option<Vec<u8>>),
    Ip(Option<IpNet>),
}

impl OperatorKind {
    /// Every operator with its AWS name (case-sensitive).
    pub const ALL: [(&'static str, OperatorKind); 27] = [
        ("StringEquals", OperatorKind::StringEquals),
        ("StringNotEquals", OperatorKind::StringNotEquals),
        ("StringEqualsIgnoreCase", OperatorKind::StringEqualsIgnoreCase),
        ("StringNotEqualsIgnoreCase", OperatorKind::StringNotEqualsIgnoreCase),
        ("StringLike", OperatorKind::StringLike),
        ("StringNotLike", OperatorKind::StringNotLike),
        ("NumericEquals", OperatorKind::NumericEquals),
        ("NumericNotEquals", OperatorKind::NumericNotEquals),
        ("NumericLessThan", OperatorKind::NumericLessThan),
        ("NumericLessThanEquals", OperatorKind::NumericLessThanEquals),
        ("NumericGreaterThan", OperatorKind::NumericGreaterThan),
        ("NumericGreaterThanEquals", OperatorKind::NumericGreaterThanEquals),
        ("DateEquals", OperatorKind::DateEquals),
        ("DateNotEquals", OperatorKind::DateNotEquals),
        ("DateLessThan", OperatorKind::DateLessThan),
        ("DateLessThanEquals", OperatorKind::DateLessThanEquals),
        ("DateGreaterThan", OperatorKind::DateGreaterThan),
        ("DateGreaterThanEquals", OperatorKind::DateGreaterThanEquals),
        ("Bool", OperatorKind::Bool),
        ("BinaryEquals", OperatorKind::BinaryEquals),
        ("IpAddress", OperatorKind::IpAddress),
        ("NotIpAddress", OperatorKind::NotIpAddress),
        ("ArnEquals", OperatorKind::ArnEquals),
        ("ArnLike", OperatorKind::ArnLike),
        ("ArnNotEquals", OperatorKind::ArnNotEquals),
        ("ArnNotLike", OperatorKind::ArnNotLike),
        ("Null", OperatorKind::Null),
    ];

    /// Negated operators hold when the request value matches none of the
    /// policy values, and when the key is absent.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            OperatorKind::StringNotEquals
                | OperatorKind::StringNotEqualsIgnoreCase
                | OperatorKind::StringNotLike
                | OperatorKind::NumericNotEquals
                | OperatorKind::DateNotEquals
                | OperatorKind::NotIpAddress
                | OperatorKind::ArnNotEquals
                | OperatorKind::ArnNotLike
        )
    }
}
