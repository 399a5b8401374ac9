//! The combining function: every policy that bears on a request, folded into
//! one [`Verdict`] that names the statements that decided it, following
//! AWS's "Policy evaluation logic". Explicit deny beats allow beats implicit
//! deny; an error (an unreadable value) can only ever fail to allow.

use crate::ast::{Effect, Policy};
use crate::context::RequestFacts;
use crate::eval::{PrincipalMatch, applicable};

/// A policy with the name the audit log should use for it.
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub policy: &'a Policy,
}

/// Everything that can allow or deny one request.
#[derive(Debug, Clone, Copy)]
pub struct Authorization<'a> {
    pub facts: RequestFacts<'a>,
    /// The caller's identity policies (user, group and role policies).
    pub identity_policies: &'a [NamedPolicy<'a>],
    /// The bucket policy, if any.
    pub resource_policy: Option<NamedPolicy<'a>>,
    /// The account id owning the resource; `None` (unknown) is treated as
    /// another account, which needs both an identity and a resource allow.
    pub resource_owner: Option<&'a str>,
    /// Limits identity permissions when present.
    pub permissions_boundary: Option<NamedPolicy<'a>>,
    /// Limits identity permissions when present (any one must allow).
    pub session_policies: &'a [NamedPolicy<'a>],
}

/// The decision and the statements behind it (serializable for audit logs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "decision")]
pub enum Verdict {
    /// `by` is empty when the account root acts on its own resource with no
    /// statement involved.
    Allow {
        by: Vec<StatementRef>,
    },
    ExplicitDeny {
        by: Vec<StatementRef>,
    },
    ImplicitDeny,
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allow { .. })
    }
}

/// Names one statement: its policy, its `Sid` and its 0-based position.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementRef {
    pub policy: String,
    pub sid: Option<String>,
    pub index: usize,
}

/// Who the caller is relative to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// A service or canonical-user principal: no account, no identity policies.
    Service,
    OwnerRoot,
    SameAccount,
    OtherRoot,
    OtherAccount,
}

/// One applicable statement, kept as indices until the verdict is built.
#[derive(Clone, Copy)]
struct Hit<'p> {
    named: &'p NamedPolicy<'p>,
    index: usize,
    principal: Option<PrincipalMatch>,
}

/// Applicable statements of some policies, split by effect.
#[derive(Default)]
struct Found<'p> {
    allows: Vec<Hit<'p>>,
    denies: Vec<Hit<'p>>,
}

/// Decides the request described by `a`.
pub fn evaluate(a: &Authorization<'_>) -> Verdict {
    let identity = find_all(a.identity_policies, &a.facts);
    let resource = find_all(a.resource_policy.as_slice(), &a.facts);
    let boundary = find_all(a.permissions_boundary.as_slice(), &a.facts);
    let session = find_all(a.session_policies, &a.facts);
    let all = [&identity, &resource, &boundary, &session];
    if all.iter().any(|found| !found.denies.is_empty()) {
        return Verdict::ExplicitDeny {
            by: refs(all.iter().flat_map(|found| &found.denies)),
        };
    }
    let within_limits = (a.permissions_boundary.is_none() || !boundary.allows.is_empty())
        && (a.session_policies.is_empty() || !session.allows.is_empty());
    let within_session = a.session_policies.is_empty() || !session.allows.is_empty();
    let granted =
        |accept: fn(PrincipalMatch) -> bool| resource.allows.iter().filter(move |h| h.principal.is_some_and(accept));
    let public = |m: PrincipalMatch| m == PrincipalMatch::Public;
    let named = |m: PrincipalMatch| m >= PrincipalMatch::Role;
    // AWS: within an account, a resource policy that names the user or the
    // role session ARN itself is not limited by a boundary or session policy.
    let exact = |m: PrincipalMatch| m == PrincipalMatch::Direct;
    let limited = |m: PrincipalMatch| m >= PrincipalMatch::Role && m != PrincipalMatch::Direct;
    let any = |_: PrincipalMatch| true;
    let by_identity = identity.allows.iter();
    match caller(a) {
        Caller::Anonymous => allow_if(refs(granted(public)), within_limits),
        Caller::Service => allow_if(refs(granted(named)), within_limits),
        Caller::OwnerRoot if a.session_policies.is_empty() => Verdict::Allow {
            by: refs(by_identity.chain(granted(any))),
        },
        // A root session with session policies: the root's own rights, narrowed.
        Caller::OwnerRoot => allow_if(
            refs(by_identity.chain(granted(any)))
                .into_iter()
                .chain(root_marker())
                .collect(),
            within_limits,
        ),
        Caller::SameAccount => {
            let unlimited = refs(granted(exact));
            if !unlimited.is_empty() {
                return Verdict::Allow { by: unlimited };
            }
            allow_if(refs(by_identity.chain(granted(limited))), within_limits)
        }
        // Roots have no boundary; a root session's session policies still narrow it.
        Caller::OtherRoot => allow_if(refs(granted(any)), within_session),
        Caller::OtherAccount => {
            let both = !identity.allows.is_empty() && granted(any).next().is_some();
            allow_if(
                if both {
                    refs(by_identity.chain(granted(any)))
                } else {
                    Vec::new()
                },
                within_limits,
            )
        }
    }
}

/// Stands for "the account root's own permission" in a verdict that needs
/// at least one entry to allow.
fn root_marker() -> Option<StatementRef> {
    Some(StatementRef {
        policy: "account-root".to_owned(),
        sid: None,
        index: 0,
    })
}

fn allow_if(by: Vec<StatementRef>, within_limits: bool) -> Verdict {
    if by.is_empty() || !within_limits {
        Verdict::ImplicitDeny
    } else {
        Verdict::Allow { by }
    }
}

fn refs<'h, 'p: 'h>(hits: impl Iterator<Item = &'h Hit<'p>>) -> Vec<StatementRef> {
    hits.map(|hit| StatementRef {
        policy: hit.named.name.to_owned(),
        sid: hit.named.policy.statements.get(hit.index).and_then(|s| s.sid.clone()),
        index: hit.index,
    })
    .collect()
}

fn caller(a: &Authorization<'_>) -> Caller {
    let who = &a.facts.principal;
    let same = who.account.is_some() && who.account == a.resource_owner;
    match (who.account, who.is_account_root(), same) {
        (None, _, _) if who.is_anonymous() => Caller::Anonymous,
        (None, _, _) => Caller::Service,
        (Some(_), true, true) => Caller::OwnerRoot,
        (Some(_), false, true) => Caller::SameAccount,
        (Some(_), true, false) => Caller::OtherRoot,
        (Some(_), false, false) => Caller::OtherAccount,
    }
}

fn find_all<'p>(policies: &'p [NamedPolicy<'p>], facts: &RequestFacts<'_>) -> Found<'p> {
    let mut found = Found::default();
    for named in policies {
        for hit in applicable(named.policy, facts) {
            let entry = Hit {
                named,
                index: hit.index,
                principal: hit.principal,
            };
            match hit.effect {
                Effect::Deny => found.denies.push(entry),
                Effect::Allow => found.allows.push(entry),
            }
        }
    }
    found
}

/// Whether `policy` (a resource or trust policy) itself allows the request:
/// an Allow statement applies and no Deny does. A role's trust policy must
/// allow every AssumeRole, whatever the caller's own policies say.
pub fn policy_allows(policy: &Policy, facts: &RequestFacts<'_>) -> bool {
    let named = [NamedPolicy { name: "", policy }];
    let found = find_all(&named, facts);
    found.denies.is_empty() && !found.allows.is_empty()
}
