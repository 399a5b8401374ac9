//! Policy decisions for S3 requests: gathers what [`strongbox_policy::evaluate`]
//! needs (the caller's identity policies, the bucket policy, the bucket
//! owner, the condition keys) and asks it. Stored policies are parsed once and
//! cached by their text. Anything that goes wrong here denies.
use crate::context::RequestContext;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use strongbox_meta::{BucketRecord, MetaError, MetaStore};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, Principal, PrincipalFacts, RequestFacts, Verdict,
    evaluate,
};

/// A parsed policy with the name decisions report it by.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub name: String,
    pub policy: Arc<Policy>,
    /// True when the text mentions `s3:ExistingObjectTag`, so the gate knows
    /// whether it must read the object's tags before deciding.
    pub uses_existing_tags: bool,
}

/// The caller's identity policies (empty for account roots and anonymous callers).
pub type Identity = Arc<[LoadedPolicy]>;

/// Parsed policies are kept at most this many at a time (a full cache is cleared).
const CACHE_ENTRIES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A stored policy no longer parses: fail closed rather than skip a Deny.
    #[error("stored policy {name} is invalid: {message}")]
    StoredPolicy { name: String, message: String },
}

pub struct Authorizer {
    meta: Arc<dyn MetaStore>,
    cache: Mutex<HashMap<String, Arc<Policy>>>,
}

impl Authorizer {
    pub fn new(meta: Arc<dyn MetaStore>) -> Self {
        Authorizer {
            meta,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Loads and parses the identity policies of `principal`.
    pub async fn identity(&self, principal: &Principal) -> Result<Identity, AuthzError> {
        let Principal::User { account, name, .. } = principal else {
            return Ok(Arc::from(Vec::new()));
        };
        let docs = self.meta.user_policies(account.as_str(), name).await?;
        let mut loaded = Vec::with_capacity(docs.len());
        for doc in docs {
            let policy = self.parse(&doc.name, &doc.document, PolicyKind::Identity)?;
            loaded.push(LoadedPolicy {
                uses_existing_tags: mentions_existing_tags(&doc.document),
                name: doc.name,
                policy,
            });
        }
        Ok(Arc::from(loaded))
    }

    /// The bucket's policy, parsed.
    pub fn bucket_policy(&self, bucket: &BucketRecord) -> Result<Option<LoadedPolicy>, AuthzError> {
        let Some(text) = &bucket.policy else {
            return Ok(None);
        };
        let name = format!("bucket-policy/{}", bucket.name);
        let policy = self.parse(
            &name,
            text,
            PolicyKind::Bucket {
                bucket: bucket.name.clone(),
            },
        )?;
        Ok(Some(LoadedPolicy {
            name,
            policy,
            uses_existing_tags: mentions_existing_tags(text),
        }))
    }

    fn parse(&self, name: &str, text: &str, kind: PolicyKind) -> Result<Arc<Policy>, AuthzError> {
        let cache_key = match &kind {
            PolicyKind::Bucket { bucket } => format!("b\0{bucket}\0{text}"),
            PolicyKind::Identity => format!("i\0{text}"),
        };
        if let Some(p) = self.cache.lock().ok().and_then(|c| c.get(&cache_key).cloned()) {
            return Ok(p);
        }
        let policy = Arc::new(Policy::parse(text, &kind).map_err(|e| AuthzError::StoredPolicy {
            name: name.to_owned(),
            message: e.to_string(),
        })?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(cache_key, Arc::clone(&policy));
        }
        Ok(policy)
    }
}

fn mentions_existing_tags(text: &str) -> bool {
    text.to_ascii_lowercase().contains("s3:existingobjecttag")
}

/// One decision: may the caller of `ctx` perform `action` on `resource`?
/// `owner` is the account owning the resource (for account-level actions and
/// buckets that do not exist, the caller's own account).
pub fn decide(
    ctx: &RequestContext,
    keys: &ContextKeys,
    action: &str,
    resource: &str,
    owner: Option<&str>,
    bucket_policy: Option<&LoadedPolicy>,
) -> Verdict {
    let arn = ctx.principal.arn();
    let facts = RequestFacts {
        principal: PrincipalFacts {
            arn: arn.as_deref(),
            account: ctx.principal.account().map(|a| a.as_str()),
            service: None,
            canonical_user: None,
        },
        action,
        resource,
        context: keys,
    };
    let identity: Vec<NamedPolicy<'_>> = ctx
        .identity
        .iter()
        .map(|p| NamedPolicy {
            name: &p.name,
            policy: &p.policy,
        })
        .collect();
    evaluate(&Authorization {
        facts,
        identity_policies: &identity,
        resource_policy: bucket_policy.map(|p| NamedPolicy {
            name: &p.name,
            policy: &p.policy,
        }),
        resource_owner: owner,
        permissions_boundary: None,
        session_policies: &[],
    })
}
