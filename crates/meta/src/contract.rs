//! The behaviour every [`MetaStore`] adapter must have, as one test suite.
//! Each adapter's tests call [`run_all`] on a fresh, empty store.
use crate::*;
use strongbox_types::AccountId;

mod iam;
mod kms;
mod object_lock;
mod settings;

fn acct(id: &str) -> AccountId {
    AccountId::parse(id).unwrap_or_else(|_| unreachable!("test ids are valid"))
}

fn enc() -> EncryptionRecord {
    EncryptionRecord {
        scheme: "AES256".into(),
        kek_id: "root".into(),
        wrapped_key: vec![1, 2, 3],
        ..Default::default()
    }
}

fn object(bucket: &str, key: &str, blob: &str) -> ObjectRecord {
    ObjectRecord {
        bucket: bucket.into(),
        key: key.into(),
        version_id: "null".into(),
        size: 3,
        etag: "abc".into(),
        last_modified_ms: 1,
        doc: ObjectDoc {
            v: RECORD_VERSION,
            content: ContentHeaders {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            user_meta: vec![("k".into(), "v".into())],
            checksum: None,
            tags: vec![],
            encryption: enc(),
            segments: vec![Segment {
                blob_id: blob.into(),
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

fn bucket(name: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        owner: acct("111122223333"),
        region: "us-east-1".into(),
        created_ms: 1,
        tags: None,
        policy: None,
        encryption: None,
        versioning: None,
        object_lock: None,
        settings: Default::default(),
        account_public_access_block: None,
    }
}

/// Runs every contract check against `store`, which must be empty.
pub async fn run_all(store: &dyn MetaStore) {
    accounts_and_credentials(store).await;
    buckets(store).await;
    objects_and_listing(store).await;
    inline_objects(store).await;
    versions(store).await;
    object_lock::run(store).await;
    settings::run(store).await;
    concurrent_writes(store).await;
    multipart(store).await;
    iam::run(store).await;
    kms::run(store).await;
}

async fn accounts_and_credentials(s: &dyn MetaStore) {
    let a = Account {
        id: acct("111122223333"),
        name: "a".into(),
        canonical_id: "c1".into(),
        created_ms: 5,
    };
    assert!(s.create_account(&a).await.is_ok_and(|created| created));
    assert!(
        s.create_account(&a).await.is_ok_and(|created| !created),
        "second create is a no-op"
    );
    assert_eq!(s.get_account("111122223333").await.ok().flatten(), Some(a.clone()));
    assert_eq!(s.list_accounts().await.ok().map(|v| v.len()), Some(1));
    let c = Credential {
        access_key: "AK1".into(),
        account_id: a.id.clone(),
        secret_sealed: vec![9],
        is_root: true,
        active: true,
        user_name: None,
    };
    assert!(s.put_credential(&c).await.is_ok());
    assert_eq!(s.get_credential("AK1").await.ok().flatten(), Some(c));
    assert_eq!(s.get_credential("nope").await.ok().flatten(), None);
}

async fn buckets(s: &dyn MetaStore) {
    let b = BucketRecord {
        name: "b1".into(),
        owner: acct("111122223333"),
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
    assert_eq!(s.create_bucket(&b).await.ok(), Some(CreateBucket::Created));
    assert_eq!(
        s.create_bucket(&b).await.ok(),
        Some(CreateBucket::Exists(acct("111122223333")))
    );
    assert_eq!(s.list_buckets("111122223333").await.ok().map(|v| v.len()), Some(1));
    assert_eq!(s.list_buckets("999999999999").await.ok().map(|v| v.len()), Some(0));
    let tags = vec![Tag {
        key: "t".into(),
        value: "v".into(),
    }];
    assert_eq!(s.set_bucket_tags("b1", Some(&tags)).await.ok(), Some(true));
    assert_eq!(s.get_bucket("b1").await.ok().flatten().and_then(|b| b.tags), Some(tags));
    assert_eq!(s.set_bucket_tags("missing", None).await.ok(), Some(false));
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    assert_eq!(
        s.set_bucket_policy("b1", Some(policy), false).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(
        s.get_bucket("b1")
            .await
            .ok()
            .flatten()
            .and_then(|b| b.policy)
            .as_deref(),
        Some(policy)
    );
    assert_eq!(
        s.set_bucket_policy("b1", None, false).await.ok(),
        Some(BucketUpdate::Done)
    );
    assert_eq!(s.get_bucket("b1").await.ok().flatten().and_then(|b| b.policy), None);
    assert_eq!(
        s.set_bucket_policy("missing", Some(policy), false).await.ok(),
        Some(BucketUpdate::NotFound)
    );
    let encryption = BucketEncryption {
        algorithm: "aws:kms".into(),
        kms_key_id: Some("alias/k".into()),
        bucket_key_enabled: true,
        blocked_types: vec!["SSE-C".into()],
    };
    assert_eq!(s.set_bucket_encryption("b1", Some(&encryption)).await.ok(), Some(true));
    assert_eq!(
        s.get_bucket("b1").await.ok().flatten().and_then(|b| b.encryption),
        Some(encryption)
    );
    assert_eq!(s.set_bucket_encryption("b1", None).await.ok(), Some(true));
    assert_eq!(s.get_bucket("b1").await.ok().flatten().and_then(|b| b.encryption), None);
    assert_eq!(s.set_bucket_encryption("missing", None).await.ok(), Some(false));
    assert!(s.put_object(&object("b1", "k", "blob0"), &Expect::Any).await.is_ok());
    assert_eq!(s.delete_bucket("b1").await.ok(), Some(DeleteBucket::NotEmpty));
    assert!(s.delete_object("b1", "k").await.is_ok());
    assert_eq!(
        s.delete_bucket("b1").await.ok(),
        Some(DeleteBucket::Deleted { released: vec![] })
    );
    assert_eq!(s.delete_bucket("b1").await.ok(), Some(DeleteBucket::NotFound));
}

async fn objects_and_listing(s: &dyn MetaStore) {
    let b = bucket("b2");
    assert!(s.create_bucket(&b).await.is_ok());
    let first = object("b2", "a/1", "blob1");
    assert_eq!(
        s.put_object(&first, &Expect::Absent).await.ok(),
        Some(Written::Done(None))
    );
    assert_eq!(
        s.put_object(&first, &Expect::Absent).await.ok(),
        Some(Written::ConditionFailed),
        "If-None-Match: *"
    );
    assert_eq!(
        s.put_object(&first, &Expect::ETag("other".into())).await.ok(),
        Some(Written::ConditionFailed)
    );
    let replaced = s
        .put_object(&object("b2", "a/1", "blob2"), &Expect::ETag("abc".into()))
        .await
        .ok();
    let Some(Written::Done(replaced)) = replaced else {
        unreachable!("If-Match with the current ETag must write: {replaced:?}")
    };
    assert_eq!(
        replaced.map(|o| o.doc.segments),
        Some(first.doc.segments.clone()),
        "replace returns the old record"
    );
    assert_eq!(
        s.put_object(&object("b2", "nope", "x"), &Expect::ETag("abc".into()))
            .await
            .ok(),
        Some(Written::ConditionFailed)
    );
    for k in ["Z", "b", "é", "a/2", "a0"] {
        assert!(
            s.put_object(&object("b2", k, &format!("blob-{k}")), &Expect::Any)
                .await
                .is_ok()
        );
    }
    let all = s
        .scan_objects(
            "b2",
            &KeyRange {
                start_inclusive: true,
                ..Default::default()
            },
            100,
        )
        .await;
    let keys: Vec<String> = all.unwrap_or_default().into_iter().map(|o| o.key).collect();
    assert_eq!(keys, ["Z", "a/1", "a/2", "a0", "b", "é"], "UTF-8 byte order");
    let range = KeyRange {
        start: b"a/".to_vec(),
        start_inclusive: true,
        end: Some(b"a0".to_vec()),
    };
    let keys: Vec<String> = s
        .scan_objects("b2", &range, 100)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["a/1", "a/2"]);
    let after = KeyRange {
        start: b"a/1".to_vec(),
        start_inclusive: false,
        end: None,
    };
    let keys: Vec<String> = s
        .scan_objects("b2", &after, 2)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["a/2", "a0"], "exclusive start and limit");
    let tags = vec![Tag {
        key: "x".into(),
        value: "y".into(),
    }];
    assert_eq!(s.set_object_tags("b2", "b", None, &tags).await.ok(), Some(true));
    assert_eq!(
        s.get_object("b2", "b").await.ok().flatten().map(|o| o.doc.tags),
        Some(tags)
    );
    assert_eq!(s.set_object_tags("b2", "missing", None, &[]).await.ok(), Some(false));
    let refs = s.referenced_blobs().await.unwrap_or_default();
    assert!(refs.contains("blob2") && !refs.contains("blob1"));
}

fn inline(bucket: &str, key: &str, id: &str, data: &'static [u8]) -> ObjectRecord {
    let mut o = object(bucket, key, id);
    if let Some(seg) = o.doc.segments.first_mut() {
        seg.inline = true;
        seg.data = Some(bytes::Bytes::from_static(data));
    }
    o
}

fn inline_data(o: Option<ObjectRecord>) -> Option<Vec<u8>> {
    o?.doc.segments.first()?.data.as_ref().map(|d| d.to_vec())
}

/// Small objects whose sealed bytes live in the store: written with the
/// record, read back with it, and gone with it.
async fn inline_objects(s: &dyn MetaStore) {
    let b = bucket("inl");
    assert!(s.create_bucket(&b).await.is_ok());
    assert!(
        s.put_object(&inline("inl", "k", "i1", b"one"), &Expect::Any)
            .await
            .is_ok()
    );
    assert_eq!(
        inline_data(s.get_object("inl", "k").await.ok().flatten()),
        Some(b"one".to_vec())
    );
    let tags = vec![Tag {
        key: "t".into(),
        value: "v".into(),
    }];
    assert_eq!(s.set_object_tags("inl", "k", None, &tags).await.ok(), Some(true));
    assert_eq!(
        inline_data(s.get_object("inl", "k").await.ok().flatten()),
        Some(b"one".to_vec()),
        "rewriting the record keeps its bytes"
    );
    let replaced = s.put_object(&inline("inl", "k", "i2", b"two"), &Expect::Any).await;
    let Ok(Written::Done(Some(old))) = replaced else {
        unreachable!("replace returns the old record: {replaced:?}")
    };
    assert_eq!(
        old.blob_ids().count(),
        0,
        "an inline segment has no blob file to release"
    );
    assert_eq!(
        inline_data(s.get_object("inl", "k").await.ok().flatten()),
        Some(b"two".to_vec())
    );
    // The replaced bytes are gone: a record pointing at them again finds nothing.
    let mut stale = inline("inl", "stale", "i1", b"");
    if let Some(seg) = stale.doc.segments.first_mut() {
        seg.data = None;
    }
    assert!(s.put_object(&stale, &Expect::Any).await.is_ok());
    assert!(
        s.get_object("inl", "stale").await.is_err(),
        "bytes of a replaced inline object must be deleted with it"
    );
    assert!(s.delete_object("inl", "stale").await.is_ok());
    assert!(
        s.delete_object("inl", "k")
            .await
            .ok()
            .and_then(Deletion::removed)
            .is_some()
    );
    assert!(s.put_object(&stale, &Expect::Any).await.is_ok());
    let mut again = stale.clone();
    again.key = "k".into();
    if let Some(seg) = again.doc.segments.first_mut() {
        seg.blob_id = "i2".into();
    }
    assert!(s.put_object(&again, &Expect::Any).await.is_ok());
    assert!(
        s.get_object("inl", "k").await.is_err(),
        "bytes of a deleted inline object must be deleted with it"
    );
    for k in ["k", "stale"] {
        assert!(s.delete_object("inl", k).await.is_ok());
    }
}

fn version(key: &str, id: &str, blob: &str) -> ObjectRecord {
    let mut o = object("ver", key, blob);
    o.version_id = id.into();
    o
}

fn marker(key: &str, id: &str) -> ObjectRecord {
    let mut o = object("ver", key, "");
    o.version_id = id.into();
    o.delete_marker = true;
    o.size = 0;
    o.doc.segments.clear();
    o
}

/// (key, version id, latest, marker) of the whole bucket, paged by `page`.
async fn all_versions(s: &dyn MetaStore, page: usize) -> Vec<(String, String, bool, bool)> {
    let range = KeyRange {
        start: Vec::new(),
        start_inclusive: true,
        end: None,
    };
    let mut out = Vec::new();
    let mut after: Option<VersionCursor> = None;
    loop {
        let got = s
            .scan_versions("ver", &range, after.as_ref(), page)
            .await
            .unwrap_or_else(|e| unreachable!("scan_versions: {e}"));
        let Some(last) = got.last() else {
            return out;
        };
        after = Some(VersionCursor {
            key: last.key.clone(),
            version_id: last.version_id.clone(),
        });
        let n = got.len();
        out.extend(
            got.into_iter()
                .map(|v| (v.key, v.version_id, v.is_latest, v.delete_marker)),
        );
        if n < page {
            return out;
        }
    }
}

fn row(key: &str, id: &str, latest: bool, marker: bool) -> (String, String, bool, bool) {
    (key.into(), id.into(), latest, marker)
}

/// Version stacks: new ids stack up, the null version is replaced wherever
/// it is, a marker hides the key, removing the latest uncovers the next.
async fn versions(s: &dyn MetaStore) {
    assert!(s.create_bucket(&bucket("ver")).await.is_ok());
    let put = |o: ObjectRecord| async move { s.put_object(&o, &Expect::Any).await };
    assert!(matches!(put(version("k", "null", "n1")).await, Ok(Written::Done(None))));
    assert!(matches!(put(version("k", "v1", "b1")).await, Ok(Written::Done(None))));
    assert!(matches!(put(version("k", "v2", "b2")).await, Ok(Written::Done(None))));
    assert!(matches!(put(version("j", "v0", "b0")).await, Ok(Written::Done(None))));
    let want = vec![
        row("j", "v0", true, false),
        row("k", "v2", true, false),
        row("k", "v1", false, false),
        row("k", "null", false, false),
    ];
    for page in [1, 2, 3, 100] {
        assert_eq!(all_versions(s, page).await, want, "page size {page}");
    }
    // A null write replaces the old null version (deep in the stack) and goes on top.
    let replaced = put(version("k", "null", "n2")).await;
    let Ok(Written::Done(Some(old))) = replaced else {
        unreachable!("the null version is replaced: {replaced:?}")
    };
    assert_eq!(old.blob_ids().collect::<Vec<_>>(), ["n1"]);
    let top = |r: Result<Option<ObjectRecord>>| r.ok().flatten().map(|o| (o.version_id, o.delete_marker));
    let now = LockCheck::now();
    let gone = |r: Result<Deletion>| top(r.map(Deletion::removed));
    assert_eq!(top(s.get_object("ver", "k").await), Some(("null".into(), false)));
    assert_eq!(
        all_versions(s, 100)
            .await
            .into_iter()
            .filter(|r| r.0 == "k")
            .map(|r| r.1)
            .collect::<Vec<_>>(),
        ["null", "v2", "v1"]
    );
    // A marker on top: no current object, the latest version is the marker.
    assert!(put(marker("k", "m1")).await.is_ok());
    assert_eq!(top(s.get_object("ver", "k").await), None);
    assert_eq!(top(s.get_version("ver", "k", None).await), Some(("m1".into(), true)));
    assert_eq!(
        top(s.get_version("ver", "k", Some("v1")).await),
        Some(("v1".into(), false))
    );
    assert_eq!(top(s.get_version("ver", "k", Some("nope")).await), None);
    let range = KeyRange {
        start: Vec::new(),
        start_inclusive: true,
        end: None,
    };
    let listed = s.scan_objects("ver", &range, 10).await.unwrap_or_default();
    assert_eq!(
        listed.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        ["j"],
        "a marker hides its key"
    );
    // Expect sees the marker as absence.
    assert!(matches!(
        s.put_object(&version("k", "v3", "b3"), &Expect::Absent).await,
        Ok(Written::Done(None))
    ));
    assert!(matches!(
        s.put_object(&version("k", "v4", "b4"), &Expect::Absent).await,
        Ok(Written::ConditionFailed)
    ));
    // Tags of one version only.
    let tags = vec![Tag {
        key: "t".into(),
        value: "1".into(),
    }];
    assert_eq!(s.set_object_tags("ver", "k", Some("v1"), &tags).await.ok(), Some(true));
    assert_eq!(
        s.set_object_tags("ver", "k", Some("m1"), &tags).await.ok(),
        Some(false),
        "a marker has no tags"
    );
    let tags_of = |r: Result<Option<ObjectRecord>>| r.ok().flatten().map(|o| o.doc.tags.len());
    assert_eq!(tags_of(s.get_version("ver", "k", Some("v1")).await), Some(1));
    assert_eq!(tags_of(s.get_version("ver", "k", Some("v2")).await), Some(0));
    // Removing the latest version uncovers the next one; removing the rest empties the key.
    assert_eq!(
        gone(s.delete_version("ver", "k", "v3", &now).await),
        Some(("v3".into(), false))
    );
    assert_eq!(top(s.get_version("ver", "k", None).await), Some(("m1".into(), true)));
    assert_eq!(
        gone(s.delete_version("ver", "k", "m1", &now).await),
        Some(("m1".into(), true))
    );
    assert_eq!(top(s.get_object("ver", "k").await), Some(("null".into(), false)));
    assert_eq!(
        s.delete_version("ver", "k", "m1", &now).await.ok(),
        Some(Deletion::Missing),
        "already gone"
    );
    assert_eq!(
        all_versions(s, 2).await,
        vec![
            row("j", "v0", true, false),
            row("k", "null", true, false),
            row("k", "v2", false, false),
            row("k", "v1", false, false),
        ]
    );
    // A cursor whose version is gone continues after its key.
    let after = VersionCursor {
        key: "j".into(),
        version_id: "gone".into(),
    };
    let rest = s
        .scan_versions("ver", &range, Some(&after), 10)
        .await
        .unwrap_or_default();
    assert_eq!(rest.first().map(|v| v.key.as_str()), Some("k"));
    assert_eq!(
        s.delete_bucket("ver").await.ok(),
        Some(DeleteBucket::NotEmpty),
        "versions keep a bucket"
    );
    for (k, v) in [("k", "null"), ("k", "v2"), ("k", "v1"), ("j", "v0")] {
        assert!(gone(s.delete_version("ver", k, v, &now).await).is_some());
    }
    assert!(all_versions(s, 10).await.is_empty());
    assert!(matches!(s.delete_bucket("ver").await, Ok(DeleteBucket::Deleted { .. })));
}

/// Many writers at once (the group commit path): each sees its own outcome,
/// conditions are checked against the writes committed before it, and a
/// failing write does not undo the others in its batch.
async fn concurrent_writes(s: &dyn MetaStore) {
    let writes = (0..64).map(|i| {
        let o = object("b2", &format!("c/{i:02}"), &format!("cb{i}"));
        async move { s.put_object(&o, &Expect::Absent).await }
    });
    let results = futures::future::join_all(writes).await;
    assert!(
        results.iter().all(|r| matches!(r, Ok(Written::Done(None)))),
        "{results:?}"
    );
    // The same key 16 times under If-None-Match: exactly one wins.
    let racers = (0..16).map(|i| {
        let o = object("b2", "c/race", &format!("race{i}"));
        async move { s.put_object(&o, &Expect::Absent).await }
    });
    let results = futures::future::join_all(racers).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Written::Done(_)))).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Ok(Written::ConditionFailed)))
        .count();
    assert_eq!((won, lost), (1, 15), "{results:?}");
    let deletes = (0..64).map(|i| async move { s.delete_object("b2", &format!("c/{i:02}")).await });
    let results = futures::future::join_all(deletes).await;
    assert!(
        results.iter().all(|r| matches!(r, Ok(Deletion::Removed(_)))),
        "{results:?}"
    );
    assert!(s.delete_object("b2", "c/race").await.is_ok());
}

async fn multipart(s: &dyn MetaStore) {
    let doc = UploadDoc {
        v: RECORD_VERSION,
        content: ContentHeaders::default(),
        user_meta: vec![],
        tags: vec![],
        checksum_algorithm: None,
        checksum_type: None,
        encryption: enc(),
        lock: ObjectLock::default(),
    };
    let up = |id: &str, key: &str, t: i64| UploadRecord {
        upload_id: id.into(),
        bucket: "b2".into(),
        key: key.into(),
        initiated_ms: t,
        owner: acct("111122223333"),
        doc: doc.clone(),
    };
    for (id, key, t) in [("u2", "m", 2), ("u1", "m", 1), ("u3", "n", 3), ("u4", "other", 4)] {
        assert!(s.create_upload(&up(id, key, t)).await.is_ok());
    }
    let ids = |v: Vec<UploadRecord>| v.into_iter().map(|u| u.upload_id).collect::<Vec<_>>();
    assert_eq!(
        s.list_uploads("b2", "", None, 10).await.map(ids).ok(),
        Some(vec!["u1".into(), "u2".into(), "u3".into(), "u4".into()])
    );
    assert_eq!(
        s.list_uploads("b2", "n", None, 10).await.map(ids).ok(),
        Some(vec!["u3".into()])
    );
    assert_eq!(
        s.list_uploads("b2", "", Some(("m", "u1")), 2).await.map(ids).ok(),
        Some(vec!["u2".into(), "u3".into()])
    );
    // Within a key the page continues in initiation order, not id order.
    assert!(s.create_upload(&up("u0", "n", 5)).await.is_ok());
    assert_eq!(
        s.list_uploads("b2", "n", Some(("n", "u3")), 10).await.map(ids).ok(),
        Some(vec!["u0".into()])
    );
    assert_eq!(s.abort_upload("u0").await.ok().flatten().map(|p| p.len()), Some(0));
    let part = |n: u32, blob: &str| PartRecord {
        upload_id: "u1".into(),
        part_number: n,
        blob_id: blob.into(),
        size: 5,
        etag: "e".into(),
        checksum: None,
        last_modified_ms: 1,
    };
    assert_eq!(s.put_part(&part(2, "p2")).await.ok(), Some(None));
    assert_eq!(s.put_part(&part(1, "p1a")).await.ok(), Some(None));
    assert_eq!(
        s.put_part(&part(1, "p1b")).await.ok().flatten().map(|p| p.blob_id),
        Some("p1a".into())
    );
    let nums = s
        .list_parts("u1", 0, 10)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.part_number)
        .collect::<Vec<_>>();
    assert_eq!(nums, [1, 2]);
    assert_eq!(s.list_parts("u1", 1, 10).await.map(|v| v.len()).ok(), Some(1));
    assert!(s.referenced_blobs().await.unwrap_or_default().contains("p2"));
    assert_eq!(
        s.delete_bucket("b2").await.ok(),
        Some(DeleteBucket::NotEmpty),
        "b2 still has objects"
    );
    assert_eq!(
        s.complete_upload("u1", &object("b2", "m", "final"), &Expect::ETag("x".into()))
            .await
            .ok()
            .flatten(),
        Some(Written::ConditionFailed)
    );
    let done = match s
        .complete_upload("u1", &object("b2", "m", "final"), &Expect::Absent)
        .await
        .ok()
        .flatten()
    {
        Some(Written::Done(d)) => Some(d),
        _ => None,
    };
    assert_eq!(done.map(|(old, parts)| (old.is_none(), parts.len())), Some((true, 2)));
    assert!(s.get_upload("u1").await.ok().flatten().is_none());
    assert!(
        s.list_parts("u1", 0, 10).await.unwrap_or_default().is_empty(),
        "parts go with the upload"
    );
    assert!(
        s.complete_upload("u1", &object("b2", "m", "again"), &Expect::Any)
            .await
            .ok()
            .flatten()
            .is_none()
    );
    assert_eq!(s.abort_upload("u2").await.ok().flatten().map(|p| p.len()), Some(0));
    assert!(s.abort_upload("u2").await.ok().flatten().is_none());
    bucket_with_only_uploads(s, &up).await;
}

/// S3 deletes a bucket whose only contents are multipart uploads, and the
/// uploads with it; the parts' blobs come back to be freed.
async fn bucket_with_only_uploads(s: &dyn MetaStore, up: &dyn Fn(&str, &str, i64) -> UploadRecord) {
    assert!(s.create_bucket(&bucket("b9")).await.is_ok());
    for id in ["u9a", "u9b"] {
        let u = UploadRecord {
            bucket: "b9".into(),
            ..up(id, "k", 9)
        };
        assert!(s.create_upload(&u).await.is_ok());
    }
    for (id, blob) in [("u9a", "q1"), ("u9a", "q2"), ("u9b", "q3")] {
        let p = PartRecord {
            upload_id: id.into(),
            part_number: if blob == "q2" { 2 } else { 1 },
            blob_id: blob.into(),
            size: 5,
            etag: "e".into(),
            checksum: None,
            last_modified_ms: 1,
        };
        assert!(s.put_part(&p).await.is_ok());
    }
    let deleted = s.delete_bucket("b9").await.ok();
    let mut released = match deleted.clone() {
        Some(DeleteBucket::Deleted { released }) => released,
        _ => vec![],
    };
    released.sort();
    assert_eq!(released, ["q1", "q2", "q3"], "{deleted:?}");
    assert!(s.get_bucket("b9").await.ok().flatten().is_none());
    assert!(s.get_upload("u9a").await.ok().flatten().is_none());
    assert!(s.list_parts("u9b", 0, 10).await.unwrap_or_default().is_empty());
    assert!(!s.referenced_blobs().await.unwrap_or_default().contains("q1"));
}
