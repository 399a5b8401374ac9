//! Runs the adapter contract suite against the embedded SQLite store.
use strongbox_meta::{SqliteStore, contract};

#[tokio::test]
async fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
    let store = SqliteStore::open(&dir.path().join("meta.db")).unwrap_or_else(|e| unreachable!("open: {e}"));
    contract::run_all(&store).await;
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
    let path = dir.path().join("meta.db");
    {
        let store = SqliteStore::open(&path).unwrap_or_else(|e| unreachable!("open: {e}"));
        contract::run_all(&store).await;
    }
    let store = SqliteStore::open(&path).unwrap_or_else(|e| unreachable!("reopen: {e}"));
    assert!(
        strongbox_meta::MetaStore::get_object(&store, "b2", "é")
            .await
            .ok()
            .flatten()
            .is_some()
    );
}

#[tokio::test]
async fn a_version_1_database_is_migrated() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
    let path = dir.path().join("meta.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE accounts(id TEXT PRIMARY KEY, name TEXT NOT NULL, canonical_id TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
             CREATE TABLE credentials(access_key TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
               secret_sealed BLOB NOT NULL, is_root INTEGER NOT NULL, active INTEGER NOT NULL);
             CREATE TABLE buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES accounts(id), region TEXT NOT NULL,
               created_ms INTEGER NOT NULL, tags TEXT);
             INSERT INTO accounts VALUES ('999988887777', 'a', 'c', 1);
             INSERT INTO credentials VALUES ('AK', '999988887777', x'00', 1, 1);
             INSERT INTO buckets VALUES ('old', '999988887777', 'us-east-1', 1, NULL);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap_or_else(|e| unreachable!("open: {e}"));
    use strongbox_meta::{IamStore, MetaStore};
    let bucket = store.get_bucket("old").await.unwrap().unwrap();
    assert_eq!(bucket.policy, None);
    assert_eq!(
        store.set_bucket_policy("old", Some("{}"), false).await.unwrap(),
        strongbox_meta::BucketUpdate::Done
    );
    let cred = store.get_credential("AK").await.unwrap().unwrap();
    assert_eq!(cred.user_name, None);
    let root_keys = store.list_credentials("999988887777", None).await.unwrap();
    assert_eq!(root_keys.len(), 1, "the created_ms column was added");
    assert_eq!(root_keys[0].created_ms, 0);
    let user_key = strongbox_meta::Credential {
        access_key: "AKUSER".into(),
        user_name: Some("alice".into()),
        is_root: false,
        ..cred
    };
    store.put_credential(&user_key).await.unwrap();
    assert_eq!(store.get_credential("AKUSER").await.unwrap(), Some(user_key));
}

#[tokio::test]
async fn a_version_4_database_gets_version_stacks() {
    use strongbox_meta::{KeyRange, MetaStore};
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
    let path = dir.path().join("meta.db");
    let doc = r#"{"v":1,"content":{},"user_meta":[],"checksum":null,"tags":[],"encryption":{"scheme":"AES256","kek_id":"r","wrapped_key":[]},"segments":[]}"#;
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE accounts(id TEXT PRIMARY KEY, name TEXT NOT NULL, canonical_id TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
             CREATE TABLE buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES accounts(id), region TEXT NOT NULL,
               created_ms INTEGER NOT NULL, tags TEXT, policy TEXT, encryption TEXT);
             CREATE TABLE objects(bucket TEXT NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL, size INTEGER NOT NULL,
               etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, doc TEXT NOT NULL,
               PRIMARY KEY(bucket, key)) WITHOUT ROWID;
             INSERT INTO accounts VALUES ('999988887777', 'a', 'c', 1);
             INSERT INTO buckets VALUES ('old', '999988887777', 'us-east-1', 1, NULL, NULL, NULL);",
        )
        .unwrap();
        for k in ["a", "b"] {
            c.execute(
                "INSERT INTO objects VALUES ('old', ?1, 'null', 0, 'e', 5, ?2)",
                rusqlite::params![k.as_bytes(), doc],
            )
            .unwrap();
        }
        c.execute_batch("PRAGMA user_version = 4;").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap_or_else(|e| unreachable!("open: {e}"));
    let bucket = store.get_bucket("old").await.unwrap().unwrap();
    assert_eq!(bucket.versioning, None);
    let a = store.get_object("old", "a").await.unwrap().unwrap();
    assert_eq!(
        (a.version_id.as_str(), a.delete_marker, a.last_modified_ms),
        ("null", false, 5)
    );
    let range = KeyRange {
        start: Vec::new(),
        start_inclusive: true,
        end: None,
    };
    let listed: Vec<_> = store.scan_objects("old", &range, 10).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let versions = store.scan_versions("old", &range, None, 10).await.unwrap();
    assert!(
        versions
            .iter()
            .all(|v| v.is_latest && v.version_id == "null" && !v.delete_marker)
    );
    assert_eq!(versions.len(), 2);
}
