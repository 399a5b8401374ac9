//! Versioning against a model: random sequences of PUT, DELETE, version
//! DELETE and versioning changes on a real engine (SQLite, files, keys),
//! each step checked against a plain in-memory model of the version stacks,
//! and ListObjectVersions read back in small pages.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use strongbox_blob::BlobStore;
use strongbox_crypto::{RootKey, RootKeyProvider};
use strongbox_engine::{Engine, EngineError, ListQuery, NULL_VERSION, PutOptions, VersionsQuery};
use strongbox_meta::{Account, BucketVersioning, MetaStore, SqliteStore};
use strongbox_types::{AccountId, BucketName, ObjectKey};

const KEYS: [&str; 5] = ["a", "b", "d/x", "d/y", "e"];

#[derive(Debug, Clone)]
enum Op {
    Put(usize, u8),
    Delete(usize),
    /// Deletes the n-th version (mod the stack's height) of a key.
    DeleteVersion(usize, usize),
    Versioning(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS.len(), any::<u8>()).prop_map(|(k, b)| Op::Put(k, b)),
        2 => (0..KEYS.len()).prop_map(Op::Delete),
        2 => (0..KEYS.len(), 0..4usize).prop_map(|(k, n)| Op::DeleteVersion(k, n)),
        1 => any::<bool>().prop_map(Op::Versioning),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Version {
    id: String,
    marker: bool,
    data: Vec<u8>,
}

#[derive(Default)]
struct Model {
    /// None: never versioned; Some(enabled).
    state: Option<bool>,
    stacks: BTreeMap<String, Vec<Version>>,
}

impl Model {
    fn drop_null(&mut self, key: &str) {
        if let Some(s) = self.stacks.get_mut(key) {
            s.retain(|v| v.id != NULL_VERSION);
        }
    }

    fn push(&mut self, key: &str, v: Version) {
        self.stacks.entry(key.to_owned()).or_default().insert(0, v);
    }

    /// (key, version id, is latest, marker) in ListObjectVersions order.
    fn listing(&self) -> Vec<(String, String, bool, bool)> {
        let mut out = Vec::new();
        for (k, s) in &self.stacks {
            for (i, v) in s.iter().enumerate() {
                out.push((k.clone(), v.id.clone(), i == 0, v.marker));
            }
        }
        out
    }
}

async fn engine(dir: &std::path::Path) -> Engine {
    let meta = Arc::new(SqliteStore::open(&dir.join("meta.db")).unwrap());
    let owner = AccountId::parse("111122223333").unwrap();
    meta.create_account(&Account {
        id: owner.clone(),
        name: "t".into(),
        canonical_id: "c".into(),
        created_ms: 0,
    })
    .await
    .unwrap();
    let blobs = BlobStore::open(dir).await.unwrap();
    let keys = Arc::new(RootKeyProvider::new(RootKey::generate().unwrap()));
    let e = Engine::open(meta, blobs, keys).await.unwrap();
    e.create_bucket(&owner, &BucketName::parse("bkt").unwrap(), "us-east-1")
        .await
        .unwrap();
    e
}

async fn read_current(e: &Engine, key: &str) -> Result<Vec<u8>, EngineError> {
    let o = e.object("bkt", key).await?;
    let mut s = e.read(&o, 0..o.size)?;
    let mut out = vec![];
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b.unwrap());
    }
    Ok(out)
}

async fn apply(e: &Engine, m: &mut Model, op: &Op) {
    match op {
        Op::Put(k, b) => {
            let key = KEYS[*k];
            let data = vec![*b; 1 + usize::from(*b) % 7];
            let rec = e
                .put_object(
                    "bkt",
                    &ObjectKey::parse(key).unwrap(),
                    futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(data.clone()))]),
                    PutOptions::default(),
                    |_| Ok(()),
                )
                .await
                .unwrap();
            let enabled = m.state == Some(true);
            assert_eq!(rec.version_id == NULL_VERSION, !enabled, "version id of a PUT");
            if !enabled {
                m.drop_null(key);
            }
            m.push(
                key,
                Version {
                    id: rec.version_id,
                    marker: false,
                    data,
                },
            );
        }
        Op::Delete(k) => {
            let key = KEYS[*k];
            let done = e.delete("bkt", key, None, false).await.unwrap();
            match m.state {
                None => {
                    assert_eq!(done.version_id, None);
                    m.drop_null(key);
                }
                Some(enabled) => {
                    assert!(done.delete_marker);
                    let id = done.version_id.unwrap();
                    assert_eq!(id == NULL_VERSION, !enabled);
                    if !enabled {
                        m.drop_null(key);
                    }
                    m.push(
                        key,
                        Version {
                            id,
                            marker: true,
                            data: vec![],
                        },
                    );
                }
            }
        }
        Op::DeleteVersion(k, n) => {
            let key = KEYS[*k];
            let stack = m.stacks.get(key).cloned().unwrap_or_default();
            let id = if stack.is_empty() {
                // A well-formed id that names nothing: deleting it succeeds.
                "0123456789abcdef0123456789abcdef".to_owned()
            } else {
                stack[n % stack.len()].id.clone()
            };
            let done = e.delete("bkt", key, Some(&id), false).await.unwrap();
            let marker = stack.iter().find(|v| v.id == id).is_some_and(|v| v.marker);
            assert_eq!(done.delete_marker, marker);
            if let Some(s) = m.stacks.get_mut(key) {
                s.retain(|v| v.id != id);
            }
        }
        Op::Versioning(enabled) => {
            e.set_versioning(
                "bkt",
                BucketVersioning {
                    enabled: *enabled,
                    mfa_delete: false,
                },
            )
            .await
            .unwrap();
            m.state = Some(*enabled);
        }
    }
    m.stacks.retain(|_, s| !s.is_empty());
}

async fn check(e: &Engine, m: &Model, page: usize) {
    for key in KEYS {
        let top = m.stacks.get(key).and_then(|s| s.first());
        match (top, read_current(e, key).await) {
            (Some(v), Ok(data)) if !v.marker => assert_eq!(data, v.data, "current data of {key}"),
            (None, Err(EngineError::NoSuchKey)) => {}
            (Some(v), Err(EngineError::NoSuchKey)) if v.marker => match e.object_version("bkt", key, None).await {
                Err(EngineError::DeleteMarker {
                    version_id,
                    by_version: false,
                }) => assert_eq!(version_id, v.id),
                other => panic!("latest of {key} should be marker {}: {other:?}", v.id),
            },
            (top, got) => panic!("{key}: model {top:?}, engine {got:?}"),
        }
        // Every version reads back by id.
        for v in m.stacks.get(key).into_iter().flatten() {
            match e.object_version("bkt", key, Some(&v.id)).await {
                Ok(o) => assert!(!v.marker && o.version_id == v.id),
                Err(EngineError::DeleteMarker { by_version: true, .. }) => assert!(v.marker),
                Err(err) => panic!("{key} version {}: {err:?}", v.id),
            }
        }
    }
    // ListObjectVersions, page by page.
    let mut got = Vec::new();
    let mut q = VersionsQuery {
        max_keys: page,
        ..Default::default()
    };
    for _ in 0..1000 {
        let p = e.list_versions("bkt", &q).await.unwrap();
        assert!(p.versions.len() <= page);
        got.extend(
            p.versions
                .iter()
                .map(|v| (v.key.clone(), v.version_id.clone(), v.is_latest, v.delete_marker)),
        );
        if !p.is_truncated {
            break;
        }
        q.key_marker = p.next_key;
        q.version_id_marker = p.next_version;
    }
    assert_eq!(got, m.listing(), "ListObjectVersions");
    // With a delimiter, d/ rolls up into one common prefix.
    let rolled = e
        .list_versions(
            "bkt",
            &VersionsQuery {
                delimiter: Some("/".into()),
                max_keys: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let has_d = m.stacks.keys().any(|k| k.starts_with("d/"));
    assert_eq!(
        rolled.common_prefixes,
        if has_d { vec!["d/".to_owned()] } else { vec![] }
    );
    assert!(rolled.versions.iter().all(|v| !v.key.starts_with("d/")));
    // ListObjects shows exactly the keys whose latest version is not a marker.
    let live: Vec<String> = m
        .stacks
        .iter()
        .filter(|(_, s)| s.first().is_some_and(|v| !v.marker))
        .map(|(k, _)| k.clone())
        .collect();
    let listed = e
        .list_objects(
            "bkt",
            &ListQuery {
                max_keys: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.objects.iter().map(|o| o.key.clone()).collect::<Vec<_>>(), live);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn versioning_matches_the_model(ops in proptest::collection::vec(op(), 1..40), page in 1..5usize) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let e = engine(dir.path()).await;
            let mut m = Model::default();
            for op in &ops {
                apply(&e, &mut m, op).await;
                check(&e, &m, page).await;
            }
            // Removing every version leaves nothing: no orphan in the listing.
            for (key, stack) in m.stacks.clone() {
                for v in stack {
                    e.delete("bkt", &key, Some(&v.id), false).await.unwrap();
                }
            }
            m.stacks.clear();
            check(&e, &m, page).await;
            assert!(e.delete_bucket("bkt").await.is_ok(), "an emptied bucket deletes");
        });
    }
}
