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
//!
//! The legacy [`authorize`] is still what the server calls until it switches
//! to [`evaluate`]. It knows one rule, ownership: the root user of the
//! account that owns a bucket may do anything on it; any authenticated
//! principal may act on its own account (ListBuckets, CreateBucket);
//! everything else, anonymous callers included, is implicitly denied.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod ast;
mod combine;
mod context;
mod error;
mod eval;
mod json;
mod parse;
mod pattern;
pub mod values;

pub use ast::{
    ActionPattern, Condition, ConditionValue, Effect, Match, Operator, OperatorKind, Policy, PrincipalEntry,
    Principals, SetQualifier, Statement, Version,
};
pub use combine::{Authorization, NamedPolicy, StatementRef, Verdict, evaluate};
pub use context::{ContextKeys, PrincipalFacts, RequestFacts};
pub use error::{PolicyError, Position};
pub use parse::{MAX_BUCKET_POLICY_BYTES, MAX_IDENTITY_POLICY_CHARS, PolicyKind};
pub use pattern::Template;

use strongbox_types::AccountId;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// The root user of an account.
    AccountRoot {
        account: AccountId,
    },
}

/// What the request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Account-level operations (ListBuckets, CreateBucket of a new name).
    Account,
    /// A bucket or an object in it, with the bucket's owning account.
    Bucket { owner: AccountId },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// The IAM action, e.g. `s3:GetObject`.
    pub action: &'a str,
    pub resource: &'a Resource,
}

/// The outcome and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow { reason: &'static str },
    ImplicitDeny { reason: &'static str },
    ExplicitDeny { reason: &'static str },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// Decides `request`. Anything not positively allowed is denied.
pub fn authorize(request: &Request<'_>) -> Decision {
    match (request.principal, request.resource) {
        (Principal::Anonymous, _) => Decision::ImplicitDeny {
            reason: "anonymous access is not granted by any policy",
        },
        (Principal::AccountRoot { .. }, Resource::Account) => Decision::Allow {
            reason: "principals act on their own account",
        },
        (Principal::AccountRoot { account }, Resource::Bucket { owner }) if account == owner => Decision::Allow {
            reason: "the bucket owner's root user",
        },
        (Principal::AccountRoot { .. }, Resource::Bucket { .. }) => Decision::ImplicitDeny {
            reason: "no policy grants this account access to the bucket",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    #[test]
    fn owner_root_is_allowed_and_others_are_not() {
        let owner = Resource::Bucket {
            owner: acct("111111111111"),
        };
        let root = Principal::AccountRoot {
            account: acct("111111111111"),
        };
        let other = Principal::AccountRoot {
            account: acct("222222222222"),
        };
        let req = |p| Request {
            principal: p,
            action: "s3:GetObject",
            resource: &owner,
        };
        assert!(authorize(&req(&root)).is_allowed());
        assert!(!authorize(&req(&other)).is_allowed());
        assert!(!authorize(&req(&Principal::Anonymous)).is_allowed());
        let account = Request {
            principal: &Principal::Anonymous,
            action: "s3:ListAllMyBuckets",
            resource: &Resource::Account,
        };
        assert!(!authorize(&account).is_allowed());
    }
}
