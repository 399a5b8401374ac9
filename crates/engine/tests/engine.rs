//! The engine against real SQLite, real files and the real key provider.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use strongbox_blob::BlobStore;
use strongbox_crypto::{RootKey, RootKeyProvider};
use strongbox_engine::{CompletePart, Engine, EngineError, Expect, ListQuery, PutOptions};
use strongbox_meta::{Account, MetaStore, SqliteStore};
use strongbox_types::{AccountId, BucketName, ObjectKey};

struct Rig {
    engine: Engine,
    dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("meta.db")).unwrap());
    let owner = AccountId::parse("111122223333").unwrap();
    meta.create_account(&Account {
        id: owner.clone(),
        name: "t".into(),
        canonical_id: "c".into(),
        created_ms: 0,
    })
    .await
    .unwrap();
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    let keys = Arc::new(RootKeyProvider::new(RootKey::generate().unwrap()));
    let engine = Engine::open(meta, blobs, keys).await.unwrap();
    engine
        .create_bucket(&owner, &BucketName::parse("bkt").unwrap(), "us-east-1")
        .await
        .unwrap();
    Rig { engine, dir }
}

fn body(data: &[u8], piece: usize) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(piece.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

async fn put(e: &Engine, key: &str, d: &[u8]) -> strongbox_meta::ObjectRecord {
    e.put_object(
        "bkt",
        &ObjectKey::parse(key).unwrap(),
        body(d, 7000),
        PutOptions::default(),
        |_| Ok(()),
    )
    .await
    .unwrap()
}

async fn start_upload(e: &Engine, key: &ObjectKey) -> strongbox_meta::UploadRecord {
    let owner = AccountId::parse("111122223333").unwrap();
    e.create_upload("bkt", key, &owner, PutOptions::default(), None)
        .await
        .unwrap()
}

async fn read(e: &Engine, key: &str, r: std::ops::Range<u64>) -> Result<Vec<u8>, std::io::Error> {
    let o = e.object("bkt", key).await.unwrap();
    let mut s = e.read(&o, r).unwrap();
    let mut out = vec![];
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b?);
    }
    Ok(out)
}

#[tokio::test]
async fn ranges_round_trip_across_chunk_boundaries() {
    let r = rig().await;
    let d = data(200_000);
    let o = put(&r.engine, "k", &d).await;
    assert_eq!(o.etag, hex::encode(strongbox_engine::checksum::md5_of(&d)));
    for (a, b) in [
        (0, 200_000),
        (0, 1),
        (65_535, 65_537),
        (131_000, 199_999),
        (199_999, 200_000),
        (70_000, 70_001),
    ] {
        assert_eq!(
            read(&r.engine, "k", a..b).await.unwrap(),
            &d[a as usize..b as usize],
            "{a}..{b}"
        );
    }
    let empty = put(&r.engine, "empty", b"").await;
    assert_eq!(empty.size, 0);
    assert_eq!(read(&r.engine, "empty", 0..0).await.unwrap(), b"");
}

#[tokio::test]
async fn a_rejected_upload_leaves_the_old_object_and_no_file() {
    let r = rig().await;
    put(&r.engine, "k", b"old").await;
    let files_before = count_files(r.dir.path());
    let res = r
        .engine
        .put_object(
            "bkt",
            &ObjectKey::parse("k").unwrap(),
            body(&data(100_000), 4096),
            PutOptions::default(),
            |_| Err(EngineError::BadDigest("no".into())),
        )
        .await;
    assert!(matches!(res, Err(EngineError::BadDigest(_))));
    assert_eq!(read(&r.engine, "k", 0..3).await.unwrap(), b"old");
    assert_eq!(count_files(r.dir.path()), files_before, "the staged blob is gone");
}

#[tokio::test]
async fn a_failing_body_stream_commits_nothing() {
    let r = rig().await;
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(std::io::Error::other("connection reset")),
    ]);
    let res = r
        .engine
        .put_object(
            "bkt",
            &ObjectKey::parse("k").unwrap(),
            broken,
            PutOptions::default(),
            |_| Ok(()),
        )
        .await;
    assert!(matches!(res, Err(EngineError::Body(_))));
    assert!(matches!(r.engine.object("bkt", "k").await, Err(EngineError::NoSuchKey)));
}

#[tokio::test]
async fn tampered_ciphertext_fails_the_read_instead_of_returning_wrong_bytes() {
    let r = rig().await;
    let o = put(&r.engine, "k", &data(150_000)).await;
    let blob = &o.doc.segments[0].blob_id;
    let path = r.dir.path().join("blobs").join(&blob[..2]).join(blob);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100_000] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    assert!(
        read(&r.engine, "k", 0..1000).await.is_ok(),
        "untouched chunk still reads"
    );
    assert!(read(&r.engine, "k", 0..150_000).await.is_err());
}

#[tokio::test]
async fn plaintext_never_reaches_disk() {
    let r = rig().await;
    let marker = b"STRONGBOX-PLAINTEXT-MARKER-0123456789";
    let mut d = data(100_000);
    d.extend_from_slice(marker);
    put(&r.engine, "secret", &d).await;
    for entry in walk(r.dir.path()) {
        let content = std::fs::read(&entry).unwrap();
        assert!(
            !content.windows(marker.len()).any(|w| w == marker),
            "marker found in {}",
            entry.display()
        );
    }
}

#[tokio::test]
async fn multipart_assembles_parts_in_order_with_aws_etag() {
    let r = rig().await;
    let key = ObjectKey::parse("mp").unwrap();
    let up = start_upload(&r.engine, &key).await;
    let p1 = data(5 * 1024 * 1024 + 3);
    let p2 = b"tail".to_vec();
    let mut etags = vec![];
    for (n, p) in [(1, &p1), (2, &p2)] {
        let part = r
            .engine
            .upload_part("bkt", "mp", &up.upload_id, n, body(p, 65_536), &[], |_| Ok(()))
            .await
            .unwrap();
        etags.push(part.etag);
    }
    let small_first = [CompletePart {
        part_number: 2,
        etag: etags[1].clone(),
        checksum: None,
    }];
    let parts = vec![
        CompletePart {
            part_number: 1,
            etag: format!("\"{}\"", etags[0]),
            checksum: None,
        },
        CompletePart {
            part_number: 2,
            etag: etags[1].clone(),
            checksum: None,
        },
    ];
    let reversed: Vec<CompletePart> = parts.iter().rev().cloned().collect();
    assert!(matches!(
        r.engine
            .complete_upload("bkt", "mp", &up.upload_id, &reversed, &Expect::Any)
            .await,
        Err(EngineError::InvalidPartOrder)
    ));
    let wrong = [CompletePart {
        part_number: 1,
        etag: "deadbeef".into(),
        checksum: None,
    }];
    assert!(matches!(
        r.engine
            .complete_upload("bkt", "mp", &up.upload_id, &wrong, &Expect::Any)
            .await,
        Err(EngineError::InvalidPart)
    ));
    let o = r
        .engine
        .complete_upload("bkt", "mp", &up.upload_id, &parts, &Expect::Any)
        .await
        .unwrap();
    let mut md5s = hex::decode(&etags[0]).unwrap();
    md5s.extend(hex::decode(&etags[1]).unwrap());
    assert_eq!(
        o.etag,
        format!("{}-2", hex::encode(strongbox_engine::checksum::md5_of(&md5s)))
    );
    let whole = read(&r.engine, "mp", 0..o.size).await.unwrap();
    assert_eq!(whole, [p1.clone(), p2].concat());
    let span = (5 * 1024 * 1024 - 10) as u64..(5 * 1024 * 1024 + 5) as u64;
    assert_eq!(
        read(&r.engine, "mp", span.clone()).await.unwrap(),
        whole[span.start as usize..span.end as usize]
    );
    assert!(matches!(
        r.engine
            .complete_upload("bkt", "mp", &up.upload_id, &small_first, &Expect::Any)
            .await,
        Err(EngineError::NoSuchUpload)
    ));
}

#[tokio::test]
async fn parts_below_five_mib_are_refused_except_the_last() {
    let r = rig().await;
    let key = ObjectKey::parse("small").unwrap();
    let up = start_upload(&r.engine, &key).await;
    let mut parts = vec![];
    for n in 1..=2 {
        let p = r
            .engine
            .upload_part("bkt", "small", &up.upload_id, n, body(b"tiny", 4), &[], |_| Ok(()))
            .await
            .unwrap();
        parts.push(CompletePart {
            part_number: n as u32,
            etag: p.etag,
            checksum: None,
        });
    }
    assert!(matches!(
        r.engine
            .complete_upload("bkt", "small", &up.upload_id, &parts, &Expect::Any)
            .await,
        Err(EngineError::EntityTooSmall)
    ));
    r.engine.abort_upload("bkt", "small", &up.upload_id).await.unwrap();
    assert!(matches!(
        r.engine.abort_upload("bkt", "small", &up.upload_id).await,
        Err(EngineError::NoSuchUpload)
    ));
}

/// Listing with prefix, delimiter and pagination agrees with a naive model
/// written from the S3 documentation.
#[tokio::test]
async fn listing_matches_a_naive_model() {
    let r = rig().await;
    let keys = [
        "a", "a/b", "a/b/c", "a/c", "a0", "b", "b/x/y", "b/x/z", "c/", "c//d", "é", "Z", "a/b/d",
    ];
    for k in keys {
        put(&r.engine, k, b"x").await;
    }
    for prefix in ["", "a", "a/", "b/x", "c/", "zzz"] {
        for delimiter in [None, Some("/"), Some("b")] {
            for max in [1, 2, 3, 1000] {
                let expected = model(&keys, prefix, delimiter);
                let mut got = vec![];
                let mut after = None;
                for _ in 0..100 {
                    let q = ListQuery {
                        prefix: prefix.into(),
                        delimiter: delimiter.map(Into::into),
                        after: after.clone(),
                        max_keys: max,
                    };
                    let page = r.engine.list_objects("bkt", &q).await.unwrap();
                    got.extend(page.objects.iter().map(|o| o.key.clone()));
                    got.extend(page.common_prefixes.iter().cloned());
                    if !page.is_truncated {
                        break;
                    }
                    after = page.last.clone();
                }
                got.sort();
                assert_eq!(got, expected, "prefix={prefix:?} delimiter={delimiter:?} max={max}");
            }
        }
    }
}

fn model(keys: &[&str], prefix: &str, delimiter: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for k in keys.iter().filter(|k| k.starts_with(prefix)) {
        let rest = &k[prefix.len()..];
        let item = match delimiter.and_then(|d| rest.find(d).map(|i| (i, d))) {
            Some((i, d)) => format!("{prefix}{}", &rest[..i + d.len()]),
            None => (*k).to_owned(),
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out.sort();
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn count_files(dir: &std::path::Path) -> usize {
    walk(dir)
        .iter()
        .filter(|p| !p.to_string_lossy().contains("meta.db"))
        .count()
}
