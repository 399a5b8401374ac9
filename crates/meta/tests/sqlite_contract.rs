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
