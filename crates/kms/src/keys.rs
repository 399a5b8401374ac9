//! Keys as stored: finding the key a request names (id, ARN, alias, alias
//! ARN), the lazy parts of the lifecycle (a key past its deletion date is
//! deleted when next touched; an enabled key past its rotation date gets a
//! new material version when next touched), revision-checked updates, and
//! key material (drawn at random, sealed under the root key, opened only for
//! one operation and zeroized after).
use crate::ids::{self, KeyRef};
use crate::{Kms, KmsError, policies};
use ring::rand::{SecureRandom, SystemRandom};
use strongbox_meta::{
    KMS_KEY_RECORD_VERSION, KmsAlias, KmsKeyDoc, KmsKeyManager, KmsKeyMaterial, KmsKeyRecord, KmsKeyState, KmsRefused,
    KmsRotationType,
};
use strongbox_types::AccountId;
use zeroize::Zeroizing;

/// Purpose label sealing key material under the root key (`kms/key-material`,
/// defined next to the records so root key rotation re-seals with the same one).
pub(crate) use strongbox_meta::KMS_MATERIAL_PURPOSE as MATERIAL_PURPOSE;
pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;
pub(crate) const DEFAULT_ROTATION_DAYS: u32 = 365;
/// The AWS managed key S3 uses by default.
pub(crate) const AWS_S3_ALIAS: &str = "alias/aws/s3";
/// Times a record update is retried when another request changed the key meanwhile.
const UPDATE_ATTEMPTS: usize = 8;

/// How an operation may name its key, as AWS documents per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Key id, key ARN, alias name or alias ARN; another account's key by
    /// ARN (cryptographic operations, DescribeKey).
    Crypto,
    /// Key id or key ARN of the caller's account (management operations).
    Key,
    /// Key id or key ARN; another account's key by ARN (GetKeyRotationStatus).
    KeyAnyAccount,
}

/// A key found for a request, and the alias the request named it by.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub key: KmsKeyRecord,
    pub alias: Option<String>,
}

/// A key's material, zeroized on drop.
pub(crate) struct Material(pub Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Material(..)")
    }
}

/// AWS's message for a key that does not exist.
pub(crate) fn no_such_key(arn: &str) -> KmsError {
    KmsError::NotFound(format!("Key '{arn}' does not exist"))
}

/// Refuses cryptographic use of a key that is not enabled, with AWS's errors.
pub(crate) fn require_enabled(key: &KmsKeyRecord) -> Result<(), KmsError> {
    match key.doc.state {
        KmsKeyState::Enabled => Ok(()),
        KmsKeyState::Disabled => Err(KmsError::Disabled(format!("{} is disabled.", key.arn))),
        KmsKeyState::PendingDeletion => Err(pending_deletion(key)),
    }
}

pub(crate) fn pending_deletion(key: &KmsKeyRecord) -> KmsError {
    KmsError::InvalidState(format!("{} is pending deletion.", key.arn))
}

impl Kms {
    /// The key `text` names for a caller of `account`, after the lazy lifecycle steps.
    pub(crate) async fn find_key(&self, account: &AccountId, text: &str, scope: Scope) -> Result<Found, KmsError> {
        let region = self.region().to_owned();
        let reference = KeyRef::parse(text, &region)?;
        if reference.alias().is_some() && scope != Scope::Crypto {
            return Err(KmsError::NotFound(format!("Invalid keyId '{text}'")));
        }
        let (owner, key_id) = match &reference {
            KeyRef::Id(id) => {
                if ids::parse_uuid(id).is_none() {
                    return Err(KmsError::NotFound(format!("Invalid keyId '{text}'")));
                }
                (account.as_str().to_owned(), id.clone())
            }
            KeyRef::KeyArn { account: owner, id } => (owner.clone(), id.clone()),
            KeyRef::Alias(name) | KeyRef::AliasArn { name, .. } => {
                let owner = match &reference {
                    KeyRef::AliasArn { account: owner, .. } => owner.clone(),
                    _ => account.as_str().to_owned(),
                };
                // Only the caller's own `alias/aws/s3` is created on first use.
                let create = owner == account.as_str();
                (owner.clone(), self.alias_target(&owner, name, create).await?)
            }
        };
        if scope == Scope::Key && owner != account.as_str() {
            return Err(no_such_key(&ids::key_arn(&region, &owner, &key_id)));
        }
        let arn = ids::key_arn(&region, &owner, &key_id);
        let key = match self.inner.meta.get_kms_key(&key_id).await? {
            Some(k) if k.account_id.as_str() == owner => k,
            _ => return Err(no_such_key(&arn)),
        };
        let key = self.maintain(key).await?;
        Ok(Found {
            key,
            alias: reference.alias().map(str::to_owned),
        })
    }

    /// The key id an alias points at (creating `alias/aws/s3` on first use
    /// when `create`, as AWS does).
    async fn alias_target(&self, owner: &str, name: &str, create: bool) -> Result<String, KmsError> {
        if let Some(alias) = self.inner.meta.get_kms_alias(owner, name).await? {
            return Ok(alias.target_key_id);
        }
        if create
            && name == AWS_S3_ALIAS
            && let Ok(account) = AccountId::parse(owner)
        {
            return Ok(self.aws_s3_key(&account).await?.key_id);
        }
        Err(KmsError::NotFound(format!(
            "Alias {} is not found.",
            ids::alias_arn(self.region(), owner, name)
        )))
    }

    /// The account's AWS managed key for S3, created with its alias on first use.
    pub(crate) async fn aws_s3_key(&self, account: &AccountId) -> Result<KmsKeyRecord, KmsError> {
        for _ in 0..UPDATE_ATTEMPTS {
            if let Some(alias) = self.inner.meta.get_kms_alias(account.as_str(), AWS_S3_ALIAS).await?
                && let Some(key) = self.inner.meta.get_kms_key(&alias.target_key_id).await?
            {
                return self.maintain(key).await;
            }
            let policy = policies::aws_s3_key_policy(account.as_str(), self.region());
            let description = "Default key that protects my S3 objects when no other key is defined";
            let key = self.new_key(account, description, policy, Vec::new(), KmsKeyManager::Aws)?;
            let now = self.now_ms();
            let alias = KmsAlias {
                account_id: account.clone(),
                name: AWS_S3_ALIAS.to_owned(),
                target_key_id: key.key_id.clone(),
                created_ms: now,
                updated_ms: now,
            };
            match self.inner.meta.create_kms_key(&key, Some(&alias)).await? {
                Ok(()) => {
                    tracing::info!(account = %account, key = %key.arn, "created the AWS managed key alias/aws/s3");
                    return Ok(key);
                }
                // Another request created it first: read theirs.
                Err(_) => continue,
            }
        }
        Err(KmsError::internal("could not create or read alias/aws/s3"))
    }

    /// A new key record with one material version, not yet stored.
    pub(crate) fn new_key(
        &self,
        account: &AccountId,
        description: &str,
        policy: String,
        tags: Vec<strongbox_meta::Tag>,
        manager: KmsKeyManager,
    ) -> Result<KmsKeyRecord, KmsError> {
        let key_id = ids::new_uuid()?;
        let now = self.now_ms();
        let aws_managed = manager == KmsKeyManager::Aws;
        Ok(KmsKeyRecord {
            arn: ids::key_arn(self.region(), account.as_str(), &key_id),
            key_id,
            account_id: account.clone(),
            created_ms: now,
            revision: 0,
            doc: KmsKeyDoc {
                v: KMS_KEY_RECORD_VERSION,
                description: description.to_owned(),
                state: KmsKeyState::Enabled,
                deletion_ms: None,
                pending_window_days: None,
                key_usage: "ENCRYPT_DECRYPT".into(),
                key_spec: "SYMMETRIC_DEFAULT".into(),
                origin: "AWS_KMS".into(),
                manager,
                // AWS managed keys rotate every year, and that cannot be changed.
                rotation_enabled: aws_managed,
                rotation_period_days: DEFAULT_ROTATION_DAYS,
                next_rotation_ms: aws_managed.then(|| now + i64::from(DEFAULT_ROTATION_DAYS) * DAY_MS),
                policy,
                tags,
                materials: vec![self.new_material(1, KmsRotationType::Initial, now)?],
            },
        })
    }

    /// A key by id, after the lazy lifecycle steps (`None`: no such key).
    pub(crate) async fn key_by_id(&self, key_id: &str) -> Result<Option<KmsKeyRecord>, KmsError> {
        match self.inner.meta.get_kms_key(key_id).await? {
            None => Ok(None),
            Some(key) => self.maintain(key).await.map(Some),
        }
    }

    /// Deletes a key whose waiting period is over, and rotates an enabled key
    /// whose rotation is due.
    pub(crate) async fn maintain(&self, key: KmsKeyRecord) -> Result<KmsKeyRecord, KmsError> {
        let now = self.now_ms();
        if key.doc.state == KmsKeyState::PendingDeletion && key.doc.deletion_ms.is_some_and(|d| d <= now) {
            // Gone either way: deleted now, or by a concurrent request.
            let _ = self.inner.meta.delete_kms_key(&key.key_id).await?;
            tracing::info!(key = %key.arn, "deleted KMS key after its waiting period");
            return Err(no_such_key(&key.arn));
        }
        if rotation_due(&key, now) {
            return self
                .update(key, |k| {
                    if rotation_due(k, now) {
                        self.add_material(k, KmsRotationType::Automatic, now)?;
                    }
                    Ok(())
                })
                .await;
        }
        Ok(key)
    }

    /// Applies `change` to the key and stores it, re-reading and re-applying
    /// when another request updated the key first.
    pub(crate) async fn update(
        &self,
        mut key: KmsKeyRecord,
        change: impl Fn(&mut KmsKeyRecord) -> Result<(), KmsError>,
    ) -> Result<KmsKeyRecord, KmsError> {
        for _ in 0..UPDATE_ATTEMPTS {
            let mut next = key.clone();
            change(&mut next)?;
            if next.doc == key.doc {
                return Ok(key);
            }
            match self.inner.meta.update_kms_key(&next).await? {
                Ok(stored) => return Ok(stored),
                Err(KmsRefused::Stale) => {
                    key = match self.inner.meta.get_kms_key(&key.key_id).await? {
                        Some(k) => k,
                        None => return Err(no_such_key(&key.arn)),
                    };
                }
                Err(_) => return Err(no_such_key(&key.arn)),
            }
        }
        Err(KmsError::internal(format!(
            "key {} kept changing during an update",
            key.arn
        )))
    }

    /// Adds the next material version and moves the next rotation date on.
    pub(crate) fn add_material(
        &self,
        key: &mut KmsKeyRecord,
        rotation: KmsRotationType,
        now: i64,
    ) -> Result<(), KmsError> {
        let version = key.doc.materials.iter().map(|m| m.version).max().unwrap_or(0) + 1;
        key.doc.materials.push(self.new_material(version, rotation, now)?);
        if key.doc.rotation_enabled {
            key.doc.next_rotation_ms = Some(now + i64::from(key.doc.rotation_period_days) * DAY_MS);
        }
        Ok(())
    }

    fn new_material(&self, version: u32, rotation: KmsRotationType, now: i64) -> Result<KmsKeyMaterial, KmsError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| KmsError::internal("the system random number generator failed"))?;
        let sealed = strongbox_crypto::seal_secret(&self.inner.root_key, MATERIAL_PURPOSE, bytes.as_ref())
            .map_err(|e| KmsError::internal(format!("sealing key material: {e}")))?;
        Ok(KmsKeyMaterial {
            version,
            sealed,
            created_ms: now,
            rotation,
        })
    }

    /// Opens one material version of `key`; `None` when the key has no such version.
    pub(crate) fn material(&self, key: &KmsKeyRecord, version: u32) -> Result<Option<Material>, KmsError> {
        let Some(m) = key.doc.materials.iter().find(|m| m.version == version) else {
            return Ok(None);
        };
        let opened = strongbox_crypto::open_secret(&self.inner.root_key, MATERIAL_PURPOSE, &m.sealed)
            .map_err(|e| KmsError::internal(format!("opening material {version} of {}: {e}", key.arn)))?;
        let mut out = Zeroizing::new([0u8; 32]);
        if opened.len() != out.len() {
            return Err(KmsError::internal(format!(
                "material {version} of {} is not 32 bytes",
                key.arn
            )));
        }
        out.copy_from_slice(&opened);
        Ok(Some(Material(out)))
    }

    /// The newest material version (the one that encrypts) and its number.
    pub(crate) fn current_material(&self, key: &KmsKeyRecord) -> Result<(u32, Material), KmsError> {
        let version = key.doc.materials.iter().map(|m| m.version).max().unwrap_or(0);
        match self.material(key, version)? {
            Some(m) => Ok((version, m)),
            None => Err(KmsError::internal(format!("key {} has no material", key.arn))),
        }
    }
}

fn rotation_due(key: &KmsKeyRecord, now: i64) -> bool {
    key.doc.state == KmsKeyState::Enabled
        && key.doc.rotation_enabled
        && key.doc.next_rotation_ms.is_some_and(|t| t <= now)
}
