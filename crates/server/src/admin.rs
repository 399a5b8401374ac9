//! Offline administration of a data directory (`strongbox admin ...`):
//! accounts and their root credentials. Works beside a running server
//! (SQLite in WAL mode allows it). Root key rotation, which needs the server
//! stopped, is [`crate::rotate`].
use crate::ServerError;
use crate::bootstrap::{self, RootKeySource};
use std::path::Path;
use strongbox_crypto::RootKey;
use strongbox_meta::{Account, IamStore, MetaStore, SqliteStore};
use zeroize::Zeroizing;

pub struct Admin {
    meta: SqliteStore,
    root_key: RootKey,
}

/// A created account and the root credentials that authenticate as it.
pub struct CreatedAccount {
    pub account: Account,
    pub access_key: String,
    pub secret_key: Zeroizing<String>,
}

impl Admin {
    /// Opens an existing data directory (one a server has started on),
    /// first finishing or rolling back an interrupted root key rotation.
    pub async fn open(data_dir: &Path, root_key: &RootKeySource) -> Result<Self, ServerError> {
        let db = data_dir.join("meta.db");
        if !db.exists() {
            return Err(ServerError::Config(format!(
                "{} has no Strongbox data: start `strongbox serve` on it once, or pass --data-dir",
                data_dir.display()
            )));
        }
        if let RootKeySource::File(f) = root_key
            && !f.exists()
        {
            return Err(ServerError::Config(format!(
                "root key file {} does not exist",
                f.display()
            )));
        }
        let meta = SqliteStore::open(&db).map_err(|e| ServerError::Meta(e.to_string()))?;
        crate::rotate::recover_unlocked(data_dir, root_key, &meta).await?;
        let root_key = bootstrap::load_root_key(root_key)?;
        Ok(Self { meta, root_key })
    }

    /// Creates an account; its root credentials are `given` or generated.
    pub async fn create_account(
        &self,
        name: &str,
        given: Option<(String, Zeroizing<String>)>,
    ) -> Result<CreatedAccount, ServerError> {
        let (access_key, secret_key) = match given {
            Some(c) => c,
            None => bootstrap::generate_credentials()?,
        };
        if self
            .meta
            .get_credential(&access_key)
            .await
            .map_err(|e| ServerError::Meta(e.to_string()))?
            .is_some()
        {
            return Err(ServerError::Config(format!(
                "access key {access_key} is already in use"
            )));
        }
        let account = bootstrap::create_account(&self.meta, name).await?;
        bootstrap::put_root_credential(&self.meta, &self.root_key, &account.id, &access_key, &secret_key).await?;
        Ok(CreatedAccount {
            account,
            access_key,
            secret_key,
        })
    }

    /// Starts enabling the account root's virtual MFA device: a new seed
    /// under AWS's root serial (replacing an earlier, never enabled attempt).
    /// Returns the serial and the base32 seed to show the user.
    pub async fn begin_root_mfa(&self, account: &str) -> Result<(String, Zeroizing<String>), ServerError> {
        let meta_err = |e: strongbox_meta::MetaError| ServerError::Meta(e.to_string());
        let Some(acct) = self.meta.get_account(account).await.map_err(meta_err)? else {
            return Err(ServerError::Config(format!("no account {account}")));
        };
        let serial = strongbox_iam::mfa::root_serial(account);
        if let Some(existing) = self.meta.get_mfa_device(&serial).await.map_err(meta_err)? {
            if existing.owner.is_some() {
                return Err(ServerError::Config(format!(
                    "the root of account {account} already has an MFA device ({serial})"
                )));
            }
            let _ = self.meta.delete_mfa_device(&serial).await.map_err(meta_err)?;
        }
        let account_id = acct.id.clone();
        let (device, seed) = strongbox_iam::mfa::new_device(
            &self.root_key,
            &account_id,
            "/",
            "root-account-mfa-device",
            strongbox_identity::now_ms(),
        )
        .map_err(|e| ServerError::Meta(e.to_string()))?;
        self.meta
            .create_mfa_device(&device)
            .await
            .map_err(meta_err)?
            .map_err(|r| ServerError::Config(format!("creating {serial}: {r:?}")))?;
        Ok((serial, Zeroizing::new(strongbox_crypto::base32_encode(&seed))))
    }

    /// Finishes [`Admin::begin_root_mfa`]: two consecutive codes enable the device.
    pub async fn enable_root_mfa(&self, serial: &str, code1: &str, code2: &str) -> Result<(), ServerError> {
        let meta_err = |e: strongbox_meta::MetaError| ServerError::Meta(e.to_string());
        let device = self
            .meta
            .get_mfa_device(serial)
            .await
            .map_err(meta_err)?
            .ok_or_else(|| ServerError::Config(format!("no MFA device {serial}")))?;
        let seed = strongbox_crypto::open_secret(&self.root_key, strongbox_meta::MFA_SEED_PURPOSE, &device.seed_sealed)
            .map_err(|e| ServerError::Meta(format!("opening the seed of {serial}: {e}")))?;
        let now_ms = strongbox_identity::now_ms();
        let now_s = u64::try_from(now_ms / 1000).unwrap_or(0);
        let step = strongbox_iam::mfa::consecutive_codes(&seed, code1.trim(), code2.trim(), now_s)
            .ok_or_else(|| ServerError::Config("the codes are not two consecutive codes of this device".into()))?;
        self.meta
            .enable_mfa_device(
                serial,
                &strongbox_meta::MfaOwner::Root,
                i64::try_from(step).unwrap_or(i64::MAX),
                now_ms,
            )
            .await
            .map_err(meta_err)?
            .map_err(|r| ServerError::Config(format!("enabling {serial}: {r:?}")))?;
        Ok(())
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>, ServerError> {
        let mut accounts = self
            .meta
            .list_accounts()
            .await
            .map_err(|e| ServerError::Meta(e.to_string()))?;
        accounts.sort_by_key(|a| a.created_ms);
        Ok(accounts)
    }
}
