//! Root key rotation (`strongbox admin rotate-root-key`) and the recovery
//! of an interrupted one. Object data is never rewritten: only what is
//! sealed under the root key in the metadata (credential secrets, SSE-S3
//! wrapped data keys, KMS key material) is re-sealed, in one SQLite
//! transaction, see [`strongbox_meta::RootSealedStore`].
//!
//! The durable steps, and what a crash after each leaves:
//! 1. the new key is written to `<key file>.next` (0600, temporary file,
//!    fsync, rename, directory fsync): the database is under the old key;
//! 2. the transaction re-seals everything with the new key and commits: the
//!    database is under the key in `.next`;
//! 3. `.next` is renamed over the key file and the directory fsync'd.
//!
//! [`recover`] runs at every server start and before every admin command:
//! when `.next` exists it opens one credential secret with it. If that works
//! the transaction of step 2 committed, and the rename of step 3 is
//! finished; otherwise `.next` is deleted. Both run only under the data
//! directory lock ([`lock_data_dir`]), so recovery never races a rotation.
use crate::ServerError;
use crate::auth::CREDENTIAL_PURPOSE;
use crate::bootstrap::{self, RootKeySource};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use strongbox_crypto::{KeyProvider, RootKey, RootKeyProvider, WrappedKey, open_secret, seal_secret};
use strongbox_meta::{KMS_MATERIAL_PURPOSE, ResealCounts, Resealer, RootSealed, RootSealedStore, SqliteStore};
use zeroize::Zeroizing;

/// The lock file in the data directory, held by a running server and by a rotation.
pub const LOCK_FILE: &str = ".lock";

/// What a rotation did. Key ids are public fingerprints, never the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub old_key_id: String,
    pub new_key_id: String,
    pub counts: ResealCounts,
}

/// What [`recover`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// No interrupted rotation.
    Nothing,
    /// The database was under the new key: it replaced the key file.
    Finished,
    /// The database was still under the old key: the new key was deleted.
    RolledBack,
}

/// Exclusive use of a data directory (an `flock` on `<data_dir>/.lock`),
/// released when dropped or when the process exits.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the data directory lock, or says who may hold it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, ServerError> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| ServerError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(ServerError::Config(format!(
            "data directory {} is in use (a running server, or a root key rotation): stop the server first",
            data_dir.display()
        ))),
        Err(TryLockError::Error(source)) => Err(ServerError::Io { path, source }),
    }
}

/// Where a rotation stages the new key: `<key file>.next`.
pub fn next_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// Rotates the root key of the (stopped) server on `data_dir`.
pub async fn rotate_root_key(data_dir: &Path, source: &RootKeySource) -> Result<Rotated, ServerError> {
    let RootKeySource::File(key_file) = source else {
        return Err(ServerError::Config(
            "rotate-root-key needs the root key in a file: STRONGBOX_ROOT_KEY is set; unset it and pass \
             --root-key-file (or use <data-dir>/root.key)"
                .into(),
        ));
    };
    let db = data_dir.join("meta.db");
    if !db.exists() || !key_file.exists() {
        return Err(ServerError::Config(format!(
            "{} has no Strongbox data or no root key file {}",
            data_dir.display(),
            key_file.display()
        )));
    }
    let _lock = lock_data_dir(data_dir)?;
    let meta = SqliteStore::open(&db).map_err(meta_err)?;
    recover(source, &meta).await?;
    let old = bootstrap::load_root_key(source)?;
    check_key_opens_store(&meta, &old).await?;
    let new = RootKey::generate().map_err(|e| ServerError::Config(e.to_string()))?;
    let next = next_key_path(key_file);
    bootstrap::write_private_file(&next, new.to_base64().as_bytes())?;
    let old_key_id = key_id(&old);
    let counts = match reseal(&meta, &old, &new).await {
        Ok(counts) => counts,
        Err(e) => {
            // Normally the transaction rolled back; let the store say which key it is under.
            recover(source, &meta).await?;
            return Err(e);
        }
    };
    rename_durably(&next, key_file).map_err(|e| {
        ServerError::Config(format!(
            "the database is now under the new root key in {}, but it could not replace {}: {e}; \
             the next `strongbox serve` or admin command finishes it",
            next.display(),
            key_file.display()
        ))
    })?;
    Ok(Rotated {
        old_key_id,
        new_key_id: key_id(&new),
        counts,
    })
}

/// Re-seals everything under `old` with `new` in one transaction (step 2).
pub async fn reseal(meta: &dyn RootSealedStore, old: &RootKey, new: &RootKey) -> Result<ResealCounts, ServerError> {
    let resealer = RootResealer {
        old: old.clone(),
        new: new.clone(),
        old_wrap: RootKeyProvider::new(old.clone()),
        new_wrap: RootKeyProvider::new(new.clone()),
    };
    meta.reseal_root_sealed(Box::new(resealer)).await.map_err(meta_err)
}

/// Finishes or rolls back an interrupted rotation (module docs). The caller
/// holds the data directory lock.
pub async fn recover(source: &RootKeySource, meta: &dyn RootSealedStore) -> Result<Recovery, ServerError> {
    let RootKeySource::File(key_file) = source else {
        return Ok(Recovery::Nothing);
    };
    let next = next_key_path(key_file);
    if !next.exists() {
        return Ok(Recovery::Nothing);
    }
    let text = Zeroizing::new(fs::read_to_string(&next).map_err(io(&next))?);
    let under_next = match RootKey::from_base64(&text) {
        Ok(key) => store_is_under(meta, &key).await?,
        // Only a complete key file is ever renamed to `.next`; be lenient anyway.
        Err(_) => false,
    };
    if under_next {
        rename_durably(&next, key_file).map_err(io(key_file))?;
        tracing::warn!(path = %key_file.display(), "finished an interrupted root key rotation");
        Ok(Recovery::Finished)
    } else {
        remove_durably(&next)?;
        tracing::warn!(path = %next.display(), "rolled back an interrupted root key rotation");
        Ok(Recovery::RolledBack)
    }
}

/// [`recover`] for a caller that does not hold the lock (admin commands
/// beside a running server): takes it only when there is something to do.
pub async fn recover_unlocked(
    data_dir: &Path,
    source: &RootKeySource,
    meta: &dyn RootSealedStore,
) -> Result<Recovery, ServerError> {
    match source {
        RootKeySource::File(key_file) if next_key_path(key_file).exists() => {
            let _lock = lock_data_dir(data_dir)?;
            recover(source, meta).await
        }
        _ => Ok(Recovery::Nothing),
    }
}

/// Whether the store's secrets open under `key`.
async fn store_is_under(meta: &dyn RootSealedStore, key: &RootKey) -> Result<bool, ServerError> {
    let sample = meta.sample_sealed_secret().await.map_err(meta_err)?;
    Ok(sample.is_some_and(|s| open_secret(key, CREDENTIAL_PURPOSE, &s).is_ok()))
}

async fn check_key_opens_store(meta: &dyn RootSealedStore, key: &RootKey) -> Result<(), ServerError> {
    if meta.sample_sealed_secret().await.map_err(meta_err)?.is_none() {
        return Err(ServerError::Config(
            "the data directory has no credentials yet: start `strongbox serve` on it once".into(),
        ));
    }
    if !store_is_under(meta, key).await? {
        return Err(ServerError::Config(
            "the root key file does not open this data directory's secrets (wrong --root-key-file?)".into(),
        ));
    }
    Ok(())
}

fn key_id(key: &RootKey) -> String {
    RootKeyProvider::new(key.clone()).key_id().to_owned()
}

/// Opens with the old root key, seals with the new one.
struct RootResealer {
    old: RootKey,
    new: RootKey,
    old_wrap: RootKeyProvider,
    new_wrap: RootKeyProvider,
}

impl RootResealer {
    fn secret(&self, purpose: &str, old: &[u8]) -> Result<Vec<u8>, strongbox_crypto::CryptoError> {
        let plain = open_secret(&self.old, purpose, old)?;
        seal_secret(&self.new, purpose, &plain)
    }

    fn data_key(&self, bucket: &str, key: &str, old: &[u8]) -> Result<Vec<u8>, strongbox_crypto::CryptoError> {
        let context = strongbox_engine::wrap_context(bucket, key);
        let dek = self.old_wrap.unwrap(&WrappedKey(old.to_vec()), &context)?;
        Ok(self.new_wrap.wrap(&dek, &context)?.0)
    }
}

impl Resealer for RootResealer {
    fn new_kek_id(&self) -> &str {
        self.new_wrap.key_id()
    }

    fn reseal(&mut self, item: RootSealed<'_>, old: &[u8]) -> Result<Vec<u8>, String> {
        let result = match item {
            RootSealed::CredentialSecret { .. } => self.secret(CREDENTIAL_PURPOSE, old),
            RootSealed::KmsMaterial { .. } => self.secret(KMS_MATERIAL_PURPOSE, old),
            RootSealed::MfaSeed { .. } => self.secret(strongbox_meta::MFA_SEED_PURPOSE, old),
            RootSealed::ObjectDataKey { bucket, key } | RootSealed::UploadDataKey { bucket, key, .. } => {
                self.data_key(bucket, key, old)
            }
        };
        result.map_err(|e| format!("{}: {e}", describe(item)))
    }
}

fn describe(item: RootSealed<'_>) -> String {
    match item {
        RootSealed::CredentialSecret { access_key } => format!("secret of access key {access_key}"),
        RootSealed::ObjectDataKey { bucket, key } => format!("data key of object {bucket}/{key}"),
        RootSealed::UploadDataKey { bucket, key, upload_id } => {
            format!("data key of upload {upload_id} ({bucket}/{key})")
        }
        RootSealed::KmsMaterial { key_id, version } => format!("material {version} of KMS key {key_id}"),
        RootSealed::MfaSeed { serial } => format!("seed of MFA device {serial}"),
    }
}

fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::rename(from, to)?;
    sync_parent(to)
}

fn remove_durably(path: &Path) -> Result<(), ServerError> {
    fs::remove_file(path).map_err(io(path))?;
    sync_parent(path).map_err(io(path))
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn meta_err(e: strongbox_meta::MetaError) -> ServerError {
    ServerError::Meta(e.to_string())
}
