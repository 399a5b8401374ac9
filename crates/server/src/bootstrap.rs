//! First-start setup of the data dir: directory permissions, the root key,
//! the first account and its root credentials. Every secret file is written
//! 0600 via a temporary file, fsync and rename, so a crash never leaves a
//! half-written key.
use crate::ServerError;
use crate::auth::CREDENTIAL_PURPOSE;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strongbox_crypto::RootKey;
use strongbox_meta::{Account, Credential, MetaStore};
use strongbox_types::AccountId;
use zeroize::Zeroizing;

pub const ROOT_KEY_FILE: &str = "root.key";
pub const CREDENTIALS_FILE: &str = "root-credentials";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn create_private_dir(dir: &Path) -> Result<(), ServerError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

/// Writes `bytes` to `path` with mode 0600, atomically and durably.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(())
}

/// Where the root key comes from.
pub enum RootKeySource {
    /// Base64 of 32 bytes (from the environment).
    Inline(Zeroizing<String>),
    /// A file holding the base64 key (created on first start if absent).
    File(PathBuf),
}

pub fn load_root_key(source: &RootKeySource) -> Result<RootKey, ServerError> {
    let bad = |what: &str| ServerError::Config(format!("root key {what} is not base64 of 32 bytes"));
    match source {
        RootKeySource::Inline(b64) => RootKey::from_base64(b64).map_err(|_| bad("from STRONGBOX_ROOT_KEY")),
        RootKeySource::File(path) if path.exists() => {
            let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
            RootKey::from_base64(&text).map_err(|_| bad(&path.display().to_string()))
        }
        RootKeySource::File(path) => {
            let key = RootKey::generate().map_err(|e| ServerError::Config(e.to_string()))?;
            write_private_file(path, key.to_base64().as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new root key");
            Ok(key)
        }
    }
}

/// The root credentials in effect, and whether they were just generated.
pub struct RootCredentials {
    pub account: AccountId,
    pub access_key: String,
    pub secret_key: Zeroizing<String>,
    /// Set when generated on this start (print once) and saved to this file.
    pub generated_file: Option<PathBuf>,
}

/// Ensures the first account exists and that `given` (or stored, or newly
/// generated) root credentials authenticate as its root user.
pub async fn root_credentials(
    meta: &dyn MetaStore,
    root_key: &RootKey,
    data_dir: &Path,
    given: Option<(String, Zeroizing<String>)>,
) -> Result<RootCredentials, ServerError> {
    let account = first_account(meta).await?;
    let file = data_dir.join(CREDENTIALS_FILE);
    let (access_key, secret_key, generated_file) = match given {
        Some((ak, sk)) => (ak, sk, None),
        None if file.exists() => {
            let (ak, sk) = read_credentials_file(&file)?;
            (ak, sk, None)
        }
        None => {
            let (ak, sk) = generate_credentials()?;
            let text = Zeroizing::new(format!(
                "# Strongbox root credentials (AWS shared-credentials format).\n[strongbox]\naws_access_key_id = {ak}\naws_secret_access_key = {}\n",
                sk.as_str()
            ));
            write_private_file(&file, text.as_bytes())?;
            (ak, sk, Some(file))
        }
    };
    put_root_credential(meta, root_key, &account, &access_key, &secret_key).await?;
    Ok(RootCredentials {
        account,
        access_key,
        secret_key,
        generated_file,
    })
}

async fn first_account(meta: &dyn MetaStore) -> Result<AccountId, ServerError> {
    let accounts = meta
        .list_accounts()
        .await
        .map_err(|e| ServerError::Meta(e.to_string()))?;
    if let Some(first) = accounts.iter().min_by_key(|a| a.created_ms) {
        return Ok(first.id.clone());
    }
    Ok(create_account(meta, "root").await?.id)
}

/// Creates an account with a fresh random 12-digit id and canonical id.
pub async fn create_account(meta: &dyn MetaStore, name: &str) -> Result<Account, ServerError> {
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(ServerError::Config(
            "account name must be 1-64 printable characters".into(),
        ));
    }
    // Ids are random; on the rare collision, draw again.
    for _ in 0..8 {
        let digits: String = random_bytes(12)?.iter().map(|b| char::from(b'0' + b % 10)).collect();
        let id = AccountId::parse(&digits).map_err(|e| ServerError::Config(e.to_string()))?;
        let account = Account {
            id,
            name: name.to_owned(),
            canonical_id: strongbox_types::random_hex(&random_bytes(32)?),
            created_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        };
        if meta
            .create_account(&account)
            .await
            .map_err(|e| ServerError::Meta(e.to_string()))?
        {
            return Ok(account);
        }
    }
    Err(ServerError::Meta("could not draw an unused account id".into()))
}

/// Stores root credentials for `account`, the secret sealed under the root key.
/// An access key id that already belongs to another account is refused.
pub async fn put_root_credential(
    meta: &dyn MetaStore,
    root_key: &RootKey,
    account: &AccountId,
    access_key: &str,
    secret_key: &str,
) -> Result<(), ServerError> {
    validate_credentials(access_key, secret_key)?;
    let existing = meta
        .get_credential(access_key)
        .await
        .map_err(|e| ServerError::Meta(e.to_string()))?;
    if existing.is_some_and(|c| &c.account_id != account) {
        return Err(ServerError::Config(format!(
            "access key {access_key} already belongs to another account"
        )));
    }
    let sealed = strongbox_crypto::seal_secret(root_key, CREDENTIAL_PURPOSE, secret_key.as_bytes())
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let cred = Credential {
        access_key: access_key.to_owned(),
        account_id: account.clone(),
        secret_sealed: sealed,
        is_root: true,
        active: true,
        user_name: None,
    };
    meta.put_credential(&cred)
        .await
        .map_err(|e| ServerError::Meta(e.to_string()))
}

fn random_bytes(n: usize) -> Result<Vec<u8>, ServerError> {
    use ring::rand::SecureRandom;
    let mut b = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| ServerError::Config("random number generator failed".into()))?;
    Ok(b)
}

/// AWS-shaped: `AKIA` + 16 base32 characters, and a 40-character secret.
pub fn generate_credentials() -> Result<(String, Zeroizing<String>), ServerError> {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let pick =
        |alphabet: &[u8], b: &u8| char::from(alphabet.get(usize::from(*b) % alphabet.len()).copied().unwrap_or(b'A'));
    let ak: String = "AKIA"
        .chars()
        .chain(random_bytes(16)?.iter().map(|b| pick(B32, b)))
        .collect();
    let sk: String = random_bytes(40)?.iter().map(|b| pick(SECRET, b)).collect();
    Ok((ak, Zeroizing::new(sk)))
}

fn validate_credentials(ak: &str, sk: &str) -> Result<(), ServerError> {
    if !(3..=128).contains(&ak.len()) || !ak.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ServerError::Config(
            "root access key must be 3-128 letters or digits".into(),
        ));
    }
    if sk.len() < 8 || sk.chars().any(char::is_whitespace) {
        return Err(ServerError::Config(
            "root secret key must be at least 8 characters without spaces".into(),
        ));
    }
    Ok(())
}

fn read_credentials_file(path: &Path) -> Result<(String, Zeroizing<String>), ServerError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    let field = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    match (field("aws_access_key_id"), field("aws_secret_access_key")) {
        (Some(ak), Some(sk)) => Ok((ak, Zeroizing::new(sk))),
        _ => Err(ServerError::Config(format!(
            "{} does not hold root credentials",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_look_like_aws_and_validate() {
        let (ak, sk) = generate_credentials().unwrap();
        assert!(ak.starts_with("AKIA") && ak.len() == 20);
        assert_eq!(sk.len(), 40);
        validate_credentials(&ak, &sk).unwrap();
        assert!(validate_credentials("AK IA", "secretsecret").is_err());
    }

    #[test]
    fn private_files_are_0600_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CREDENTIALS_FILE);
        write_private_file(
            &p,
            b"[strongbox]\naws_access_key_id = AKIAX\naws_secret_access_key = s3cr3t/+key\n",
        )
        .unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        let (ak, sk) = read_credentials_file(&p).unwrap();
        assert_eq!((ak.as_str(), sk.as_str()), ("AKIAX", "s3cr3t/+key"));
    }
}
