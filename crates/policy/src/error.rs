//! The one error type of policy parsing: an AWS-like message naming the
//! problem, and where in the document it is.

use std::fmt;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Why a policy document was rejected (AWS answers `MalformedPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// AWS-like wording, e.g. `Policy has invalid action`.
    pub message: String,
    /// Where the offending element starts; `None` for whole-document problems.
    pub position: Option<Position>,
}

impl PolicyError {
    pub(crate) fn at(message: &str, position: Position) -> Self {
        PolicyError {
            message: message.to_owned(),
            position: Some(position),
        }
    }

    pub(crate) fn document(message: &str) -> Self {
        PolicyError {
            message: message.to_owned(),
            position: None,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} (line {}, column {})", self.message, p.line, p.column),
            None => f.write_str(&self.message),
        }
    }
}
