//! Offline administration of a data directory (`strongbox admin ...`):
//! accounts and their root credentials. Works beside a running server
//! (SQLite in WAL mode allows it). Root key rotation, which needs the server
//! stopped, is [`crate::rotate`].
use crate::ServerError;
use crate::bootstrap::{self, RootKeySource};
use std::path::Path;
use strongbox_crypto::RootKey;
use strongbox_meta::{Account, MetaStore, SqliteStore};
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
