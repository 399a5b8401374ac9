//! Who is calling, and may they: SigV4 authentication against the stored
//! (sealed) secret of the access key, then `strongbox_policy::evaluate` of
//! `iam:<Action>` on the resource ARN over the caller's identity policies.
//! The account root is always allowed on its own account, but is evaluated
//! anyway so every decision is logged the same way. Nothing here can allow
//! by error.
use crate::{CREDENTIAL_PURPOSE, IamError, IamRequest, IamService};
use std::time::SystemTime;
use strongbox_meta::IamUser;
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, Verdict, evaluate,
};
use strongbox_sigv4::{Request, SigV4Error, parse_authorization, verify_parsed};
use strongbox_types::AccountId;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    Root { account: AccountId },
    User { account: AccountId, user: IamUser },
}

impl Caller {
    pub fn account(&self) -> &str {
        match self {
            Caller::Root { account } | Caller::User { account, .. } => account.as_str(),
        }
    }

    pub fn account_id(&self) -> &AccountId {
        match self {
            Caller::Root { account } | Caller::User { account, .. } => account,
        }
    }

    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account } => account.root_arn(),
            Caller::User { user, .. } => user.arn.clone(),
        }
    }

    pub fn user(&self) -> Option<&IamUser> {
        match self {
            Caller::Root { .. } => None,
            Caller::User { user, .. } => Some(user),
        }
    }

    /// The principal's global condition keys (`aws:username`, `aws:PrincipalArn`, ...).
    pub fn add_context(&self, keys: &mut ContextKeys) {
        keys.insert("aws:PrincipalArn", &self.arn());
        keys.insert("aws:PrincipalAccount", self.account());
        match self {
            Caller::Root { account } => {
                keys.insert("aws:PrincipalType", "Account");
                keys.insert("aws:userid", account.as_str());
            }
            Caller::User { user, .. } => {
                keys.insert("aws:PrincipalType", "User");
                keys.insert("aws:userid", &user.user_id);
                keys.insert("aws:username", &user.name);
            }
        }
    }
}

/// Verifies the request's signature and returns who signed it.
pub(crate) async fn authenticate(svc: &IamService, req: &IamRequest<'_>) -> Result<Caller, IamError> {
    if req.headers.contains_key("x-amz-security-token") {
        // No temporary credentials are issued yet, so no session token can be valid.
        return Err(IamError::InvalidClientTokenId);
    }
    let Some(value) = req.headers.get(http::header::AUTHORIZATION) else {
        if req.uri.query().is_some_and(|q| q.contains("X-Amz-Signature=")) {
            return Err(IamError::IncompleteSignature(
                "Presigned (query string) authentication is not supported for IAM; sign the Authorization header."
                    .into(),
            ));
        }
        return Err(IamError::MissingAuthenticationToken);
    };
    let value = value
        .to_str()
        .map_err(|_| IamError::IncompleteSignature("The Authorization header is not ASCII.".into()))?;
    let auth = parse_authorization(value).map_err(signature_error)?;
    if auth.service != "iam" {
        return Err(IamError::SignatureDoesNotMatch(format!(
            "Credential should be scoped to correct service: 'iam'. Found '{}'.",
            auth.service
        )));
    }
    let cred = svc
        .meta
        .get_credential(&auth.access_key)
        .await?
        .filter(|c| c.active)
        .ok_or(IamError::InvalidClientTokenId)?;
    let secret = strongbox_crypto::open_secret(&svc.root_key, CREDENTIAL_PURPOSE, &cred.secret_sealed)
        .map_err(|e| IamError::internal(format!("opening the secret of {}: {e}", cred.access_key)))?;
    let parts = Request {
        method: req.method,
        uri: req.uri,
        headers: req.headers,
    };
    verify_parsed(&parts, &auth, req.body, &secret, SystemTime::now()).map_err(signature_error)?;
    let Some(name) = cred.user_name else {
        return Ok(Caller::Root {
            account: cred.account_id,
        });
    };
    let user = svc
        .meta
        .get_user(cred.account_id.as_str(), &name)
        .await?
        // The user is gone (a key cannot outlive its user, but a race can get here).
        .ok_or(IamError::InvalidClientTokenId)?;
    Ok(Caller::User {
        account: cred.account_id,
        user,
    })
}

fn signature_error(e: SigV4Error) -> IamError {
    match e {
        SigV4Error::MissingAuthorization => IamError::MissingAuthenticationToken,
        SigV4Error::UnsupportedAlgorithm(_)
        | SigV4Error::MalformedAuthorization(_)
        | SigV4Error::MissingDate
        | SigV4Error::MalformedDate => IamError::IncompleteSignature(e.to_string()),
        SigV4Error::ScopeDateMismatch
        | SigV4Error::TimeSkewed(_)
        | SigV4Error::MissingSignedHeader(_)
        | SigV4Error::PayloadHashMismatch
        | SigV4Error::SignatureMismatch => IamError::SignatureDoesNotMatch(e.to_string()),
        SigV4Error::Signing(m) => IamError::internal(m),
    }
}

/// The caller's identity policies, parsed (none for the account root).
pub(crate) async fn identity(svc: &IamService, caller: &Caller) -> Result<Vec<(String, Policy)>, IamError> {
    let Caller::User { account, user } = caller else {
        return Ok(Vec::new());
    };
    let documents = svc.meta.user_policies(account.as_str(), &user.name).await?;
    documents
        .into_iter()
        .map(|d| match Policy::parse(&d.document, &PolicyKind::Identity) {
            Ok(p) => Ok((d.name, p)),
            // Fail closed: skipping an unreadable policy could skip a Deny.
            Err(e) => Err(IamError::internal(format!("stored policy {} is invalid: {e}", d.name))),
        })
        .collect()
}

/// Decides `action` on `resource` for `caller` with its identity policies.
pub(crate) fn authorize(
    caller: &Caller,
    identity: &[(String, Policy)],
    action: &str,
    resource: &str,
    context: &ContextKeys,
) -> Result<(), IamError> {
    let arn = caller.arn();
    let named: Vec<NamedPolicy<'_>> = identity
        .iter()
        .map(|(name, policy)| NamedPolicy { name, policy })
        .collect();
    let verdict = evaluate(&Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some(&arn),
                account: Some(caller.account()),
                service: None,
                canonical_user: None,
            },
            action,
            resource,
            context,
        },
        identity_policies: &named,
        resource_policy: None,
        resource_owner: Some(caller.account()),
        permissions_boundary: None,
        session_policies: &[],
    });
    tracing::info!(principal = %arn, action, resource, verdict = ?verdict, "iam authorization");
    match verdict {
        Verdict::Allow { .. } => Ok(()),
        Verdict::ExplicitDeny { .. } => Err(IamError::AccessDenied(format!(
            "User: {arn} is not authorized to perform: {action} on resource: {resource} with an explicit deny in an identity-based policy"
        ))),
        Verdict::ImplicitDeny => Err(IamError::AccessDenied(format!(
            "User: {arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
        ))),
    }
}
