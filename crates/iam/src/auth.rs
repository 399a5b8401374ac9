//! Who is calling, and may they: SigV4 authentication against the stored
//! (sealed) secret of the access key, then `strongbox_policy::evaluate` of
//! `iam:<Action>` on the resource ARN over the caller's identity policies.
//! The account root is always allowed on its own account, but is evaluated
//! anyway so every decision is logged the same way. Nothing here can allow
//! by error.
use crate::{IamError, IamRequest, IamService, identity};
use std::time::SystemTime;
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, Principal, PrincipalFacts, RequestFacts, Verdict,
    evaluate,
};
use strongbox_sigv4::{Request, SigV4Error};
use strongbox_types::AccountId;

/// The authenticated caller (a long-term key or an STS session) and its account.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub inner: identity::Caller,
    account: AccountId,
}

impl Caller {
    pub fn account(&self) -> &str {
        self.account.as_str()
    }

    pub fn account_id(&self) -> &AccountId {
        &self.account
    }

    pub fn arn(&self) -> String {
        self.inner.principal.arn().map(|a| a.into_owned()).unwrap_or_default()
    }

    pub fn principal(&self) -> &Principal {
        &self.inner.principal
    }

    pub fn session(&self) -> Option<&identity::SessionClaims> {
        self.inner.session.as_deref()
    }

    /// The IAM user of a long-term key or of a GetSessionToken session.
    pub fn user(&self) -> Option<UserRef<'_>> {
        match &self.inner.principal {
            Principal::User { name, .. } => Some(UserRef { name }),
            _ => None,
        }
    }

    /// The principal's global condition keys (`aws:username`, `aws:PrincipalArn`, MFA, ...).
    pub fn add_context(&self, keys: &mut ContextKeys) {
        identity::add_principal_keys(&self.inner, identity::now_ms(), keys);
    }
}

/// An IAM user as the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserRef<'a> {
    pub name: &'a str,
}

/// Verifies the request's SigV4 header (credential scope `service`) and
/// returns who signed it, with IAM's error codes.
pub(crate) async fn authenticate_for(
    svc: &IamService,
    req: &IamRequest<'_>,
    service: &str,
) -> Result<Caller, IamError> {
    if !req.headers.contains_key(http::header::AUTHORIZATION)
        && req.uri.query().is_some_and(|q| q.contains("X-Amz-Signature="))
    {
        return Err(IamError::IncompleteSignature(
            "Presigned (query string) authentication is not supported here; sign the Authorization header.".into(),
        ));
    }
    let parts = Request {
        method: req.method,
        uri: req.uri,
        headers: req.headers,
    };
    let signed = identity::authenticate_signed(&svc.resolver(), &parts, req.body, service, SystemTime::now())
        .await
        .map_err(|e| match e {
            identity::SignedError::MissingAuthorization => IamError::MissingAuthenticationToken,
            identity::SignedError::NotAscii => IamError::IncompleteSignature(e.to_string()),
            identity::SignedError::WrongService { .. } => IamError::SignatureDoesNotMatch(e.to_string()),
            identity::SignedError::Signature(s) => signature_error(s),
            identity::SignedError::Identity(i) => identity_error(i),
        })?;
    let caller = signed.caller;
    let account = caller
        .principal
        .account()
        .cloned()
        .ok_or_else(|| IamError::internal("an authenticated caller without an account"))?;
    Ok(Caller { inner: caller, account })
}

pub(crate) fn identity_error(e: identity::IdentityError) -> IamError {
    use identity::IdentityError as E;
    match e {
        E::UnknownAccessKey | E::InvalidToken => IamError::InvalidClientTokenId,
        E::ExpiredToken => IamError::ExpiredToken,
        E::Meta(m) => IamError::internal(m),
        E::Internal(m) => IamError::internal(m),
    }
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

/// The caller's policies, parsed: identity, boundary, session.
#[derive(Debug, Default)]
pub(crate) struct ParsedPolicies {
    pub identity: Vec<(String, Policy)>,
    pub boundary: Option<(String, Policy)>,
    pub session: Vec<(String, Policy)>,
}

pub(crate) async fn identity(svc: &IamService, caller: &Caller) -> Result<ParsedPolicies, IamError> {
    let docs = svc.resolver().policies(&caller.inner).await.map_err(identity_error)?;
    let parse = |d: strongbox_meta::NamedDocument| match Policy::parse(&d.document, &PolicyKind::Identity) {
        Ok(p) => Ok((d.name, p)),
        // Fail closed: skipping an unreadable policy could skip a Deny.
        Err(e) => Err(IamError::internal(format!("stored policy {} is invalid: {e}", d.name))),
    };
    Ok(ParsedPolicies {
        identity: docs.identity.into_iter().map(parse).collect::<Result<_, _>>()?,
        boundary: docs.boundary.map(parse).transpose()?,
        session: docs.session.into_iter().map(parse).collect::<Result<_, _>>()?,
    })
}

pub(crate) fn named(list: &[(String, Policy)]) -> Vec<NamedPolicy<'_>> {
    list.iter().map(|(name, policy)| NamedPolicy { name, policy }).collect()
}

/// Decides `action` on `resource` for `caller` with its policies.
pub(crate) fn authorize(
    caller: &Caller,
    policies: &ParsedPolicies,
    action: &str,
    resource: &str,
    context: &ContextKeys,
) -> Result<(), IamError> {
    let arn = caller.arn();
    let identity = named(&policies.identity);
    let session = named(&policies.session);
    let verdict = evaluate(&Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: Some(&arn),
                account: Some(caller.account()),
                service: None,
                canonical_user: None,
                role_arn: caller.principal().role_arn(),
            },
            action,
            resource,
            context,
        },
        identity_policies: &identity,
        resource_policy: None,
        resource_owner: Some(caller.account()),
        permissions_boundary: policies
            .boundary
            .as_ref()
            .map(|(name, policy)| NamedPolicy { name, policy }),
        session_policies: &session,
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
