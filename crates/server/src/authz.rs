//! Policy decisions for S3 requests: gathers what [`strongbox_policy::evaluate`]
//! needs (the caller's identity policies, the bucket policy, the bucket
//! owner, the condition keys) and asks it. Stored policies are parsed once and
//! cached by their text. Anything that goes wrong here denies.
use crate::context::RequestContext;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use strongbox_identity::Caller;
use strongbox_meta::{BucketRecord, MetaError, MetaStore};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, Verdict, evaluate,
};

/// A parsed policy with the name decisions report it by.
#[derive(Debug)]
pub struct LoadedPolicy {
    pub name: String,
    pub policy: Policy,
    /// True when a condition reads `s3:ExistingObjectTag/...`, so the gate
    /// knows whether it must read the object's tags before deciding.
    pub uses_existing_tags: bool,
    /// AWS's "meaning of public" holds of it (what RestrictPublicBuckets restricts).
    pub public: bool,
}

/// The resource side of a decision: the account owning the resource (for
/// account-level actions and buckets that do not exist, the caller's own)
/// and the bucket policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceSide<'a> {
    pub owner: Option<&'a str>,
    pub policy: Option<&'a LoadedPolicy>,
    /// RestrictPublicBuckets is in effect and the policy is public: nobody
    /// outside the owner's account is allowed, by the policy or otherwise.
    pub restricted: bool,
}

impl<'a> ResourceSide<'a> {
    /// A bucket (or an object in it) with its policy, under its effective Block Public Access.
    pub fn bucket(bucket: &'a BucketRecord, policy: Option<&'a LoadedPolicy>) -> Self {
        let restricted =
            policy.is_some_and(|p| p.public) && bucket.effective_public_access_block().restrict_public_buckets;
        Self {
            owner: Some(bucket.owner.as_str()),
            policy,
            restricted,
        }
    }

    /// Something of `account` that has no resource policy.
    pub fn account(account: Option<&'a str>) -> Self {
        Self {
            owner: account,
            ..Self::default()
        }
    }
}

/// The caller's identity policies (empty for account roots and anonymous callers).
pub type Identity = Arc<[Arc<LoadedPolicy>]>;

/// Everything on the caller's side of a decision.
#[derive(Debug, Clone, Default)]
pub struct CallerPolicies {
    pub identity: Identity,
    pub boundary: Option<Arc<LoadedPolicy>>,
    /// Session policies (AssumeRole `Policy`/`PolicyArns`): when present,
    /// one must also allow.
    pub session: Identity,
}

/// Parsed policies are kept at most this many at a time (a full cache is cleared).
const CACHE_ENTRIES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A stored policy no longer parses: fail closed rather than skip a Deny.
    #[error("stored policy {name} is invalid: {message}")]
    StoredPolicy { name: String, message: String },
    #[error("loading the caller's policies: {0}")]
    Identity(String),
}

/// Cache slot → (the text it was parsed from, the parsed policy). A slot is
/// a bucket name, or `<account>\0<policy name>` for identity policies; a
/// changed text is parsed again on its next use.
type Cache = HashMap<String, (String, Arc<LoadedPolicy>)>;

pub struct Authorizer {
    meta: Arc<dyn MetaStore>,
    root_key: Arc<strongbox_crypto::RootKey>,
    cache: Mutex<Cache>,
}

impl Authorizer {
    /// Checks an `x-amz-mfa` code against the account root's MFA device
    /// (consuming it: a replay is refused); false for a wrong code or no device.
    pub async fn check_root_mfa(&self, account: &str, serial: &str, code: &str) -> Result<bool, AuthzError> {
        if serial != strongbox_iam::mfa::root_serial(account) {
            return Ok(false);
        }
        let outcome = strongbox_iam::mfa::check_code_in(
            self.meta.as_ref(),
            &self.root_key,
            serial,
            &strongbox_meta::MfaOwner::Root,
            code,
        )
        .await
        .map_err(|e| AuthzError::Identity(format!("checking an MFA code: {e}")))?;
        Ok(outcome.is_ok())
    }

    pub fn new(meta: Arc<dyn MetaStore>, root_key: Arc<strongbox_crypto::RootKey>) -> Self {
        Authorizer {
            meta,
            root_key,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Loads and parses the identity policies, permissions boundary and
    /// session policies of `caller`, as they are stored now.
    pub async fn caller_policies(&self, caller: &Caller) -> Result<CallerPolicies, AuthzError> {
        let Some(account) = caller.principal.account() else {
            return Ok(CallerPolicies::default());
        };
        let docs = strongbox_identity::Resolver::new(Arc::clone(&self.meta), Arc::clone(&self.root_key))
            .policies(caller)
            .await
            .map_err(|e| AuthzError::Identity(e.to_string()))?;
        // Session policies differ per session: their slot names the session.
        let session_slot = caller.session.as_ref().map_or("", |s| s.access_key.as_str());
        let load = |doc: strongbox_meta::NamedDocument, scope: &str| {
            let slot = format!("{account}\0{scope}\0{}", doc.name);
            self.load(&slot, doc.name, &doc.document, PolicyKind::Identity)
        };
        Ok(CallerPolicies {
            identity: docs
                .identity
                .into_iter()
                .map(|d| load(d, ""))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
            boundary: docs.boundary.map(|d| load(d, "")).transpose()?,
            session: docs
                .session
                .into_iter()
                .map(|d| load(d, session_slot))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        })
    }

    /// The bucket's policy, parsed.
    pub fn bucket_policy(&self, bucket: &BucketRecord) -> Result<Option<Arc<LoadedPolicy>>, AuthzError> {
        let Some(text) = &bucket.policy else {
            return Ok(None);
        };
        let kind = PolicyKind::Bucket {
            bucket: bucket.name.clone(),
        };
        let name = format!("bucket-policy/{}", bucket.name);
        self.load(&bucket.name, name, text, kind).map(Some)
    }

    fn load(&self, slot: &str, name: String, text: &str, kind: PolicyKind) -> Result<Arc<LoadedPolicy>, AuthzError> {
        let cached = self.cache.lock().ok().and_then(|c| {
            c.get(slot)
                .filter(|(parsed_from, _)| parsed_from == text)
                .map(|(_, p)| Arc::clone(p))
        });
        if let Some(p) = cached {
            return Ok(p);
        }
        let policy = Policy::parse(text, &kind).map_err(|e| AuthzError::StoredPolicy {
            name: name.clone(),
            message: e.to_string(),
        })?;
        let uses_existing_tags = policy.statements.iter().any(|s| {
            s.conditions
                .iter()
                .any(|c| c.key.to_ascii_lowercase().starts_with("s3:existingobjecttag/"))
        });
        let public = policy.is_public();
        let loaded = Arc::new(LoadedPolicy {
            name,
            policy,
            uses_existing_tags,
            public,
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(slot.to_owned(), (text.to_owned(), Arc::clone(&loaded)));
        }
        Ok(loaded)
    }
}

fn named(p: &Arc<LoadedPolicy>) -> NamedPolicy<'_> {
    NamedPolicy {
        name: &p.name,
        policy: &p.policy,
    }
}

/// One decision: may the caller of `ctx` perform `action` on `resource`?
pub fn decide(
    ctx: &RequestContext,
    keys: &ContextKeys,
    action: &str,
    resource: &str,
    side: ResourceSide<'_>,
) -> Verdict {
    let caller_account = ctx.principal.account().map(|a| a.as_str());
    if side.restricted && (caller_account.is_none() || caller_account != side.owner) {
        // RestrictPublicBuckets: a bucket with a public policy serves only
        // its owner's account; anonymous and cross-account callers get nothing.
        tracing::debug!(request_id = %ctx.request_id, action, resource, "denied by RestrictPublicBuckets");
        return Verdict::ImplicitDeny;
    }
    let arn = ctx.principal.arn();
    let facts = RequestFacts {
        principal: PrincipalFacts {
            arn: arn.as_deref(),
            account: caller_account,
            service: None,
            canonical_user: None,
            role_arn: ctx.principal.role_arn(),
        },
        action,
        resource,
        context: keys,
    };
    let identity: Vec<NamedPolicy<'_>> = ctx.policies.identity.iter().map(named).collect();
    let session: Vec<NamedPolicy<'_>> = ctx.policies.session.iter().map(named).collect();
    evaluate(&Authorization {
        facts,
        identity_policies: &identity,
        resource_policy: side.policy.map(|p| NamedPolicy {
            name: &p.name,
            policy: &p.policy,
        }),
        resource_owner: side.owner,
        permissions_boundary: ctx.policies.boundary.as_ref().map(named),
        session_policies: &session,
    })
}
