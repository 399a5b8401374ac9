//! Who signed a request, for every protocol (S3, IAM, STS, KMS): long-term
//! access keys (`AKIA…`, secret sealed under the root key) and temporary
//! credentials from STS (`ASIA…`). A temporary key's secret is derived from
//! its id ([`strongbox_crypto::session_secret`]); its session token is the
//! [`SessionClaims`] sealed under the root key, so the claims cannot be
//! forged or moved to another key id, and nothing per session is stored:
//! any node with the root key can check any session. What a session may do
//! is decided against the *current* role, user and policies on every
//! request, so deleting a role or detaching a policy ends what its sessions
//! can do at once.
mod signed;

pub use signed::{Signed, SignedError, authenticate_signed};

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use strongbox_crypto::RootKey;
use strongbox_meta::{CREDENTIAL_PURPOSE, Entity, MetaError, MetaStore, NamedDocument};
use strongbox_policy::{ContextKeys, Principal};
use strongbox_types::AccountId;
use zeroize::Zeroizing;

/// Purpose label sealing session tokens. Changing it ends every session.
const TOKEN_PURPOSE: &str = "strongbox/sts-session-token/v1";
/// Prefix of temporary access key ids, as AWS.
pub const TEMPORARY_KEY_PREFIX: &str = "ASIA";
/// A session token longer than this is refused before any decoding.
const MAX_TOKEN_LEN: usize = 8192;

/// What a session is a session of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionOf {
    /// GetSessionToken by the account root.
    Root,
    /// GetSessionToken by an IAM user (`user_id` pins this very user).
    User { name: String, user_id: String },
    /// AssumeRole (`role_id` pins this very role, not a namesake created later).
    Role {
        name: String,
        role_id: String,
        arn: String,
        session_name: String,
    },
}

/// Everything a session token carries, sealed. Field names are short
/// because they travel in every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The temporary access key id the token belongs to.
    pub access_key: String,
    pub account: String,
    pub of: SessionOf,
    pub issued_ms: i64,
    pub expires_ms: i64,
    /// When the MFA code was checked, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_ms: Option<i64>,
    /// The inline session policy (AssumeRole `Policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Managed session policies (AssumeRole `PolicyArns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (aws:PrincipalTag), key → value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Made from another role session (role chaining: at most one hour).
    #[serde(default)]
    pub chained: bool,
}

/// Why a caller could not be established. Each protocol maps these to its own codes.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the access key id does not exist")]
    UnknownAccessKey,
    #[error("the session token is missing, malformed or not for this access key")]
    InvalidToken,
    #[error("the session token has expired")]
    ExpiredToken,
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error("{0}")]
    Internal(String),
}

/// The authenticated caller: a principal and, for temporary credentials, its session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub session: Option<Arc<SessionClaims>>,
}

/// Every policy document that bears on what a caller may do.
#[derive(Debug, Clone, Default)]
pub struct CallerPolicies {
    /// User (with its groups') or role policies.
    pub identity: Vec<NamedDocument>,
    pub boundary: Option<NamedDocument>,
    /// Session policies: when any is present, one of them must also allow.
    pub session: Vec<NamedDocument>,
}

/// Seals `claims` into an opaque session token.
pub fn seal_token(root: &RootKey, claims: &SessionClaims) -> Result<String, IdentityError> {
    let json = serde_json::to_vec(claims).map_err(|e| IdentityError::Internal(e.to_string()))?;
    let sealed = strongbox_crypto::seal_secret(root, TOKEN_PURPOSE, &json)
        .map_err(|e| IdentityError::Internal(format!("sealing a session token: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// Opens a session token: authentic, for `access_key`, not expired at `now_ms`.
pub fn open_token(root: &RootKey, token: &str, access_key: &str, now_ms: i64) -> Result<SessionClaims, IdentityError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(IdentityError::InvalidToken);
    }
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| IdentityError::InvalidToken)?;
    let json = strongbox_crypto::open_secret(root, TOKEN_PURPOSE, &sealed).map_err(|_| IdentityError::InvalidToken)?;
    let claims: SessionClaims = serde_json::from_slice(&json).map_err(|_| IdentityError::InvalidToken)?;
    // The claims are authentic; they must also be this key's, or a token
    // could be replayed with another session's key id.
    if !strongbox_crypto::ct_eq(claims.access_key.as_bytes(), access_key.as_bytes()) {
        return Err(IdentityError::InvalidToken);
    }
    if now_ms >= claims.expires_ms {
        return Err(IdentityError::ExpiredToken);
    }
    Ok(claims)
}

pub fn now_ms() -> i64 {
    ms_since_epoch(SystemTime::now())
}

pub fn ms_since_epoch(t: SystemTime) -> i64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Looks up secrets and callers against the store.
#[derive(Clone)]
pub struct Resolver {
    pub meta: Arc<dyn MetaStore>,
    pub root_key: Arc<RootKey>,
}

impl Resolver {
    pub fn new(meta: Arc<dyn MetaStore>, root_key: Arc<RootKey>) -> Self {
        Resolver { meta, root_key }
    }

    /// The secret to verify a signature of `access_key` with.
    pub async fn secret(&self, access_key: &str) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
        if is_temporary(access_key) {
            let secret = strongbox_crypto::session_secret(&self.root_key, access_key);
            return Ok(Zeroizing::new(secret.as_bytes().to_vec()));
        }
        let cred = self.active_credential(access_key).await?;
        strongbox_crypto::open_secret(&self.root_key, CREDENTIAL_PURPOSE, &cred.secret_sealed)
            .map_err(|e| IdentityError::Internal(format!("opening the secret of {access_key}: {e}")))
    }

    /// Who `access_key` (with `token`, for temporary keys) is, once its
    /// signature has been verified. Long-term keys must not carry a token.
    pub async fn caller(&self, access_key: &str, token: Option<&str>, now_ms: i64) -> Result<Caller, IdentityError> {
        if !is_temporary(access_key) {
            if token.is_some() {
                return Err(IdentityError::InvalidToken);
            }
            let principal = self.long_term(access_key).await?;
            return Ok(Caller {
                principal,
                session: None,
            });
        }
        let token = token.ok_or(IdentityError::InvalidToken)?;
        let claims = open_token(&self.root_key, token, access_key, now_ms)?;
        let account = AccountId::parse(&claims.account).map_err(|_| IdentityError::InvalidToken)?;
        let principal = match &claims.of {
            SessionOf::Root => Principal::AccountRoot { account },
            SessionOf::User { name, user_id } => {
                let user = self
                    .meta
                    .get_user(account.as_str(), name)
                    .await?
                    .filter(|u| &u.user_id == user_id)
                    // The user was deleted (or replaced): its sessions end with it.
                    .ok_or(IdentityError::InvalidToken)?;
                Principal::User {
                    account,
                    name: user.name,
                    id: user.user_id,
                    arn: user.arn,
                }
            }
            SessionOf::Role {
                name,
                role_id,
                session_name,
                ..
            } => {
                let role = self
                    .meta
                    .get_role(account.as_str(), name)
                    .await?
                    .filter(|r| &r.role_id == role_id)
                    .ok_or(IdentityError::InvalidToken)?;
                Principal::AssumedRole {
                    account,
                    role_name: role.name,
                    role_id: role.role_id,
                    role_arn: role.arn,
                    session_name: session_name.clone(),
                }
            }
        };
        Ok(Caller {
            principal,
            session: Some(Arc::new(claims)),
        })
    }

    /// A long-term key that exists and is active.
    async fn active_credential(&self, access_key: &str) -> Result<strongbox_meta::Credential, IdentityError> {
        self.meta
            .get_credential(access_key)
            .await?
            .filter(|c| c.active)
            .ok_or(IdentityError::UnknownAccessKey)
    }

    async fn long_term(&self, access_key: &str) -> Result<Principal, IdentityError> {
        let cred = self.active_credential(access_key).await?;
        let Some(user) = cred.user_name else {
            return Ok(Principal::AccountRoot {
                account: cred.account_id,
            });
        };
        let user = self
            .meta
            .get_user(cred.account_id.as_str(), &user)
            .await?
            // The user was deleted after the key was checked: the key is gone with it.
            .ok_or(IdentityError::UnknownAccessKey)?;
        Ok(Principal::User {
            account: cred.account_id,
            name: user.name,
            id: user.user_id,
            arn: user.arn,
        })
    }

    /// The identity policies, boundary and session policies of `caller`, as stored now.
    pub async fn policies(&self, caller: &Caller) -> Result<CallerPolicies, IdentityError> {
        let mut out = CallerPolicies::default();
        match &caller.principal {
            Principal::Anonymous | Principal::AccountRoot { .. } => {}
            Principal::User { account, name, .. } => {
                out.identity = self.meta.user_policies(account.as_str(), name).await?;
                out.boundary = self
                    .meta
                    .permissions_boundary(account.as_str(), Entity::User(name))
                    .await?
                    .map(|(_, d)| d);
            }
            Principal::AssumedRole { account, role_name, .. } => {
                out.identity = self.meta.role_policies(account.as_str(), role_name).await?;
                out.boundary = self
                    .meta
                    .permissions_boundary(account.as_str(), Entity::Role(role_name))
                    .await?
                    .map(|(_, d)| d);
            }
        }
        if let Some(session) = &caller.session {
            out.session = self.session_policies(session).await?;
        }
        Ok(out)
    }

    async fn session_policies(&self, claims: &SessionClaims) -> Result<Vec<NamedDocument>, IdentityError> {
        let mut out = Vec::new();
        if let Some(policy) = &claims.policy {
            out.push(NamedDocument {
                name: "session/inline".into(),
                document: policy.clone(),
            });
        }
        for arn in &claims.policy_arns {
            // A session policy deleted since allows nothing; with no other
            // session policy allowing, the session is then denied (fail closed).
            let document = managed_document(self.meta.as_ref(), &claims.account, arn)
                .await?
                .unwrap_or_else(|| {
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#.to_owned()
                });
            out.push(NamedDocument {
                name: format!("session/{arn}"),
                document,
            });
        }
        Ok(out)
    }
}

/// The default version's document of a customer or AWS managed policy.
pub async fn managed_document(meta: &dyn MetaStore, account: &str, arn: &str) -> Result<Option<String>, MetaError> {
    if let Some(builtin) = strongbox_meta::aws_managed_policy(arn) {
        return Ok(Some(builtin.document.to_owned()));
    }
    let Some(policy) = meta.get_policy(account, arn).await? else {
        return Ok(None);
    };
    Ok(meta
        .get_policy_version(account, arn, &policy.default_version_id)
        .await?
        .ok()
        .map(|v| v.document))
}

pub fn is_temporary(access_key: &str) -> bool {
    access_key.starts_with(TEMPORARY_KEY_PREFIX)
}

/// The principal's global condition keys (`aws:PrincipalArn`, `aws:userid`,
/// ...) and, for sessions, `aws:MultiFactorAuthPresent`/`Age`,
/// `aws:TokenIssueTime`, `aws:SourceIdentity` and `aws:PrincipalTag/*`.
/// Long-term keys get no MFA keys at all, as AWS (hence `BoolIfExists`).
pub fn add_principal_keys(caller: &Caller, now_ms: i64, keys: &mut ContextKeys) {
    let p = &caller.principal;
    if let Some(arn) = p.principal_arn() {
        keys.insert("aws:PrincipalArn", &arn);
    }
    if let Some(account) = p.account() {
        keys.insert("aws:PrincipalAccount", account.as_str());
    }
    keys.insert("aws:PrincipalType", p.principal_type());
    keys.insert("aws:userid", &p.userid());
    if let Principal::User { name, .. } = p {
        keys.insert("aws:username", name);
    }
    let Some(s) = &caller.session else {
        return;
    };
    keys.insert("aws:TokenIssueTime", &iso8601(s.issued_ms));
    keys.insert(
        "aws:MultiFactorAuthPresent",
        if s.mfa_ms.is_some() { "true" } else { "false" },
    );
    if let Some(at) = s.mfa_ms {
        keys.insert("aws:MultiFactorAuthAge", &((now_ms - at).max(0) / 1000).to_string());
    }
    if let Some(source) = &s.source_identity {
        keys.insert("aws:SourceIdentity", source);
    }
    for (k, v) in &s.tags {
        keys.insert(&format!("aws:PrincipalTag/{k}"), v);
    }
}

/// `2026-12-03T10:00:00Z`, as AWS's date condition keys and STS's XML.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            access_key: "ASIAAAAAAAAAAAAAAAAA".into(),
            account: "111122223333".into(),
            of: SessionOf::Root,
            issued_ms: 1_000,
            expires_ms: 10_000,
            mfa_ms: Some(1_000),
            policy: None,
            policy_arns: vec![],
            tags: vec![("team".into(), "blue".into())],
            transitive_tag_keys: vec![],
            source_identity: None,
            chained: false,
        }
    }

    #[test]
    fn tokens_open_only_for_their_key_and_before_expiry() {
        let root = RootKey::from_bytes(&[3u8; 32]).unwrap();
        let token = seal_token(&root, &claims()).unwrap();
        assert_eq!(
            open_token(&root, &token, "ASIAAAAAAAAAAAAAAAAA", 5_000).unwrap(),
            claims()
        );
        assert!(matches!(
            open_token(&root, &token, "ASIAAAAAAAAAAAAAAAAB", 5_000),
            Err(IdentityError::InvalidToken)
        ));
        assert!(matches!(
            open_token(&root, &token, "ASIAAAAAAAAAAAAAAAAA", 10_000),
            Err(IdentityError::ExpiredToken)
        ));
        let other = RootKey::from_bytes(&[4u8; 32]).unwrap();
        assert!(matches!(
            open_token(&other, &token, "ASIAAAAAAAAAAAAAAAAA", 5_000),
            Err(IdentityError::InvalidToken)
        ));
    }

    #[test]
    fn tampered_tokens_are_invalid() {
        let root = RootKey::from_bytes(&[3u8; 32]).unwrap();
        let token = seal_token(&root, &claims()).unwrap();
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(&token).unwrap();
        for i in [0, bytes.len() / 2, bytes.len() - 1] {
            bytes[i] ^= 1;
            let t = base64::engine::general_purpose::STANDARD.encode(&bytes);
            assert!(matches!(
                open_token(&root, &t, "ASIAAAAAAAAAAAAAAAAA", 5_000),
                Err(IdentityError::InvalidToken)
            ));
            bytes[i] ^= 1;
        }
        assert!(matches!(
            open_token(&root, "not base64!", "ASIAAAAAAAAAAAAAAAAA", 5_000),
            Err(IdentityError::InvalidToken)
        ));
    }

    #[test]
    fn session_keys_for_mfa_and_tags() {
        let caller = Caller {
            principal: Principal::AssumedRole {
                account: AccountId::parse("111122223333").unwrap(),
                role_name: "app".into(),
                role_id: "AROAEXAMPLE".into(),
                role_arn: "arn:aws:iam::111122223333:role/app".into(),
                session_name: "s1".into(),
            },
            session: Some(Arc::new(claims())),
        };
        let mut keys = ContextKeys::new();
        add_principal_keys(&caller, 61_000, &mut keys);
        let get = |k: &str| keys.get(k).and_then(|v| v.first()).cloned();
        assert_eq!(
            get("aws:PrincipalArn").as_deref(),
            Some("arn:aws:iam::111122223333:role/app")
        );
        assert_eq!(get("aws:userid").as_deref(), Some("AROAEXAMPLE:s1"));
        assert_eq!(get("aws:PrincipalType").as_deref(), Some("AssumedRole"));
        assert_eq!(get("aws:MultiFactorAuthPresent").as_deref(), Some("true"));
        assert_eq!(get("aws:MultiFactorAuthAge").as_deref(), Some("60"));
        assert_eq!(get("aws:PrincipalTag/team").as_deref(), Some("blue"));
        assert_eq!(get("aws:TokenIssueTime").as_deref(), Some("1970-01-01T00:00:01Z"));
    }
}
