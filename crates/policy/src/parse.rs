//! JSON text -> [`Policy`]: strict like AWS (unknown fields are errors), and
//! checked for the kind of policy being stored (bucket, identity or KMS key).

use crate::ast::{
    ActionPattern, Condition, ConditionValue, Effect, Match, Operator, OperatorKind, Policy, PrincipalEntry,
    Principals, SetQualifier, Statement, Version,
};
use crate::error::{PolicyError, Position};
use crate::json::{self, Member, Spanned, Value};
use crate::pattern::{Template, ascii_prefix, tokens};
use crate::values::{Decimal, IpNet, Timestamp};
use base64::Engine as _;

/// Where a policy is attached; decides what it may contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// A bucket (resource) policy of `bucket`.
    Bucket { bucket: String },
    /// An identity policy (user, role, boundary or session policy).
    Identity,
    /// A KMS key policy: like a bucket policy it names principals, like an
    /// identity policy it may name any service's actions and `"Resource": "*"`.
    Key,
    /// A role's trust policy (AssumeRolePolicyDocument): names principals,
    /// has no `Resource` (the role is the resource), and only STS actions.
    Trust,
}

/// AWS's limit for bucket policies, in bytes.
pub const MAX_BUCKET_POLICY_BYTES: usize = 20_480;
/// AWS's limit for KMS key policies, in bytes.
pub const MAX_KEY_POLICY_BYTES: usize = 32_768;
/// AWS's limit for managed identity policies, in non-whitespace characters.
pub const MAX_IDENTITY_POLICY_CHARS: usize = 6_144;

impl Policy {
    /// Parses and validates `json` as a policy of `kind`.
    pub fn parse(json: &str, kind: &PolicyKind) -> Result<Policy, PolicyError> {
        check_size(json, kind)?;
        if !json.trim_start().starts_with('{') {
            let message = "Policies must be valid JSON and the first byte must be '{'";
            return Err(PolicyError::at(message, Position { line: 1, column: 1 }));
        }
        let doc = json::parse(json)?;
        Parser { kind }.policy(&doc)
    }
}

fn check_size(json: &str, kind: &PolicyKind) -> Result<(), PolicyError> {
    let too_big = match kind {
        PolicyKind::Bucket { .. } => json.len() > MAX_BUCKET_POLICY_BYTES,
        PolicyKind::Key => json.len() > MAX_KEY_POLICY_BYTES,
        // IAM counts the trust policy quota (ACLSizePerRole) itself.
        PolicyKind::Trust => false,
        PolicyKind::Identity => json.chars().filter(|c| !c.is_whitespace()).count() > MAX_IDENTITY_POLICY_CHARS,
    };
    if too_big {
        return Err(PolicyError::document(
            "Policy document exceeds the maximum allowed size",
        ));
    }
    Ok(())
}

struct Parser<'k> {
    kind: &'k PolicyKind,
}

const POLICY_FIELDS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_FIELDS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Parser<'_> {
    fn policy(&self, doc: &Spanned) -> Result<Policy, PolicyError> {
        let members = object(doc)?;
        check_fields(members, &POLICY_FIELDS)?;
        let version = match field(members, "Version") {
            None => Version::V2008_10_17,
            Some(v) => match string(v)? {
                "2012-10-17" => Version::V2012_10_17,
                "2008-10-17" => Version::V2008_10_17,
                _ => return Err(PolicyError::at("Invalid policy version", v.pos)),
            },
        };
        let id = field(members, "Id").map(|v| string(v).map(str::to_owned)).transpose()?;
        let Some(body) = field(members, "Statement") else {
            return Err(PolicyError::at("Missing required field Statement", doc.pos));
        };
        let items = items_of(body);
        if items.is_empty() {
            return Err(PolicyError::at("Missing required field Statement", body.pos));
        }
        let statements = items
            .into_iter()
            .map(|s| self.statement(s, version))
            .collect::<Result<Vec<_>, _>>()?;
        check_unique_sids(&statements, &items_of(body))?;
        Ok(Policy {
            version,
            id,
            statements,
        })
    }

    fn statement(&self, node: &Spanned, version: Version) -> Result<Statement, PolicyError> {
        let members = object(node)?;
        check_fields(members, &STATEMENT_FIELDS)?;
        let sid = field(members, "Sid")
            .map(|v| string(v).map(str::to_owned))
            .transpose()?;
        let effect = match field(members, "Effect") {
            None => return Err(PolicyError::at("Missing required field Effect", node.pos)),
            Some(v) => match string(v)? {
                "Allow" => Effect::Allow,
                "Deny" => Effect::Deny,
                _ => return Err(PolicyError::at("Invalid effect", v.pos)),
            },
        };
        let principal = self.principal(members, node.pos)?;
        let action = self.actions(members, node.pos)?;
        let resource = self.resources(members, node.pos, version)?;
        let conditions = match field(members, "Condition") {
            None => Vec::new(),
            Some(c) => conditions(c, version)?,
        };
        Ok(Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
        })
    }

    fn principal(&self, members: &[Member], pos: Position) -> Result<Option<Match<Principals>>, PolicyError> {
        let (name, value, negated) = match either(members, "Principal", "NotPrincipal", pos)? {
            Some(found) => found,
            None if matches!(
                self.kind,
                PolicyKind::Bucket { .. } | PolicyKind::Key | PolicyKind::Trust
            ) =>
            {
                return Err(PolicyError::at("Missing required field Principal", pos));
            }
            None => return Ok(None),
        };
        if *self.kind == PolicyKind::Identity {
            return Err(PolicyError::at(&format!("Has prohibited field {name}"), value.pos));
        }
        let principals = principals(value)?;
        Ok(Some(if negated {
            Match::NoneOf(principals)
        } else {
            Match::Any(principals)
        }))
    }

    fn actions(&self, members: &[Member], pos: Position) -> Result<Match<Vec<ActionPattern>>, PolicyError> {
        let Some((_, value, negated)) = either(members, "Action", "NotAction", pos)? else {
            return Err(PolicyError::at("Missing required field Action", pos));
        };
        let mut patterns = Vec::new();
        for item in strings(value, "Policy has invalid action")? {
            let text = string(item)?;
            if !self.valid_action(text) {
                let message = if *self.kind == PolicyKind::Trust {
                    "AssumeRole policy may only specify STS AssumeRole actions."
                } else {
                    "Policy has invalid action"
                };
                return Err(PolicyError::at(message, item.pos));
            }
            let toks = tokens(text);
            let prefix = ascii_prefix(&toks);
            patterns.push(ActionPattern {
                source: text.to_owned(),
                toks,
                prefix,
            });
        }
        Ok(if negated {
            Match::NoneOf(patterns)
        } else {
            Match::Any(patterns)
        })
    }

    fn valid_action(&self, text: &str) -> bool {
        if text == "*" {
            return true;
        }
        let Some((service, name)) = text.split_once(':') else {
            return false;
        };
        let service_ok = !service.is_empty() && service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let name_ok = !name.is_empty() && !name.contains(':');
        let kind_ok = match self.kind {
            PolicyKind::Bucket { .. } => service.eq_ignore_ascii_case("s3"),
            PolicyKind::Identity | PolicyKind::Key => true,
            PolicyKind::Trust => service.eq_ignore_ascii_case("sts"),
        };
        service_ok && name_ok && kind_ok
    }

    fn resources(
        &self,
        members: &[Member],
        pos: Position,
        version: Version,
    ) -> Result<Match<Vec<Template>>, PolicyError> {
        if *self.kind == PolicyKind::Trust {
            if either(members, "Resource", "NotResource", pos)?.is_some() {
                return Err(PolicyError::at("Has prohibited field Resource", pos));
            }
            // The role itself is the only resource a trust policy is about.
            return Ok(Match::Any(vec![Template::new("*", true)]));
        }
        let Some((_, value, negated)) = either(members, "Resource", "NotResource", pos)? else {
            return Err(PolicyError::at("Missing required field Resource", pos));
        };
        let mut templates = Vec::new();
        for item in strings(value, "Policy has invalid resource")? {
            let text = string(item)?;
            if !self.valid_resource(text) {
                return Err(PolicyError::at("Policy has invalid resource", item.pos));
            }
            templates.push(Template::new(text, version == Version::V2012_10_17));
        }
        Ok(if negated {
            Match::NoneOf(templates)
        } else {
            Match::Any(templates)
        })
    }

    fn valid_resource(&self, text: &str) -> bool {
        match self.kind {
            PolicyKind::Bucket { bucket } => text
                .strip_prefix("arn:aws:s3:::")
                .and_then(|rest| rest.strip_prefix(bucket.as_str()))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            PolicyKind::Identity | PolicyKind::Key | PolicyKind::Trust => {
                text == "*" || (text.starts_with("arn:") && text.split(':').count() >= 6)
            }
        }
    }
}

/// The statement nodes of a `Statement` element (an object or an array).
fn items_of(body: &Spanned) -> Vec<&Spanned> {
    match &body.value {
        Value::Array(items) => items.iter().collect(),
        _ => vec![body],
    }
}

/// AWS: "Statement IDs (SID) in a single policy must be unique".
fn check_unique_sids(statements: &[Statement], nodes: &[&Spanned]) -> Result<(), PolicyError> {
    for (i, statement) in statements.iter().enumerate() {
        let Some(sid) = &statement.sid else { continue };
        if statements.iter().take(i).any(|s| s.sid.as_ref() == Some(sid)) {
            let pos = nodes.get(i).map_or(Position { line: 1, column: 1 }, |n| n.pos);
            return Err(PolicyError::at(
                "Statement IDs (SID) in a single policy must be unique",
                pos,
            ));
        }
    }
    Ok(())
}

fn principals(value: &Spanned) -> Result<Principals, PolicyError> {
    let invalid = || PolicyError::at("Invalid principal in policy", value.pos);
    let members = match &value.value {
        Value::String(s) if s == "*" => return Ok(Principals::Everyone),
        Value::Object(members) if !members.is_empty() => members,
        _ => return Err(invalid()),
    };
    let mut entries = Vec::new();
    for member in members {
        for item in strings(&member.value, "Invalid principal in policy")? {
            let text = string(item)?;
            let entry = match member.key.as_str() {
                "AWS" => aws_principal(text),
                "Service" if !text.is_empty() => Some(PrincipalEntry::Service(text.to_owned())),
                "CanonicalUser" if !text.is_empty() => Some(PrincipalEntry::CanonicalUser(text.to_owned())),
                "Federated" if !text.is_empty() => Some(PrincipalEntry::Federated(text.to_owned())),
                _ => None,
            };
            entries.push(entry.ok_or_else(|| PolicyError::at("Invalid principal in policy", item.pos))?);
        }
    }
    Ok(Principals::List(entries))
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn aws_principal(text: &str) -> Option<PrincipalEntry> {
    if text == "*" {
        return Some(PrincipalEntry::AnyAws);
    }
    if is_account_id(text) {
        return Some(PrincipalEntry::Account(text.to_owned()));
    }
    let (service, rest) = match (text.strip_prefix("arn:aws:iam::"), text.strip_prefix("arn:aws:sts::")) {
        (Some(rest), _) => ("iam", rest),
        (_, Some(rest)) => ("sts", rest),
        _ => return None,
    };
    let (account, resource) = rest.split_once(':')?;
    if !is_account_id(account) || resource.contains('*') || resource.contains('?') {
        return None;
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
    };
    match (service, resource) {
        ("iam", "root") => Some(PrincipalEntry::Account(account.to_owned())),
        ("iam", _) if named("user/") || named("role/") => Some(PrincipalEntry::Arn(text.to_owned())),
        ("sts", _) if named("assumed-role/") => Some(PrincipalEntry::Arn(text.to_owned())),
        _ => None,
    }
}

fn conditions(node: &Spanned, version: Version) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for block in object(node)? {
        let operator = operator(&block.key)
            .ok_or_else(|| PolicyError::at(&format!("Invalid Condition type : {}", block.key), block.key_pos))?;
        let keys = object(&block.value)?;
        if keys.is_empty() {
            return Err(PolicyError::at(
                "Condition block must name at least one key",
                block.value.pos,
            ));
        }
        for key in keys {
            let values = condition_values(&key.value, operator.kind, version)?;
            out.push(Condition {
                operator,
                key: key.key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

/// `[ForAllValues:|ForAnyValue:]Name[IfExists]`; `Null` has no IfExists form.
fn operator(name: &str) -> Option<Operator> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else {
        (None, name)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(base) => (true, base),
        None => (false, rest),
    };
    let kind = OperatorKind::ALL.iter().find(|(n, _)| *n == base).map(|(_, k)| *k)?;
    if kind == OperatorKind::Null && (if_exists || set.is_some()) {
        return None;
    }
    Some(Operator { kind, if_exists, set })
}

fn condition_values(node: &Spanned, kind: OperatorKind, version: Version) -> Result<Vec<ConditionValue>, PolicyError> {
    let items: Vec<&Spanned> = match &node.value {
        Value::Array(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|item| condition_value(item, kind, version))
        .collect()
}

fn condition_value(item: &Spanned, kind: OperatorKind, version: Version) -> Result<ConditionValue, PolicyError> {
    use OperatorKind as K;
    let text = match &item.value {
        Value::String(s) => s.as_str(),
        Value::Number(n) => n.as_str(),
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        other => {
            let message = format!("Invalid Condition value: a {} is not allowed", other.type_name());
            return Err(PolicyError::at(&message, item.pos));
        }
    };
    let variables = version == Version::V2012_10_17;
    Ok(match kind {
        K::StringEquals
        | K::StringNotEquals
        | K::StringEqualsIgnoreCase
        | K::StringNotEqualsIgnoreCase
        | K::StringLike
        | K::StringNotLike
        | K::ArnEquals
        | K::ArnLike
        | K::ArnNotEquals
        | K::ArnNotLike => ConditionValue::Text(Template::new(text, variables)),
        K::NumericEquals
        | K::NumericNotEquals
        | K::NumericLessThan
        | K::NumericLessThanEquals
        | K::NumericGreaterThan
        | K::NumericGreaterThanEquals => ConditionValue::Number(Decimal::parse(text)),
        K::DateEquals
        | K::DateNotEquals
        | K::DateLessThan
        | K::DateLessThanEquals
        | K::DateGreaterThan
        | K::DateGreaterThanEquals => ConditionValue::Date(Timestamp::parse(text)),
        K::Bool | K::Null => ConditionValue::Bool(parse_bool(text)),
        K::BinaryEquals => ConditionValue::Binary(base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()),
        K::IpAddress | K::NotIpAddress => ConditionValue::Ip(IpNet::parse(text)),
    })
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn object(node: &Spanned) -> Result<&[Member], PolicyError> {
    match &node.value {
        Value::Object(members) => Ok(members),
        other => Err(PolicyError::at(
            &format!("Expected an object, found a {}", other.type_name()),
            node.pos,
        )),
    }
}

fn string(node: &Spanned) -> Result<&str, PolicyError> {
    match &node.value {
        Value::String(s) => Ok(s),
        other => Err(PolicyError::at(
            &format!("Expected a string, found a {}", other.type_name()),
            node.pos,
        )),
    }
}

/// A string or a non-empty array of strings.
fn strings<'a>(node: &'a Spanned, empty_message: &str) -> Result<Vec<&'a Spanned>, PolicyError> {
    match &node.value {
        Value::Array(items) if items.is_empty() => Err(PolicyError::at(empty_message, node.pos)),
        Value::Array(items) => items.iter().map(|i| string(i).map(|_| i)).collect(),
        _ => string(node).map(|_| vec![node]),
    }
}

fn field<'a>(members: &'a [Member], name: &str) -> Option<&'a Spanned> {
    members.iter().find(|m| m.key == name).map(|m| &m.value)
}

fn check_fields(members: &[Member], known: &[&str]) -> Result<(), PolicyError> {
    match members.iter().find(|m| !known.contains(&m.key.as_str())) {
        Some(unknown) => Err(PolicyError::at(
            &format!("Unknown field {}", unknown.key),
            unknown.key_pos,
        )),
        None => Ok(()),
    }
}

/// The one of `positive` / `negative` present (both is an error).
fn either<'a>(
    members: &'a [Member],
    positive: &'static str,
    negative: &'static str,
    pos: Position,
) -> Result<Option<(&'static str, &'a Spanned, bool)>, PolicyError> {
    match (field(members, positive), field(members, negative)) {
        (Some(_), Some(_)) => Err(PolicyError::at(
            &format!("Statement cannot contain both {positive} and {negative}"),
            pos,
        )),
        (Some(v), None) => Ok(Some((positive, v, false))),
        (None, Some(v)) => Ok(Some((negative, v, true))),
        (None, None) => Ok(None),
    }
}
