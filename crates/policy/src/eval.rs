//! Does one statement apply to one request? Principal, action, resource,
//! then every condition. Knows nothing of how policies combine
//! (that is [`crate::combine`]).

use std::cmp::Ordering;
use std::net::IpAddr;

use base64::Engine as _;

use crate::ast::{
    ActionPattern, Condition, ConditionValue, Effect, Match, OperatorKind, Policy, PrincipalEntry, Principals,
    SetQualifier, Statement,
};
use crate::context::{ContextKeys, PrincipalFacts, RequestFacts};
use crate::parse::parse_bool;
use crate::pattern::{Prefix, Template, Tok, check_prefix, wildcard_match};
use crate::values::{Decimal, Timestamp};

/// How a statement's principal element matched the caller. The combining
/// function needs the difference: naming an account only delegates to that
/// account's identity policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    /// Through an account id or account root ARN.
    Account,
    /// Through the ARN of the role the caller is a session of.
    Role,
    /// Through the caller's own ARN, service or canonical id, or NotPrincipal.
    Direct,
    /// Through `"*"` or `{"AWS": "*"}`: everyone, anonymous included.
    Public,
}

/// A statement that applies to the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applicable {
    pub index: usize,
    pub effect: Effect,
    /// `None` for statements without a principal element (identity policies).
    pub principal: Option<PrincipalMatch>,
}

/// Every statement of `policy` that applies to the request, in order.
pub(crate) fn applicable<'p>(policy: &'p Policy, facts: &RequestFacts<'p>) -> impl Iterator<Item = Applicable> + 'p {
    let facts = *facts;
    policy
        .statements
        .iter()
        .enumerate()
        .filter_map(move |(index, statement)| {
            let principal = match &statement.principal {
                None => None,
                Some(element) => Some(principal_element(element, &facts.principal)?),
            };
            statement_matches(statement, &facts).then_some(Applicable {
                index,
                effect: statement.effect,
                principal,
            })
        })
}

fn statement_matches(statement: &Statement, facts: &RequestFacts<'_>) -> bool {
    let action = |p: &ActionPattern| match check_prefix(&p.prefix, facts.action, true) {
        Prefix::Mismatch => false,
        Prefix::Matched(n) => wildcard_match(
            p.toks.get(n..).unwrap_or_default(),
            facts.action.get(n..).unwrap_or_default(),
            true,
        ),
        Prefix::Unknown => wildcard_match(&p.toks, facts.action, true),
    };
    let resource = |t: &Template| t.matches(facts.resource, facts.context, false);
    element(&statement.action, action)
        && element(&statement.resource, resource)
        && statement.conditions.iter().all(|c| condition_holds(c, facts.context))
}

fn element<T>(element: &Match<Vec<T>>, matches: impl Fn(&T) -> bool) -> bool {
    match element {
        Match::Any(items) => items.iter().any(matches),
        Match::NoneOf(items) => !items.iter().any(matches),
    }
}

fn principal_element(element: &Match<Principals>, who: &PrincipalFacts<'_>) -> Option<PrincipalMatch> {
    match element {
        Match::Any(principals) => principal_match(principals, who),
        Match::NoneOf(principals) => principal_match(principals, who)
            .is_none()
            .then_some(PrincipalMatch::Direct),
    }
}

fn principal_match(principals: &Principals, who: &PrincipalFacts<'_>) -> Option<PrincipalMatch> {
    let entries = match principals {
        Principals::Everyone => return Some(PrincipalMatch::Public),
        Principals::List(entries) => entries,
    };
    entries.iter().filter_map(|entry| entry_match(entry, who)).max()
}

fn entry_match(entry: &PrincipalEntry, who: &PrincipalFacts<'_>) -> Option<PrincipalMatch> {
    let hit = match entry {
        PrincipalEntry::AnyAws => return Some(PrincipalMatch::Public),
        PrincipalEntry::Account(account) => {
            return (who.account == Some(account.as_str())).then_some(PrincipalMatch::Account);
        }
        PrincipalEntry::Arn(arn) if who.arn == Some(arn.as_str()) => true,
        PrincipalEntry::Arn(arn) => {
            return (who.role_arn == Some(arn.as_str())).then_some(PrincipalMatch::Role);
        }
        PrincipalEntry::Service(service) => who.service.is_some_and(|s| s.eq_ignore_ascii_case(service)),
        PrincipalEntry::CanonicalUser(id) => who.canonical_user == Some(id.as_str()),
        PrincipalEntry::Federated(_) => false,
    };
    hit.then_some(PrincipalMatch::Direct)
}

/// One condition entry, with AWS's rules for absent keys, negated operators,
/// `...IfExists` and the set qualifiers.
pub(crate) fn condition_holds(condition: &Condition, context: &ContextKeys) -> bool {
    let operator = condition.operator;
    let present = context.get(&condition.key);
    if operator.kind == OperatorKind::Null {
        let absent = present.is_none();
        return condition
            .values
            .iter()
            .any(|v| matches!(v, ConditionValue::Bool(Some(b)) if *b == absent));
    }
    let Some(request_values) = present else {
        return match operator.set {
            _ if operator.if_exists => true,
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => operator.kind.is_negated(),
        };
    };
    let single = |r: &String| matches_any(condition, r, context).map(|hit| hit != operator.kind.is_negated());
    let mut results = request_values.iter().map(single);
    let outcome = match operator.set {
        Some(SetQualifier::ForAllValues) => results.try_fold(true, |acc, r| r.map(|r| acc && r)),
        Some(SetQualifier::ForAnyValue) => results.try_fold(false, |acc, r| r.map(|r| acc || r)),
        None if operator.kind.is_negated() => results.try_fold(true, |acc, r| r.map(|r| acc && r)),
        None => results.try_fold(false, |acc, r| r.map(|r| acc || r)),
    };
    outcome.unwrap_or(false)
}

/// Whether `request` matches any policy value under the operator's positive
/// form; `None` when a value cannot be read for the operator.
fn matches_any(condition: &Condition, request: &str, context: &ContextKeys) -> Option<bool> {
    let mut hit = false;
    for value in &condition.values {
        hit |= positive_test(condition.operator.kind, value, request, context)?;
    }
    Some(hit)
}

fn positive_test(kind: OperatorKind, value: &ConditionValue, request: &str, context: &ContextKeys) -> Option<bool> {
    use OperatorKind as K;
    let result = match (kind, value) {
        (K::StringEquals | K::StringNotEquals, ConditionValue::Text(t)) => t.equals(request, context, false),
        (K::StringEqualsIgnoreCase | K::StringNotEqualsIgnoreCase, ConditionValue::Text(t)) => {
            t.equals(request, context, true)
        }
        (K::StringLike | K::StringNotLike, ConditionValue::Text(t)) => t.matches(request, context, false),
        (K::ArnEquals | K::ArnLike | K::ArnNotEquals | K::ArnNotLike, ConditionValue::Text(t)) => {
            arn_like(t, request, context)
        }
        (_, ConditionValue::Number(Some(policy))) => numeric(kind, Decimal::compare_text(request, policy)?)?,
        (_, ConditionValue::Date(Some(policy))) => date(kind, &Timestamp::parse(request)?, policy)?,
        (K::Bool, ConditionValue::Bool(Some(policy))) => parse_bool(request)? == *policy,
        (K::BinaryEquals, ConditionValue::Binary(Some(policy))) => {
            base64::engine::general_purpose::STANDARD.decode(request.trim()).ok()? == *policy
        }
        (K::IpAddress | K::NotIpAddress, ConditionValue::Ip(Some(net))) => {
            net.contains(request.trim().parse::<IpAddr>().ok()?)
        }
        _ => return None,
    };
    Some(result)
}

fn numeric(kind: OperatorKind, request_vs_policy: Ordering) -> Option<bool> {
    use OperatorKind as K;
    use Ordering::{Equal, Greater, Less};
    Some(match kind {
        K::NumericEquals | K::NumericNotEquals => request_vs_policy == Equal,
        K::NumericLessThan => request_vs_policy == Less,
        K::NumericLessThanEquals => request_vs_policy != Greater,
        K::NumericGreaterThan => request_vs_policy == Greater,
        K::NumericGreaterThanEquals => request_vs_policy != Less,
        _ => return None,
    })
}

fn date(kind: OperatorKind, request: &Timestamp, policy: &Timestamp) -> Option<bool> {
    use OperatorKind as K;
    Some(match kind {
        K::DateEquals | K::DateNotEquals => request == policy,
        K::DateLessThan => request < policy,
        K::DateLessThanEquals => request <= policy,
        K::DateGreaterThan => request > policy,
        K::DateGreaterThanEquals => request >= policy,
        _ => return None,
    })
}

/// Component-wise ARN match: both sides split into their six `:`-separated
/// parts (the last keeps any further colons), each part matched with
/// wildcards, case-sensitively.
fn arn_like(template: &Template, request: &str, context: &ContextKeys) -> bool {
    let Some(toks) = template.resolve(context) else {
        return false;
    };
    let mut policy_parts = toks.splitn(6, |t| *t == Tok::Char(':'));
    let mut request_parts = request.splitn(6, ':');
    for _ in 0..6 {
        match (policy_parts.next(), request_parts.next()) {
            (Some(p), Some(r)) if wildcard_match(p, r, false) => {}
            _ => return false,
        }
    }
    true
}
