//! The steps every key operation shares, and the cryptographic operations
//! themselves (used by both the JSON API and S3): the quota, finding the key,
//! authorizing, the state check, sealing and opening ciphertext blobs.
use crate::authz::{self, Extra, Identity};
use crate::ciphertext::{self, Header};
use crate::keys::{self, Found, Scope};
use crate::{EncryptionContext, GeneratedDataKey, Kms, KmsCaller, KmsError, audit::Trail, ids};
use ring::rand::{SecureRandom, SystemRandom};
use strongbox_meta::KmsKeyRecord;
use zeroize::Zeroizing;

/// The only encryption algorithm of symmetric keys.
pub(crate) const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

impl Kms {
    /// Takes one cryptographic request from the caller's account quota.
    pub(crate) fn check_quota(&self, caller: &KmsCaller) -> Result<(), KmsError> {
        match &self.inner.quota {
            Some(q) if !q.take(caller.account.as_str(), std::time::Instant::now()) => Err(KmsError::Throttling),
            _ => Ok(()),
        }
    }

    /// Finds the key `key_id` names and authorizes `action` on it; the key
    /// may be in any state.
    #[expect(clippy::too_many_arguments, reason = "the request's parts, each distinct")]
    pub(crate) async fn authorized_key(
        &self,
        caller: &KmsCaller,
        identity: &Identity,
        key_id: &str,
        scope: Scope,
        action: &str,
        mut extra: Extra,
        trail: &mut Trail,
    ) -> Result<Found, KmsError> {
        let found = self.find_key(&caller.account, key_id, scope).await?;
        trail.resource(&found.key.arn);
        if let Some(alias) = &found.alias {
            extra.push(("kms:RequestAlias".into(), vec![alias.clone()]));
        }
        self.authorize(caller, identity, &found.key, action, &extra)?;
        Ok(found)
    }

    /// Authorizes `action` on a key already found.
    pub(crate) fn authorize(
        &self,
        caller: &KmsCaller,
        identity: &Identity,
        key: &KmsKeyRecord,
        action: &str,
        extra: &Extra,
    ) -> Result<(), KmsError> {
        let context = authz::context(caller, self.region(), Some(key), extra);
        authz::authorize_key(caller, identity, key, action, &context)
    }

    /// Like [`Kms::authorized_key`] for a cryptographic use: the key must be enabled.
    pub(crate) async fn usable_key(
        &self,
        caller: &KmsCaller,
        identity: &Identity,
        key_id: &str,
        action: &str,
        extra: Extra,
        trail: &mut Trail,
    ) -> Result<KmsKeyRecord, KmsError> {
        let found = self
            .authorized_key(caller, identity, key_id, Scope::Crypto, action, extra, trail)
            .await?;
        keys::require_enabled(&found.key)?;
        Ok(found.key)
    }

    /// GenerateDataKey: `len` random bytes and their blob under `key_id`.
    pub(crate) async fn data_key(
        &self,
        caller: &KmsCaller,
        key_id: &str,
        context: &EncryptionContext,
        len: usize,
        trail: &mut Trail,
    ) -> Result<GeneratedDataKey, KmsError> {
        self.check_quota(caller)?;
        let identity = Identity::load(self, caller).await?;
        let extra = crypto_extra(context, false);
        let key = self
            .usable_key(caller, &identity, key_id, "kms:GenerateDataKey", extra, trail)
            .await?;
        let plaintext = random_bytes(len)?;
        let ciphertext_blob = self.seal(&key, context, &plaintext)?;
        Ok(GeneratedDataKey {
            plaintext,
            ciphertext_blob,
            key_arn: key.arn,
        })
    }

    /// Seals `plaintext` under the key's newest material.
    pub(crate) fn seal(
        &self,
        key: &KmsKeyRecord,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let key_id = ids::parse_uuid(&key.key_id)
            .ok_or_else(|| KmsError::internal(format!("stored key id {} is not a UUID", key.key_id)))?;
        let (material_version, material) = self.current_material(key)?;
        let header = Header {
            key_id,
            material_version,
        };
        ciphertext::seal(&material.0, header, context, plaintext)
            .map_err(|e| KmsError::internal(format!("sealing under {}: {e}", key.arn)))
    }

    /// Decrypt: the key named in the blob (which must be `expected_key`'s when
    /// given), authorized as `action`, must be enabled; the blob must open
    /// with `context`.
    pub(crate) async fn decrypt_blob(
        &self,
        caller: &KmsCaller,
        blob: &[u8],
        context: &EncryptionContext,
        expected_key: Option<&str>,
        trail: &mut Trail,
    ) -> Result<(Zeroizing<Vec<u8>>, KmsKeyRecord), KmsError> {
        self.check_quota(caller)?;
        let identity = Identity::load(self, caller).await?;
        self.open_blob(caller, &identity, blob, context, expected_key, "kms:Decrypt", trail)
            .await
    }

    /// The shared part of Decrypt and ReEncrypt (`action` is kms:Decrypt or kms:ReEncryptFrom).
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per operation, all inputs distinct"
    )]
    pub(crate) async fn open_blob(
        &self,
        caller: &KmsCaller,
        identity: &Identity,
        blob: &[u8],
        context: &EncryptionContext,
        expected_key: Option<&str>,
        action: &str,
        trail: &mut Trail,
    ) -> Result<(Zeroizing<Vec<u8>>, KmsKeyRecord), KmsError> {
        let parsed = ciphertext::parse(blob).map_err(|_| KmsError::InvalidCiphertext)?;
        let blob_key = ids::format_uuid(&parsed.header.key_id);
        let mut extra = crypto_extra(context, true);
        if let Some(expected) = expected_key {
            let found = self.find_key(&caller.account, expected, Scope::Crypto).await?;
            if found.key.key_id != blob_key {
                return Err(KmsError::IncorrectKey);
            }
            if let Some(alias) = found.alias {
                extra.push(("kms:RequestAlias".into(), vec![alias]));
            }
        }
        // A key that never existed cannot be told apart from a modified blob.
        let key = self.key_by_id(&blob_key).await?.ok_or(KmsError::InvalidCiphertext)?;
        trail.resource(&key.arn);
        trail.param("keyId", key.arn.as_str());
        self.authorize(caller, identity, &key, action, &extra)?;
        keys::require_enabled(&key)?;
        let material = self
            .material(&key, parsed.header.material_version)?
            .ok_or(KmsError::InvalidCiphertext)?;
        let plaintext = ciphertext::open(&material.0, &parsed, context).map_err(|_| KmsError::InvalidCiphertext)?;
        Ok((plaintext, key))
    }
}

/// `kms:EncryptionContext:K`, `kms:EncryptionContextKeys` and, for
/// Encrypt/Decrypt/ReEncrypt, `kms:EncryptionAlgorithm`.
pub(crate) fn crypto_extra(context: &EncryptionContext, with_algorithm: bool) -> Extra {
    let mut extra: Extra = context
        .iter()
        .map(|(k, v)| (format!("kms:EncryptionContext:{k}"), vec![v.clone()]))
        .collect();
    if !context.is_empty() {
        extra.push(("kms:EncryptionContextKeys".into(), context.keys().cloned().collect()));
    }
    if with_algorithm {
        extra.push(("kms:EncryptionAlgorithm".into(), vec![SYMMETRIC_DEFAULT.into()]));
    }
    extra
}

/// `len` bytes from the system random number generator, zeroized on drop.
pub(crate) fn random_bytes(len: usize) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    SystemRandom::new()
        .fill(out.as_mut_slice())
        .map_err(|_| KmsError::internal("the system random number generator failed"))?;
    Ok(out)
}
