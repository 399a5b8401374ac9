//! AWS STS (Query protocol, 2011-06-15) on the same listeners as IAM:
//! GetCallerIdentity, GetSessionToken (with MFA) and AssumeRole (trust
//! policies, session policies, ExternalId, MFA, session tags, source
//! identity, role chaining). Temporary credentials are described in
//! [`crate::identity`]. Errors are IAM-shaped `ErrorResponse`s in STS's namespace.
use crate::auth::{self, Caller};
use crate::identity::{self, SessionClaims, SessionOf};
use crate::params::Params;
use crate::xml::{Xml, iso8601};
use crate::{IamError, IamRequest, IamService, ids, mfa};
use strongbox_meta::{MfaOwner, policy_chars};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, Principal, PrincipalFacts, RequestFacts, evaluate,
    policy_allows,
};

pub(crate) const VERSION: &str = "2011-06-15";
pub(crate) const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// AWS's limit on an inline session policy, in non-whitespace characters.
const SESSION_POLICY_CHARS: usize = 2_048;
const MAX_POLICY_ARNS: usize = 10;
const MAX_SESSION_TAGS: usize = 50;
/// Role chaining caps a session at one hour, as AWS.
const CHAINED_MAX_S: u64 = 3_600;
const MFA_FAILED: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code.";

/// True when the request is SigV4-signed for the `sts` service.
pub fn is_sts_request(headers: &http::HeaderMap) -> bool {
    strongbox_sigv4::is_signed_for(headers, "sts")
}

/// Runs one STS request; returns the action name and its result XML.
pub(crate) async fn run(svc: &IamService, req: &IamRequest<'_>) -> Result<(String, Option<String>), IamError> {
    let caller = auth::authenticate_for(svc, req, "sts").await?;
    let params = Params::parse(req.uri.query(), req.body)?;
    let action = params.get("Action").ok_or(IamError::MissingAction)?.to_owned();
    if let Some(version) = params.get("Version").filter(|v| *v != VERSION) {
        return Err(IamError::InvalidAction(format!(
            "Could not find operation {action} for version {version}"
        )));
    }
    let mut context = req.context.clone();
    caller.add_context(&mut context);
    let cx = StsCtx {
        svc,
        caller,
        params,
        context,
        now_ms: identity::now_ms(),
    };
    let result = match action.as_str() {
        "GetCallerIdentity" => get_caller_identity(&cx),
        "GetSessionToken" => get_session_token(&cx).await?,
        "AssumeRole" => assume_role(&cx).await?,
        other => {
            return Err(IamError::InvalidAction(format!(
                "Could not find operation {other} for version {VERSION}"
            )));
        }
    };
    Ok((action, Some(result)))
}

struct StsCtx<'a> {
    svc: &'a IamService,
    caller: Caller,
    params: Params,
    context: ContextKeys,
    now_ms: i64,
}

fn get_caller_identity(cx: &StsCtx<'_>) -> String {
    let p = cx.caller.principal();
    let mut x = Xml::new();
    x.text("Arn", &cx.caller.arn())
        .text("UserId", &p.userid())
        .text("Account", cx.caller.account());
    x.finish()
}

/// `DurationSeconds` within `min..=max`, else `default`.
fn duration(cx: &StsCtx<'_>, min: u64, max: u64, default: u64, too_long: &str) -> Result<u64, IamError> {
    let Some(v) = cx.params.get("DurationSeconds") else {
        return Ok(default.min(max));
    };
    let n: u64 = v.parse().map_err(|_| {
        IamError::invalid(
            "durationSeconds",
            Some(v),
            "Member must have value greater than or equal to 900",
        )
    })?;
    if n < min {
        return Err(IamError::invalid(
            "durationSeconds",
            Some(v),
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(IamError::ValidationError(too_long.to_owned()));
    }
    Ok(n)
}

/// Checks `SerialNumber` + `TokenCode` when given; the time of the check if it passed.
async fn mfa_check(cx: &StsCtx<'_>) -> Result<Option<i64>, IamError> {
    let (serial, code) = (cx.params.get("SerialNumber"), cx.params.get("TokenCode"));
    let (serial, code) = match (serial, code) {
        (None, None) => return Ok(None),
        (Some(s), Some(c)) => (s, c),
        _ => return Err(IamError::AccessDenied(MFA_FAILED.into())),
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IamError::invalid(
            "tokenCode",
            Some(code),
            "Member must satisfy regular expression pattern: [\\d]*",
        ));
    }
    let owner = match cx.caller.principal() {
        Principal::AccountRoot { .. } => MfaOwner::Root,
        Principal::User { name, .. } => MfaOwner::User(name.clone()),
        // A role session has no MFA device of its own; AWS refuses the code.
        _ => return Err(IamError::AccessDenied(MFA_FAILED.into())),
    };
    match mfa::check_code(cx.svc, serial, &owner, code).await? {
        Ok(()) => Ok(Some(identity::now_ms())),
        Err(_) => Err(IamError::AccessDenied(MFA_FAILED.into())),
    }
}

fn credentials_xml(x: &mut Xml, access_key: &str, secret: &str, token: &str, expires_ms: i64) {
    x.open("Credentials")
        .text("AccessKeyId", access_key)
        .text("SecretAccessKey", secret)
        .text("SessionToken", token)
        .text("Expiration", &iso8601(expires_ms))
        .close("Credentials");
}

async fn get_session_token(cx: &StsCtx<'_>) -> Result<String, IamError> {
    if cx.caller.session().is_some() {
        return Err(IamError::AccessDenied(
            "Cannot call GetSessionToken with session credentials".into(),
        ));
    }
    let of = match cx.caller.principal() {
        Principal::AccountRoot { .. } => SessionOf::Root,
        Principal::User { name, id, .. } => SessionOf::User {
            name: name.clone(),
            user_id: id.clone(),
        },
        _ => {
            return Err(IamError::AccessDenied(
                "Cannot call GetSessionToken as this principal".into(),
            ));
        }
    };
    // AWS: 900 s to 36 h for users, at most 1 h for the account root.
    let max = if matches!(of, SessionOf::Root) { 3_600 } else { 129_600 };
    let min = cx.svc.sts_min_duration_s;
    let secs = duration(
        cx,
        min,
        max,
        43_200,
        "The requested DurationSeconds exceeds the allowed maximum for this principal.",
    )?;
    let mfa_ms = mfa_check(cx).await?;
    let claims = SessionClaims {
        access_key: ids::temporary_access_key_id()?,
        account: cx.caller.account().to_owned(),
        of,
        issued_ms: cx.now_ms,
        expires_ms: cx.now_ms + i64::try_from(secs * 1000).unwrap_or(i64::MAX),
        mfa_ms,
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        chained: false,
    };
    let token = identity::seal_token(&cx.svc.root_key, &claims).map_err(auth::identity_error)?;
    let secret = strongbox_crypto::session_secret(&cx.svc.root_key, &claims.access_key);
    let mut x = Xml::new();
    credentials_xml(&mut x, &claims.access_key, &secret, &token, claims.expires_ms);
    Ok(x.finish())
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()).then_some((account, name))
}

fn session_name(cx: &StsCtx<'_>) -> Result<String, IamError> {
    let name = cx.params.required("RoleSessionName", "roleSessionName")?;
    let n = name.chars().count();
    if !(2..=64).contains(&n) {
        return Err(IamError::invalid(
            "roleSessionName",
            Some(name),
            "Member must have length between 2 and 64",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
    {
        return Err(IamError::invalid(
            "roleSessionName",
            Some(name),
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(name.to_owned())
}

fn list_param(params: &Params, prefix: &str, field: &str) -> Vec<String> {
    (1..)
        .map_while(|n| params.get(&format!("{prefix}.member.{n}.{field}")).map(str::to_owned))
        .collect()
}

async fn assume_role(cx: &StsCtx<'_>) -> Result<String, IamError> {
    let role_arn = cx.params.required("RoleArn", "roleArn")?.to_owned();
    crate::params::arn("roleArn", &role_arn)?;
    let session_name = session_name(cx)?;
    let caller_arn = cx.caller.arn();
    let denied = || {
        IamError::AccessDenied(format!(
            "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ))
    };
    let (role_account, role_name) =
        parse_role_arn(&role_arn).ok_or_else(|| IamError::ValidationError(format!("{role_arn} is invalid")))?;
    // An unknown role is answered like a refused one, so roles cannot be probed.
    let role = cx
        .svc
        .meta
        .get_role(role_account, role_name)
        .await?
        .filter(|r| r.arn == role_arn)
        .ok_or_else(denied)?;

    let policy = cx.params.get("Policy").map(str::to_owned);
    if let Some(p) = &policy {
        crate::params::document("policy", p)?;
        let chars = policy_chars(p);
        if chars > SESSION_POLICY_CHARS {
            return Err(IamError::PackedPolicyTooLarge(format!(
                "Packed policy consumes {}% of allotted space, please use smaller policy.",
                chars * 100 / SESSION_POLICY_CHARS
            )));
        }
        Policy::parse(p, &PolicyKind::Identity).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    }
    let policy_arns = list_param(&cx.params, "PolicyArns", "arn");
    if policy_arns.len() > MAX_POLICY_ARNS {
        return Err(IamError::ValidationError(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10".into(),
        ));
    }
    for arn in &policy_arns {
        if identity::managed_document(cx.svc.meta.as_ref(), cx.caller.account(), arn)
            .await?
            .is_none()
        {
            return Err(IamError::NoSuchEntity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
    }
    let external_id = cx.params.get("ExternalId");
    if let Some(e) = external_id
        && !(2..=1224).contains(&e.chars().count())
    {
        return Err(IamError::invalid(
            "externalId",
            Some(e),
            "Member must have length between 2 and 1224",
        ));
    }
    let tags = crate::roles::tags_param(&cx.params, "Tags")?;
    if tags.len() > MAX_SESSION_TAGS {
        return Err(IamError::ValidationError(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50".into(),
        ));
    }
    let transitive = list_param(&cx.params, "TransitiveTagKeys", "");
    let transitive: Vec<String> = if transitive.is_empty() {
        (1..)
            .map_while(|n| {
                cx.params
                    .get(&format!("TransitiveTagKeys.member.{n}"))
                    .map(str::to_owned)
            })
            .collect()
    } else {
        transitive
    };
    let source_identity = cx.params.get("SourceIdentity").map(str::to_owned);
    let chained = matches!(cx.caller.principal(), Principal::AssumedRole { .. });
    let max = if chained {
        CHAINED_MAX_S
    } else {
        u64::from(role.max_session_s)
    };
    let too_long = if chained {
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    } else {
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    };
    let secs = duration(cx, cx.svc.sts_min_duration_s, max, 3_600, too_long)?;
    let mfa_ms = match mfa_check(cx).await? {
        Some(at) => Some(at),
        // A chained session keeps the MFA of the session it came from.
        None => cx.caller.session().and_then(|s| s.mfa_ms),
    };

    // The condition keys the identity and trust policies see.
    let mut keys = cx.context.clone();
    if let Some(at) = mfa_ms {
        replace(&mut keys, "aws:MultiFactorAuthPresent", &["true"]);
        replace(
            &mut keys,
            "aws:MultiFactorAuthAge",
            &[&((cx.now_ms - at).max(0) / 1000).to_string()],
        );
    }
    if let Some(e) = external_id {
        keys.insert("sts:ExternalId", e);
    }
    keys.insert("sts:RoleSessionName", &session_name);
    if let Some(s) = &source_identity {
        keys.insert("sts:SourceIdentity", s);
    }
    for t in &tags {
        keys.insert(&format!("aws:RequestTag/{}", t.key), &t.value);
    }
    if !tags.is_empty() {
        keys.insert_multi("aws:TagKeys", tags.iter().map(|t| t.key.as_str()));
    }
    if !transitive.is_empty() {
        keys.insert_multi("sts:TransitiveTagKeys", transitive.iter().map(String::as_str));
    }

    let trust = Policy::parse(&role.trust_policy, &PolicyKind::Trust)
        .map_err(|e| IamError::internal(format!("the trust policy of {role_arn} is invalid: {e}")))?;
    let policies = auth::identity(cx.svc, &cx.caller).await?;
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() || !transitive.is_empty() {
        actions.push("sts:TagSession");
    }
    if source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        if !decide(cx, &policies, &trust, action, &role_arn, role_account, &keys) {
            tracing::info!(principal = %caller_arn, role = %role_arn, action, "AssumeRole refused");
            return Err(denied());
        }
    }

    // Principal tags: the role's, then transitive ones from a chained
    // session, then this call's (later ones win).
    let mut all_tags: Vec<(String, String)> = role.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    let mut transitive_keys = transitive.clone();
    if let Some(parent) = cx.caller.session().filter(|_| chained) {
        for k in &parent.transitive_tag_keys {
            if let Some((_, v)) = parent.tags.iter().find(|(tk, _)| tk.eq_ignore_ascii_case(k)) {
                set_tag(&mut all_tags, k, v);
            }
            if !transitive_keys.iter().any(|t| t.eq_ignore_ascii_case(k)) {
                transitive_keys.push(k.clone());
            }
        }
    }
    for t in &tags {
        set_tag(&mut all_tags, &t.key, &t.value);
    }
    let claims = SessionClaims {
        access_key: ids::temporary_access_key_id()?,
        account: role.account_id.as_str().to_owned(),
        of: SessionOf::Role {
            name: role.name.clone(),
            role_id: role.role_id.clone(),
            arn: role.arn.clone(),
            session_name: session_name.clone(),
        },
        issued_ms: cx.now_ms,
        expires_ms: cx.now_ms + i64::try_from(secs * 1000).unwrap_or(i64::MAX),
        mfa_ms,
        policy,
        policy_arns,
        tags: all_tags,
        transitive_tag_keys: transitive_keys,
        source_identity: source_identity
            .clone()
            .or_else(|| cx.caller.session().and_then(|s| s.source_identity.clone())),
        chained,
    };
    let token = identity::seal_token(&cx.svc.root_key, &claims).map_err(auth::identity_error)?;
    let secret = strongbox_crypto::session_secret(&cx.svc.root_key, &claims.access_key);
    let packed = claims.policy.as_deref().map_or(0, policy_chars) * 100 / SESSION_POLICY_CHARS;
    let mut x = Xml::new();
    credentials_xml(&mut x, &claims.access_key, &secret, &token, claims.expires_ms);
    x.open("AssumedRoleUser")
        .text("AssumedRoleId", &format!("{}:{session_name}", role.role_id))
        .text(
            "Arn",
            &format!(
                "arn:aws:sts::{}:assumed-role/{}/{session_name}",
                role.account_id, role.name
            ),
        )
        .close("AssumedRoleUser")
        .number("PackedPolicySize", u64::try_from(packed).unwrap_or(0))
        .opt("SourceIdentity", claims.source_identity.as_deref());
    Ok(x.finish())
}

fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: &str) {
    match tags.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        Some(t) => t.1 = value.to_owned(),
        None => tags.push((key.to_owned(), value.to_owned())),
    }
}

fn replace(keys: &mut ContextKeys, key: &str, values: &[&str]) {
    let mut fresh = ContextKeys::new();
    for (k, v) in keys.iter() {
        if !k.eq_ignore_ascii_case(key) {
            fresh.insert_multi(k, v);
        }
    }
    fresh.insert_multi(key, values);
    *keys = fresh;
}

/// The caller's policies and the role's trust policy, combined as AWS:
/// the trust policy must allow; within the account that is enough when it
/// names the caller itself, otherwise (naming the account, or another
/// account's caller) the caller's identity policies must allow too.
fn decide(
    cx: &StsCtx<'_>,
    policies: &auth::ParsedPolicies,
    trust: &Policy,
    action: &str,
    role_arn: &str,
    role_account: &str,
    keys: &ContextKeys,
) -> bool {
    let arn = cx.caller.arn();
    let facts = RequestFacts {
        principal: PrincipalFacts {
            arn: Some(&arn),
            account: Some(cx.caller.account()),
            service: None,
            canonical_user: None,
            role_arn: cx.caller.principal().role_arn(),
        },
        action,
        resource: role_arn,
        context: keys,
    };
    if !policy_allows(trust, &facts) {
        return false;
    }
    let identity = auth::named(&policies.identity);
    let session = auth::named(&policies.session);
    let verdict = evaluate(&Authorization {
        facts,
        identity_policies: &identity,
        resource_policy: Some(NamedPolicy {
            name: "trust-policy",
            policy: trust,
        }),
        resource_owner: Some(role_account),
        permissions_boundary: policies
            .boundary
            .as_ref()
            .map(|(name, policy)| NamedPolicy { name, policy }),
        session_policies: &session,
    });
    tracing::info!(principal = %arn, action, resource = role_arn, verdict = ?verdict, "sts authorization");
    verdict.is_allowed()
}
