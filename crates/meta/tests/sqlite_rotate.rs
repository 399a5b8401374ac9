//! Root key rotation support of the SQLite store: every item under the root
//! key is re-sealed in one transaction, nothing else changes, and a failing
//! resealer leaves the database as it was.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use std::sync::{Arc, Mutex};
use strongbox_meta::*;
use strongbox_types::AccountId;

const ACCOUNT: &str = "111122223333";
const OLD_KEK: &str = "root-00000000000000aa";
const NEW_KEK: &str = "root-00000000000000bb";

/// Prefixes every item with `new:`; records what it saw; fails on `fail_on`.
struct Prefixer {
    seen: Arc<Mutex<Vec<String>>>,
    fail_on: Option<&'static str>,
}

impl Resealer for Prefixer {
    fn new_kek_id(&self) -> &str {
        NEW_KEK
    }

    fn reseal(&mut self, item: RootSealed<'_>, old: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let name = match item {
            RootSealed::CredentialSecret { access_key } => format!("cred:{access_key}"),
            RootSealed::ObjectDataKey { bucket, key } => format!("object:{bucket}/{key}"),
            RootSealed::UploadDataKey { bucket, key, upload_id } => format!("upload:{bucket}/{key}/{upload_id}"),
            RootSealed::MfaSeed { serial } => format!("mfa:{serial}"),
            RootSealed::KmsMaterial { key_id, version } => format!("kms:{key_id}/{version}"),
        };
        if self.fail_on.is_some_and(|f| name.starts_with(f)) {
            return Err(format!("refused {name}"));
        }
        self.seen.lock().unwrap().push(name);
        Ok([b"new:".as_slice(), old].concat())
    }
}

fn prefixer(fail_on: Option<&'static str>) -> (Box<dyn Resealer>, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let r = Prefixer {
        seen: Arc::clone(&seen),
        fail_on,
    };
    (Box::new(r), seen)
}

fn acct() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

fn encryption(scheme: &str, kek_id: &str) -> EncryptionRecord {
    EncryptionRecord {
        scheme: scheme.into(),
        kek_id: kek_id.into(),
        wrapped_key: vec![1, 2, 3],
        ..Default::default()
    }
}

fn sse_c() -> EncryptionRecord {
    EncryptionRecord {
        customer_key_md5: Some("bWQ1".into()),
        customer_key_hmac: Some(vec![9; 32]),
        customer_key_salt: Some(vec![8; 16]),
        ..encryption("SSE-C", "customer")
    }
}

fn object(bucket: &str, key: &str, encryption: EncryptionRecord) -> ObjectRecord {
    ObjectRecord {
        bucket: bucket.into(),
        key: key.into(),
        version_id: "null".into(),
        size: 3,
        etag: "abc".into(),
        last_modified_ms: 7,
        doc: ObjectDoc {
            v: RECORD_VERSION,
            content: ContentHeaders {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            user_meta: vec![("k".into(), "v".into())],
            checksum: Some(ObjectChecksum {
                algorithm: "CRC32".into(),
                value: "AAAAAA==".into(),
                kind: "FULL_OBJECT".into(),
            }),
            tags: vec![Tag {
                key: "t".into(),
                value: "u".into(),
            }],
            encryption,
            segments: vec![Segment {
                blob_id: format!("blob-{key}"),
                size: 3,
                part_number: 0,
                etag: "abc".into(),
                checksum: None,
                ..Default::default()
            }],
            upload_id: None,
            sealed_version: None,
            lock: Default::default(),
        },
        delete_marker: false,
    }
}

fn upload(id: &str, key: &str, encryption: EncryptionRecord) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        bucket: "b1".into(),
        key: key.into(),
        initiated_ms: 5,
        owner: acct(),
        doc: UploadDoc {
            v: RECORD_VERSION,
            content: ContentHeaders::default(),
            user_meta: vec![],
            tags: vec![],
            checksum_algorithm: Some("CRC32".into()),
            checksum_type: None,
            encryption,
            lock: Default::default(),
        },
    }
}

fn kms_key(id: &str) -> KmsKeyRecord {
    let material = |version: u32| KmsKeyMaterial {
        version,
        sealed: vec![u8::try_from(version).unwrap(); 4],
        created_ms: 3,
        rotation: KmsRotationType::Initial,
    };
    KmsKeyRecord {
        key_id: id.into(),
        account_id: acct(),
        arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"),
        created_ms: 3,
        revision: 0,
        doc: KmsKeyDoc {
            v: KMS_KEY_RECORD_VERSION,
            description: "d".into(),
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
            materials: vec![material(1), material(2)],
        },
    }
}

fn credential(access_key: &str, is_root: bool, sealed: u8) -> Credential {
    Credential {
        access_key: access_key.into(),
        account_id: acct(),
        secret_sealed: vec![sealed; 5],
        is_root,
        active: true,
        user_name: (!is_root).then(|| "alice".into()),
    }
}

/// How many extra SSE-S3 objects: more than one page of the rewrite.
const MANY: usize = 600;

async fn populated(dir: &std::path::Path) -> SqliteStore {
    let s = SqliteStore::open(&dir.join("meta.db")).unwrap();
    let account = Account {
        id: acct(),
        name: "a".into(),
        canonical_id: "c".into(),
        created_ms: 1,
    };
    assert!(s.create_account(&account).await.unwrap());
    s.put_credential(&credential("AKUSER", false, 1)).await.unwrap();
    s.put_credential(&credential("AKROOT", true, 2)).await.unwrap();
    let device = strongbox_meta::MfaDevice {
        account_id: acct(),
        serial: format!("arn:aws:iam::{}:mfa/phone", acct().as_str()),
        name: "phone".into(),
        path: "/".into(),
        seed_sealed: vec![9; 8],
        owner: None,
        enabled_ms: None,
        created_ms: 1,
        last_step: 0,
    };
    s.create_mfa_device(&device).await.unwrap().unwrap();
    for name in ["b1", "b2"] {
        let b = BucketRecord {
            name: name.into(),
            owner: acct(),
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
        assert_eq!(s.create_bucket(&b).await.unwrap(), CreateBucket::Created);
    }
    let put = |o: ObjectRecord| {
        let s = &s;
        async move { s.put_object(&o, &Expect::Any).await.unwrap() }
    };
    put(object("b1", "sse-s3/é", encryption("AES256", OLD_KEK))).await;
    put(object(
        "b1",
        "kms",
        encryption("aws:kms", "arn:aws:kms:us-east-1:111122223333:key/k"),
    ))
    .await;
    put(object("b1", "ssec", sse_c())).await;
    for i in 0..MANY {
        let bucket = if i % 2 == 0 { "b1" } else { "b2" };
        put(object(bucket, &format!("many/{i:04}"), encryption("AES256", OLD_KEK))).await;
    }
    s.create_upload(&upload("u1", "mp", encryption("AES256", OLD_KEK)))
        .await
        .unwrap();
    s.create_upload(&upload("u2", "mp-kms", encryption("aws:kms", "arn:k")))
        .await
        .unwrap();
    assert_eq!(s.create_kms_key(&kms_key("k1"), None).await.unwrap(), Ok(()));
    s
}

/// Every object's JSON document as stored, by (bucket, key).
fn raw_docs(dir: &std::path::Path) -> Vec<(String, Vec<u8>, serde_json::Value)> {
    let c = rusqlite::Connection::open(dir.join("meta.db")).unwrap();
    let mut stmt = c
        .prepare("SELECT bucket, key, doc FROM objects ORDER BY bucket, key")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))
        .unwrap()
        .map(|r| {
            let (b, k, d) = r.unwrap();
            (b, k, serde_json::from_str(&d).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn every_item_under_the_root_key_is_resealed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path()).await;
    let before = raw_docs(dir.path());
    assert_eq!(
        s.sample_sealed_secret().await.unwrap(),
        Some(vec![2; 5]),
        "a root credential first"
    );

    let (r, seen) = prefixer(None);
    let counts = s.reseal_root_sealed(r).await.unwrap();
    assert_eq!(
        counts,
        ResealCounts {
            credentials: 2,
            objects: 1 + MANY as u64,
            uploads: 1,
            kms_materials: 2,
            mfa_seeds: 1,
        }
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().any(|s| s.starts_with("mfa:arn:aws:iam::")));
    assert!(seen.contains(&"object:b1/sse-s3/é".to_owned()));
    assert!(seen.contains(&"upload:b1/mp/u1".to_owned()));
    assert!(seen.contains(&"kms:k1/2".to_owned()));
    assert_eq!(seen.len(), 2 + 1 + MANY + 1 + 2 + 1, "each item exactly once");
    let serial = format!("arn:aws:iam::{}:mfa/phone", acct().as_str());
    let sealed = s.get_mfa_device(&serial).await.unwrap().unwrap().seed_sealed;
    assert_eq!(sealed, [b"new:".as_slice(), &[9; 8]].concat());

    let new = |old: &[u8]| [b"new:".as_slice(), old].concat();
    assert_eq!(
        s.get_credential("AKROOT").await.unwrap().unwrap().secret_sealed,
        new(&[2; 5])
    );
    assert_eq!(
        s.get_credential("AKUSER").await.unwrap().unwrap().secret_sealed,
        new(&[1; 5])
    );
    let o = s.get_object("b1", "sse-s3/é").await.unwrap().unwrap();
    assert_eq!(
        (o.doc.encryption.kek_id.as_str(), o.doc.encryption.wrapped_key.clone()),
        (NEW_KEK, new(&[1, 2, 3]))
    );
    let u = s.get_upload("u1").await.unwrap().unwrap();
    assert_eq!(
        (u.doc.encryption.kek_id.as_str(), u.doc.encryption.wrapped_key),
        (NEW_KEK, new(&[1, 2, 3]))
    );
    let u2 = s.get_upload("u2").await.unwrap().unwrap();
    assert_eq!(
        u2.doc.encryption,
        encryption("aws:kms", "arn:k"),
        "SSE-KMS uploads are not under the root key"
    );
    let k = s.get_kms_key("k1").await.unwrap().unwrap();
    assert_eq!(k.revision, 1, "a rewritten key's revision moves on");
    let sealed: Vec<_> = k.doc.materials.iter().map(|m| m.sealed.clone()).collect();
    assert_eq!(sealed, vec![new(&[1; 4]), new(&[2; 4])]);
    assert_eq!(
        k.doc,
        KmsKeyDoc {
            materials: k.doc.materials.clone(),
            ..kms_key("k1").doc
        }
    );

    // Documents differ only in the SSE-S3 encryption fields.
    let after = raw_docs(dir.path());
    assert_eq!(before.len(), after.len());
    for ((b, key, mut old), (_, _, mut new_doc)) in before.into_iter().zip(after) {
        let old_scheme = old["encryption"]["scheme"].clone();
        if old_scheme == "AES256" {
            for field in ["kek_id", "wrapped_key"] {
                old["encryption"][field] = serde_json::Value::Null;
                new_doc["encryption"][field] = serde_json::Value::Null;
            }
        }
        assert_eq!(old, new_doc, "{b}/{}", String::from_utf8_lossy(&key));
    }
}

#[tokio::test]
async fn a_failing_resealer_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(dir.path()).await;
    let before = raw_docs(dir.path());
    // KMS keys are re-sealed last: everything before was already rewritten in the transaction.
    let (r, _) = prefixer(Some("kms:"));
    let err = s.reseal_root_sealed(r).await.unwrap_err();
    assert!(matches!(&err, MetaError::Reseal(m) if m.contains("kms:k1/1")), "{err}");
    assert_eq!(raw_docs(dir.path()), before);
    assert_eq!(
        s.get_credential("AKROOT").await.unwrap().unwrap().secret_sealed,
        vec![2; 5]
    );
    let k = s.get_kms_key("k1").await.unwrap().unwrap();
    assert_eq!((k.revision, k.doc.materials[0].sealed.clone()), (0, vec![1; 4]));
    let u = s.get_upload("u1").await.unwrap().unwrap();
    assert_eq!(u.doc.encryption.kek_id, OLD_KEK);
    // The store is still usable and a later rewrite succeeds.
    let (r, _) = prefixer(None);
    assert_eq!(s.reseal_root_sealed(r).await.unwrap().credentials, 2);
}

#[tokio::test]
async fn an_empty_store_has_nothing_to_reseal() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("meta.db")).unwrap();
    assert_eq!(s.sample_sealed_secret().await.unwrap(), None);
    let (r, seen) = prefixer(None);
    assert_eq!(s.reseal_root_sealed(r).await.unwrap(), ResealCounts::default());
    assert!(seen.lock().unwrap().is_empty());
}
