//! Root key rotation on a real data directory: everything under the root key
//! opens with the new key afterwards, and an interrupted rotation is finished
//! or rolled back, whichever matches the database, at both crash points.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use std::path::{Path, PathBuf};
use strongbox_crypto::{DataKey, KeyProvider, RootKey, RootKeyProvider, WrappedKey, open_secret, seal_secret};
use strongbox_meta::*;
use strongbox_server::bootstrap::{self, RootKeySource};
use strongbox_server::rotate::{self, Recovery};
use zeroize::Zeroizing;

const SECRET: &str = "root-secret-key-for-tests";
const MD5: [u8; 16] = [7; 16];

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    key_file: PathBuf,
    /// The opaque ETag of the SSE-S3 object's data key: equal ETags, equal keys.
    dek_fingerprint: [u8; 16],
}

impl Fixture {
    fn source(&self) -> RootKeySource {
        RootKeySource::File(self.key_file.clone())
    }

    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.data.join("meta.db")).unwrap()
    }

    fn key(&self) -> RootKey {
        bootstrap::load_root_key(&self.source()).unwrap()
    }
}

/// A data dir as a server leaves it: root credential, one SSE-S3 object, one
/// SSE-KMS object, and a KMS key with one material version.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    bootstrap::create_private_dir(&data).unwrap();
    let key_file = data.join(bootstrap::ROOT_KEY_FILE);
    let root = bootstrap::load_root_key(&RootKeySource::File(key_file.clone())).unwrap();
    let store = SqliteStore::open(&data.join("meta.db")).unwrap();
    let creds = bootstrap::root_credentials(
        &store,
        &root,
        &data,
        Some(("AKROOT".into(), Zeroizing::new(SECRET.into()))),
    )
    .await
    .unwrap();
    let bucket = BucketRecord {
        name: "b".into(),
        owner: creds.account.clone(),
        region: "us-east-1".into(),
        created_ms: 1,
        tags: None,
        policy: None,
        encryption: None,
        versioning: None,
        object_lock: None,
        settings: Default::default(),
        account_public_access_block: None,
    };
    store.create_bucket(&bucket).await.unwrap();
    let dek = DataKey::generate().unwrap();
    let provider = RootKeyProvider::new(root.clone());
    let wrapped = provider.wrap(&dek, &strongbox_engine::wrap_context("b", "k")).unwrap();
    let sse_s3 = EncryptionRecord {
        scheme: SSE_S3_SCHEME.into(),
        kek_id: provider.key_id().into(),
        wrapped_key: wrapped.0,
        ..Default::default()
    };
    store.put_object(&object("k", sse_s3), &Expect::Any).await.unwrap();
    let kms = EncryptionRecord {
        scheme: "aws:kms".into(),
        kek_id: "arn:aws:kms:us-east-1:1:key/x".into(),
        wrapped_key: vec![1, 2, 3],
        ..Default::default()
    };
    store.put_object(&object("kms", kms), &Expect::Any).await.unwrap();
    let material = seal_secret(&root, KMS_MATERIAL_PURPOSE, &[5; 32]).unwrap();
    let record = kms_key(&creds.account, material);
    assert_eq!(store.create_kms_key(&record, None).await.unwrap(), Ok(()));
    Fixture {
        _dir: dir,
        data,
        key_file,
        dek_fingerprint: dek.opaque_etag(&MD5),
    }
}

fn object(key: &str, encryption: EncryptionRecord) -> ObjectRecord {
    ObjectRecord {
        bucket: "b".into(),
        key: key.into(),
        version_id: "null".into(),
        size: 0,
        etag: "e".into(),
        last_modified_ms: 1,
        doc: ObjectDoc {
            v: RECORD_VERSION,
            content: ContentHeaders::default(),
            user_meta: vec![],
            checksum: None,
            tags: vec![],
            encryption,
            segments: vec![],
            upload_id: None,
            sealed_version: None,
            lock: Default::default(),
        },
        delete_marker: false,
    }
}

fn kms_key(account: &strongbox_types::AccountId, sealed: Vec<u8>) -> KmsKeyRecord {
    KmsKeyRecord {
        key_id: "k1".into(),
        account_id: account.clone(),
        arn: format!("arn:aws:kms:us-east-1:{account}:key/k1"),
        created_ms: 1,
        revision: 0,
        doc: KmsKeyDoc {
            v: KMS_KEY_RECORD_VERSION,
            description: String::new(),
            state: KmsKeyState::Enabled,
            deletion_ms: None,
            pending_window_days: None,
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            origin: "AWS_KMS".into(),
            manager: KmsKeyManager::Customer,
            rotation_enabled: false,
            rotation_period_days: 365,
            next_rotation_ms: None,
            policy: "{}".into(),
            tags: vec![],
            materials: vec![KmsKeyMaterial {
                version: 1,
                sealed,
                created_ms: 1,
                rotation: KmsRotationType::Initial,
            }],
        },
    }
}

/// Asserts that everything under the root key opens with `key` and holds the same secrets.
async fn assert_under(f: &Fixture, key: &RootKey) {
    let store = f.store();
    let cred = store.get_credential("AKROOT").await.unwrap().unwrap();
    let secret = open_secret(key, CREDENTIAL_PURPOSE, &cred.secret_sealed).unwrap();
    assert_eq!(secret.as_slice(), SECRET.as_bytes());
    let provider = RootKeyProvider::new(key.clone());
    let o = store.get_object("b", "k").await.unwrap().unwrap();
    assert_eq!(o.doc.encryption.kek_id, provider.key_id());
    let dek = provider
        .unwrap(
            &WrappedKey(o.doc.encryption.wrapped_key),
            &strongbox_engine::wrap_context("b", "k"),
        )
        .unwrap();
    assert_eq!(dek.opaque_etag(&MD5), f.dek_fingerprint, "the same data key");
    let k = store.get_kms_key("k1").await.unwrap().unwrap();
    let material = open_secret(key, KMS_MATERIAL_PURPOSE, &k.doc.materials[0].sealed).unwrap();
    assert_eq!(material.as_slice(), &[5; 32]);
    let kms = store.get_object("b", "kms").await.unwrap().unwrap();
    assert_eq!(
        kms.doc.encryption.wrapped_key,
        vec![1, 2, 3],
        "SSE-KMS records are untouched"
    );
}

fn next(f: &Fixture) -> PathBuf {
    rotate::next_key_path(&f.key_file)
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn rotation_reseals_everything_under_a_new_key() {
    let f = fixture().await;
    let old = f.key();
    let old_text = std::fs::read(&f.key_file).unwrap();
    let rotated = rotate::rotate_root_key(&f.data, &f.source()).await.unwrap();
    assert_eq!(rotated.old_key_id, RootKeyProvider::new(old.clone()).key_id());
    assert_ne!(rotated.old_key_id, rotated.new_key_id);
    assert_eq!(
        rotated.counts,
        ResealCounts {
            credentials: 1,
            objects: 1,
            uploads: 0,
            kms_materials: 1,
            mfa_seeds: 0,
        }
    );
    assert_ne!(std::fs::read(&f.key_file).unwrap(), old_text);
    assert_eq!(mode(&f.key_file), 0o600);
    assert!(!next(&f).exists());
    let new = f.key();
    assert_eq!(RootKeyProvider::new(new.clone()).key_id(), rotated.new_key_id);
    assert_under(&f, &new).await;
    let cred = f.store().get_credential("AKROOT").await.unwrap().unwrap();
    assert!(open_secret(&old, CREDENTIAL_PURPOSE, &cred.secret_sealed).is_err());
    // Twice in a row works too.
    rotate::rotate_root_key(&f.data, &f.source()).await.unwrap();
    assert_under(&f, &f.key()).await;
}

#[tokio::test]
async fn crash_before_the_transaction_rolls_back() {
    let f = fixture().await;
    let old = f.key();
    // Step 1 done, step 2 not: `.next` holds a key the database is not under.
    let staged = RootKey::generate().unwrap();
    bootstrap::write_private_file(&next(&f), staged.to_base64().as_bytes()).unwrap();
    let admin = strongbox_server::admin::Admin::open(&f.data, &f.source()).await;
    assert!(admin.is_ok(), "admin commands recover first");
    assert!(!next(&f).exists(), ".next is deleted");
    assert_eq!(f.key().to_base64(), old.to_base64(), "the key file is untouched");
    assert_under(&f, &old).await;
}

#[tokio::test]
async fn crash_after_the_transaction_finishes_the_rename() {
    let f = fixture().await;
    let old = f.key();
    let new = RootKey::generate().unwrap();
    bootstrap::write_private_file(&next(&f), new.to_base64().as_bytes()).unwrap();
    rotate::reseal(&f.store(), &old, &new).await.unwrap();
    // Step 2 committed, step 3 not: the key file still holds the old key.
    let store = f.store();
    let _lock = rotate::lock_data_dir(&f.data).unwrap();
    assert_eq!(rotate::recover(&f.source(), &store).await.unwrap(), Recovery::Finished);
    assert!(!next(&f).exists());
    assert_eq!(f.key().to_base64(), new.to_base64());
    assert_under(&f, &new).await;
    assert_eq!(rotate::recover(&f.source(), &store).await.unwrap(), Recovery::Nothing);
}

#[tokio::test]
async fn a_torn_next_file_is_rolled_back() {
    let f = fixture().await;
    std::fs::write(next(&f), "not a key").unwrap();
    let store = f.store();
    assert_eq!(
        rotate::recover(&f.source(), &store).await.unwrap(),
        Recovery::RolledBack
    );
    assert!(!next(&f).exists());
}

#[tokio::test]
async fn rotation_refuses_a_data_dir_in_use() {
    let f = fixture().await;
    let before = std::fs::read(&f.key_file).unwrap();
    let lock = rotate::lock_data_dir(&f.data).unwrap();
    let err = rotate::rotate_root_key(&f.data, &f.source()).await.unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    assert_eq!(std::fs::read(&f.key_file).unwrap(), before);
    drop(lock);
    rotate::rotate_root_key(&f.data, &f.source()).await.unwrap();
}

#[tokio::test]
async fn rotation_needs_a_key_file_and_the_right_key() {
    let f = fixture().await;
    let inline = RootKeySource::Inline(Zeroizing::new(f.key().to_base64().to_string()));
    let err = rotate::rotate_root_key(&f.data, &inline).await.unwrap_err();
    assert!(err.to_string().contains("STRONGBOX_ROOT_KEY"), "{err}");

    let wrong = f.data.join("other.key");
    bootstrap::write_private_file(&wrong, RootKey::generate().unwrap().to_base64().as_bytes()).unwrap();
    let err = rotate::rotate_root_key(&f.data, &RootKeySource::File(wrong.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    assert!(!rotate::next_key_path(&wrong).exists());
    assert_under(&f, &f.key()).await;
}
