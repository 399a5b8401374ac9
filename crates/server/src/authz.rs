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
#[derive(Debug)]
pub struct LoadedPolicy {
    pub name: String,
    pub policy: Policy,
    /// True when a condition reads `s3:ExistingObjectTag/...`, so the gate
    /// knows whether it must read the object's tags before deciding.
    pub uses_existing_tags: bool,
}

/// The caller's identity policies (empty for account roots and anonymous callers).
pub type Identity = Arc<[Arc<LoadedPolicy>]>;

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

/// Cache slot → (the text it was parsed from, the parsed policy). A slot is
/// a bucket name, or `<account>\0<policy name>` for identity policies; a
/// changed text is parsed again on its next use.
type Cache = HashMap<String, (String, Arc<LoadedPolicy>)>;

pub struct Authorizer {
    meta: Arc<dyn MetaStore>,
    cache: Mutex<Cache>,
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
        docs.into_iter()
            .map(|doc| {
                let slot = format!("{account}\0{}", doc.name);
                self.load(&slot, doc.name, &doc.document, PolicyKind::Identity)
            })
            .collect()
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
        let loaded = Arc::new(LoadedPolicy {
            name,
            policy,
            uses_existing_tags,
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
