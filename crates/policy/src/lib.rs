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
pub use combine::{Authorization, NamedPolicy, StatementRef, Verdict, evaluate, policy_allows};
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
    /// A session of an IAM role (STS AssumeRole).
    AssumedRole {
        account: AccountId,
        role_name: String,
        /// The role's unique id (`AROA...`).
        role_id: String,
        /// `arn:aws:iam::<account>:role/<path><name>` (`aws:PrincipalArn`).
        role_arn: String,
        session_name: String,
    },
}

impl Principal {
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Principal::Anonymous => None,
            Principal::AccountRoot { account }
            | Principal::User { account, .. }
            | Principal::AssumedRole { account, .. } => Some(account),
        }
    }

    /// The principal's own ARN, as policies name it and GetCallerIdentity
    /// answers it: for a role session `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub fn arn(&self) -> Option<Cow<'_, str>> {
        match self {
            Principal::Anonymous => None,
            Principal::AccountRoot { account } => Some(Cow::Owned(account.root_arn())),
            Principal::User { arn, .. } => Some(Cow::Borrowed(arn)),
            Principal::AssumedRole {
                account,
                role_name,
                session_name,
                ..
            } => Some(Cow::Owned(format!(
                "arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
            ))),
        }
    }

    /// `aws:PrincipalArn`: the role's ARN for a role session, else [`Principal::arn`].
    pub fn principal_arn(&self) -> Option<Cow<'_, str>> {
        match self {
            Principal::AssumedRole { role_arn, .. } => Some(Cow::Borrowed(role_arn)),
            other => other.arn(),
        }
    }

    /// The role ARN a role session also matches in `Principal` elements.
    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Principal::AssumedRole { role_arn, .. } => Some(role_arn),
            _ => None,
        }
    }

    /// `aws:userid`: the account id, `AIDA...`, `AROA...:SESSION` or `anonymous`.
    pub fn userid(&self) -> Cow<'_, str> {
        match self {
            Principal::Anonymous => Cow::Borrowed("anonymous"),
            Principal::AccountRoot { account } => Cow::Borrowed(account.as_str()),
            Principal::User { id, .. } => Cow::Borrowed(id),
            Principal::AssumedRole {
                role_id, session_name, ..
            } => Cow::Owned(format!("{role_id}:{session_name}")),
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::Anonymous => "Anonymous",
            Principal::AccountRoot { .. } => "Account",
            Principal::User { .. } => "User",
            Principal::AssumedRole { .. } => "AssumedRole",
        }
    }
}
