//! Who may do what, AWS KMS's way. A key's policy is the primary control:
//!
//! * an explicit `Deny` in the key policy or an identity policy refuses;
//! * the key policy allows the caller directly (its ARN, or `"*"`): allowed,
//!   except that a principal of another account also needs its own IAM
//!   policies to allow;
//! * the key policy allows the caller's account (`arn:aws:iam::ACCT:root`):
//!   the account root is allowed, and its IAM users and role sessions when
//!   their identity policies allow (within their permissions boundary and
//!   session policies);
//! * otherwise refused. The account root has no way around its key policies.
//!
//! Operations without a key (CreateKey, ListKeys, ListAliases,
//! GenerateRandom) and the alias half of alias operations are decided by
//! identity policies alone, with the account root always allowed on its own
//! account. Every decision goes through `strongbox_policy::evaluate`; an
//! unreadable policy is an internal error, never an allow.
use crate::{KmsCaller, KmsError};
use strongbox_identity::{Resolver, add_principal_keys, now_ms};
use strongbox_meta::{KmsKeyRecord, NamedDocument};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, Verdict, evaluate,
};

/// Operation-specific condition keys (`kms:EncryptionContext:...`, `kms:RequestAlias`, ...).
pub(crate) type Extra = Vec<(String, Vec<String>)>;

/// The name decisions and logs give a key policy.
const KEY_POLICY: &str = "key policy";

/// The caller's policies, parsed: identity policies (none for the account
/// root), its permissions boundary and, for role sessions, session policies.
#[derive(Default)]
pub(crate) struct Identity {
    policies: Vec<(String, Policy)>,
    boundary: Option<(String, Policy)>,
    session: Vec<(String, Policy)>,
}

impl Identity {
    pub async fn load(kms: &crate::Kms, caller: &KmsCaller) -> Result<Identity, KmsError> {
        let docs = Resolver::new(kms.inner.meta.clone(), kms.inner.root_key.clone())
            .policies(&caller.identity)
            .await
            .map_err(|e| KmsError::internal(format!("loading the caller's policies: {e}")))?;
        let parse = |d: NamedDocument| match Policy::parse(&d.document, &PolicyKind::Identity) {
            Ok(p) => Ok((d.name, p)),
            // Fail closed: skipping an unreadable policy could skip a Deny.
            Err(e) => Err(KmsError::internal(format!("stored policy {} is invalid: {e}", d.name))),
        };
        Ok(Identity {
            policies: docs.identity.into_iter().map(parse).collect::<Result<_, _>>()?,
            boundary: docs.boundary.map(parse).transpose()?,
            session: docs.session.into_iter().map(parse).collect::<Result<_, _>>()?,
        })
    }

    fn named(&self) -> Vec<NamedPolicy<'_>> {
        named(&self.policies)
    }

    fn boundary(&self) -> Option<NamedPolicy<'_>> {
        self.boundary
            .as_ref()
            .map(|(name, policy)| NamedPolicy { name, policy })
    }

    fn session(&self) -> Vec<NamedPolicy<'_>> {
        named(&self.session)
    }
}

fn named(list: &[(String, Policy)]) -> Vec<NamedPolicy<'_>> {
    list.iter().map(|(name, policy)| NamedPolicy { name, policy }).collect()
}

/// The condition keys of one decision: the request's, the principal's,
/// `kms:CallerAccount`, `kms:ViaService`, the key's, and `extra` (the
/// operation's: encryption context, request alias, ...).
pub(crate) fn context(caller: &KmsCaller, region: &str, key: Option<&KmsKeyRecord>, extra: &Extra) -> ContextKeys {
    let mut keys = caller.context.clone();
    // The frontend has added them already (S3's gate, KMS' own auth); a
    // caller built elsewhere still gets them, never a decision without them.
    if keys.get("aws:PrincipalType").is_none() {
        add_principal_keys(&caller.identity, now_ms(), &mut keys);
    }
    let mut set = |name: &str, value: &str| {
        if keys.get(name).is_none() {
            keys.insert(name, value);
        }
    };
    set("kms:CallerAccount", caller.account.as_str());
    if let Some(service) = &caller.via_service {
        let name = service.strip_suffix(".amazonaws.com").unwrap_or(service);
        set("kms:ViaService", &format!("{name}.{region}.amazonaws.com"));
    }
    if let Some(key) = key {
        set("kms:KeySpec", &key.doc.key_spec);
        set("kms:KeyUsage", &key.doc.key_usage);
        set("kms:KeyOrigin", &key.doc.origin);
        set("aws:ResourceAccount", key.account_id.as_str());
        for tag in &key.doc.tags {
            set(&format!("aws:ResourceTag/{}", tag.key), &tag.value);
        }
    }
    for (name, values) in extra {
        keys.insert_multi(name, values);
    }
    keys
}

/// Decides `action` on `key` for `caller` (see the module doc).
pub(crate) fn authorize_key(
    caller: &KmsCaller,
    identity: &Identity,
    key: &KmsKeyRecord,
    action: &str,
    context: &ContextKeys,
) -> Result<(), KmsError> {
    let key_policy = Policy::parse(&key.doc.policy, &PolicyKind::Key)
        .map_err(|e| KmsError::internal(format!("the stored policy of {} is invalid: {e}", key.arn)))?;
    let arn = caller.arn();
    let account = caller.account.as_str();
    let named = identity.named();
    let boundary = identity.boundary();
    let session = identity.session();
    let role_arn = caller.identity.principal.role_arn();
    let resource_policy = Some(NamedPolicy {
        name: KEY_POLICY,
        policy: &key_policy,
    });
    let decide = |principal_arn: &str, identity: &[NamedPolicy<'_>], owner: Option<&str>| {
        evaluate(&Authorization {
            facts: RequestFacts {
                principal: principal(principal_arn, account, role_arn),
                action,
                resource: &key.arn,
                context,
            },
            identity_policies: identity,
            resource_policy,
            resource_owner: owner,
            permissions_boundary: boundary,
            session_policies: &session,
        })
    };
    // Without an owner every caller counts as another account's: allowed only
    // when the key policy allows (any way it names the caller) and, for IAM
    // users, an identity policy allows too. That is the delegated case, and
    // the whole rule for the account root and for other accounts.
    let verdict = decide(&arn, &named, None);
    let verdict = match verdict {
        Verdict::ImplicitDeny if caller.is_iam_principal() && key.account_id == caller.account => {
            // A user the key policy names itself needs no identity policy.
            decide(&arn, &[], Some(account))
        }
        other => other,
    };
    tracing::debug!(principal = %arn, action, resource = %key.arn, verdict = ?verdict, "kms authorization");
    match verdict {
        Verdict::Allow { .. } => Ok(()),
        Verdict::ExplicitDeny { by } => {
            let kind = if by.iter().any(|s| s.policy == KEY_POLICY) {
                "a resource-based policy"
            } else {
                "an identity-based policy"
            };
            Err(denied(
                &arn,
                action,
                &key.arn,
                &format!("with an explicit deny in {kind}"),
            ))
        }
        Verdict::ImplicitDeny => {
            let root = caller.account.root_arn();
            let delegated = caller.is_iam_principal() && decide(&root, &[], None).is_allowed();
            let kind = if delegated { "identity-based" } else { "resource-based" };
            Err(denied(
                &arn,
                action,
                &key.arn,
                &format!("because no {kind} policy allows the {action} action"),
            ))
        }
    }
}

/// Decides `action` on `resource` (`*` or an alias ARN) of the caller's own
/// account by identity policies alone; the account root is always allowed.
pub(crate) fn authorize_account(
    caller: &KmsCaller,
    identity: &Identity,
    action: &str,
    resource: &str,
    context: &ContextKeys,
) -> Result<(), KmsError> {
    let arn = caller.arn();
    let named = identity.named();
    let session = identity.session();
    let verdict = evaluate(&Authorization {
        facts: RequestFacts {
            principal: principal(&arn, caller.account.as_str(), caller.identity.principal.role_arn()),
            action,
            resource,
            context,
        },
        identity_policies: &named,
        resource_policy: None,
        resource_owner: Some(caller.account.as_str()),
        permissions_boundary: identity.boundary(),
        session_policies: &session,
    });
    tracing::debug!(principal = %arn, action, resource, verdict = ?verdict, "kms authorization");
    match verdict {
        Verdict::Allow { .. } => Ok(()),
        Verdict::ExplicitDeny { .. } => Err(denied(
            &arn,
            action,
            resource,
            "with an explicit deny in an identity-based policy",
        )),
        Verdict::ImplicitDeny => Err(denied(
            &arn,
            action,
            resource,
            &format!("because no identity-based policy allows the {action} action"),
        )),
    }
}

fn principal<'a>(arn: &'a str, account: &'a str, role_arn: Option<&'a str>) -> PrincipalFacts<'a> {
    PrincipalFacts {
        arn: Some(arn),
        account: Some(account),
        service: None,
        canonical_user: None,
        role_arn,
    }
}

fn denied(arn: &str, action: &str, resource: &str, why: &str) -> KmsError {
    KmsError::AccessDenied(format!(
        "User: {arn} is not authorized to perform: {action} on resource: {resource} {why}"
    ))
}
