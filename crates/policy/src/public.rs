//! Whether a bucket policy is "public" by AWS's definition ("The meaning of
//! public" in the S3 User Guide): GetBucketPolicyStatus reports it and Block
//! Public Access acts on it. A policy is public when some Allow statement
//! grants to a principal that is not fixed (`*`, a wildcard ARN, or
//! NotPrincipal) and no condition pins the caller to fixed values of the keys
//! AWS lists (aws:SourceArn, aws:SourceVpc(e), aws:SourceOwner,
//! aws:SourceAccount, the SSE-KMS key id, aws:userid, aws:PrincipalOrgID,
//! aws:PrincipalAccount, aws:PrincipalArn, s3:DataAccessPointArn/Account) or
//! to a set of CIDRs with aws:SourceIp.

use crate::ast::{
    ConditionValue, Effect, Match, OperatorKind, Policy, PrincipalEntry, Principals, SetQualifier, Statement,
};

/// Keys whose fixed values make a grant non-public (lower-cased).
const FIXING_KEYS: [&str; 12] = [
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

impl Policy {
    /// True when the policy grants access to the public, as AWS defines it.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(statement_is_public)
    }
}

fn statement_is_public(s: &Statement) -> bool {
    s.effect == Effect::Allow && principal_is_open(s) && !s.conditions.iter().any(restricts)
}

fn principal_is_open(s: &Statement) -> bool {
    match &s.principal {
        None => false,
        Some(Match::NoneOf(_)) | Some(Match::Any(Principals::Everyone)) => true,
        Some(Match::Any(Principals::List(entries))) => entries.iter().any(|e| match e {
            PrincipalEntry::AnyAws => true,
            PrincipalEntry::Arn(a) | PrincipalEntry::Service(a) => a.contains(['*', '?']),
            PrincipalEntry::Account(_) | PrincipalEntry::CanonicalUser(_) | PrincipalEntry::Federated(_) => false,
        }),
    }
}

/// True when the condition limits the grant to fixed callers. Negated,
/// `...IfExists` and `ForAllValues` forms never do: they also hold for
/// requests that lack the key.
fn restricts(c: &crate::ast::Condition) -> bool {
    let op = c.operator;
    if op.if_exists || op.kind.is_negated() || op.set == Some(SetQualifier::ForAllValues) || c.values.is_empty() {
        return false;
    }
    let key = c.key.to_ascii_lowercase();
    match op.kind {
        OperatorKind::IpAddress if key == "aws:sourceip" => c
            .values
            .iter()
            .all(|v| matches!(v, ConditionValue::Ip(Some(net)) if net.prefix_len() > 0)),
        OperatorKind::StringEquals
        | OperatorKind::StringEqualsIgnoreCase
        | OperatorKind::StringLike
        | OperatorKind::ArnEquals
        | OperatorKind::ArnLike
            if FIXING_KEYS.contains(&key.as_str()) =>
        {
            c.values.iter().all(|v| match v {
                // A role's every session ("AROLEID:*") is not a fixed caller.
                ConditionValue::Text(t) => t.is_literal() && !(key == "aws:userid" && t.as_str().ends_with(":*")),
                _ => false,
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Policy, PolicyKind};

    fn public(statement: &str) -> bool {
        let json = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        Policy::parse(&json, &PolicyKind::Bucket { bucket: "b".into() })
            .unwrap_or_else(|e| panic!("{json}: {e}"))
            .is_public()
    }

    #[test]
    fn aws_meaning_of_public() {
        let read = r#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;
        assert!(public(&format!(r#"{{{read},"Principal":"*"}}"#)));
        assert!(public(&format!(r#"{{{read},"Principal":{{"AWS":"*"}}}}"#)));
        assert!(public(&format!(
            r#"{{{read},"NotPrincipal":{{"AWS":"111122223333"}}}}"#
        )));
        assert!(!public(&format!(r#"{{{read},"Principal":{{"AWS":"111122223333"}}}}"#)));
        assert!(!public(&format!(
            r#"{{{read},"Principal":{{"AWS":"arn:aws:iam::111122223333:user/alice"}}}}"#
        )));
        assert!(!public(
            r#"{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Principal":"*"}"#
        ));
        assert!(!public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"192.0.2.0/24"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"0.0.0.0/0"}}}}}}"#
        )));
        assert!(!public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"StringEquals":{{"aws:SourceAccount":"111122223333"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"StringLike":{{"aws:SourceAccount":"1111*"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"StringNotEquals":{{"aws:SourceAccount":"111122223333"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{{read},"Principal":"*","Condition":{{"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
        )));
        assert!(!public(&format!(
            r#"{{{read},"Principal":{{"Service":"cloudfront.amazonaws.com"}},"Condition":{{"StringEquals":{{"AWS:SourceArn":"arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}}}}}}"#
        )));
    }
}
