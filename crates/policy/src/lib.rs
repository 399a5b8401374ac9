//! Authorization for Strongbox: the IAM policy language and the functions
//! that decide requests with it. Pure and sync: no I/O, no clock (times
//! arrive as condition keys), no async runtime. It does not store policies,
//! authenticate callers or fill in condition keys (`aws:username`,
//! `aws:SourceIp`, `aws:CurrentTime`, ...): the server does that and passes
//! the results in.
//!
//! The policy engine: [`Policy::parse`] turns JSON into a typed AST (strict
//! like AWS, errors with line and column), [`evaluate`] combines identity,
//! bucket, boundary and session policies into a [`Verdict`] naming the
//! statements that decided it. Modules: `json` (span-keeping reader),
//! `parse` (validation), `ast`, `pattern` (wildcards, policy variables),
//! `values` (decimals, dates, IP networks), `eval` (one statement),
//! `combine` (AWS's evaluation logic).
//! [`Policy::is_public`] applies AWS's "meaning of public" to a bucket policy.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod ast;
mod combine;
mod context;
mod error;
mod eval;
mod json;
mod parse;
mod pattern;
mod public;
pub mod values;

pub use ast::{
    ActionPattern, Condition, ConditionValue, Effect, Match, Operator, OperatorKind, Policy, PrincipalEntry,
    Principals, SetQualifier, Statement, Version,
};
pub use combine::{Authorization, NamedPolicy, StatementRef, Verdict, evaluate};
pub use context::{ContextKeys, PrincipalFacts, RequestFacts};
pub use error::{PolicyError, Position};
pub use parse::{MAX_BUCKET_POLICY_BYTES, MAX_IDENTITY_POLICY_CHARS, MAX_KEY_POLICY_BYTES, PolicyKind};
pub use pattern::Template;

use std::borrow::Cow;
use strongbox_types::AccountId;

/// Who is asking, as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// The root user of an account.
    AccountRoot {
        account: AccountId,
    },
    /// An IAM user of an account.
    User {
        account: AccountId,
        name: String,
        /// The unique id (`AIDA...`), `aws:userid`.
        id: String,
        /// `arn:aws:iam::<account>:user/<path><name>`.
        arn: String,
    },
}

impl Principal {
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Principal::Anonymous => None,
            Principal::AccountRoot { account } | Principal::User { account, .. } => Some(account),
        }
    }

    /// The principal's ARN (`aws:PrincipalArn`).
    pub fn arn(&self) -> Option<Cow<'_, str>> {
        match self {
            Principal::Anonymous => None,
            Principal::AccountRoot { account } => Some(Cow::Owned(account.root_arn())),
            Principal::User { arn, .. } => Some(Cow::Borrowed(arn)),
        }
    }
}
