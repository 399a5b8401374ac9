//! `strongbox admin fsck`'s check on a real data directory (real SQLite,
//! real blob files written by the engine): a clean store is clean; a
//! corrupt header, a truncated blob, a deleted blob, a deleted inline row,
//! stray files and an orphan inline row are each found by kind; `repair`
//! removes only the garbage; a held data directory lock refuses the check.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strongbox_blob::BlobStore;
use strongbox_crypto::{RootKey, RootKeyProvider};
use strongbox_engine::{Engine, PutOptions};
use strongbox_meta::{Account, MetaStore, SqliteStore};
use strongbox_server::fsck::{FsckReport, ProblemKind, fsck};
use strongbox_types::{AccountId, BucketName, ObjectKey};

struct Stored {
    dir: tempfile::TempDir,
    /// Blob ids (files) and inline ids by key.
    blob: Vec<(String, String)>,
    inline: Vec<(String, String)>,
}

impl Stored {
    fn data(&self) -> &Path {
        self.dir.path()
    }

    fn blob_path(&self, i: usize) -> PathBuf {
        BlobStore::at(self.data()).path_of(&self.blob[i].1)
    }

    fn sql(&self, statement: &str) {
        let c = rusqlite::Connection::open(self.data().join("meta.db")).unwrap();
        c.execute_batch(statement).unwrap();
    }
}

fn body(len: usize, seed: u8) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    futures::stream::iter(
        data.chunks(100_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
}

/// Three blob-file objects (300 KiB), two inline ones (1 KiB) and a pending
/// multipart upload with one part, written as a server writes them.
async fn stored() -> Stored {
    let dir = tempfile::tempdir().unwrap();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("meta.db")).unwrap());
    let owner = AccountId::parse("111122223333").unwrap();
    let account = Account {
        id: owner.clone(),
        name: "t".into(),
        canonical_id: "c".into(),
        created_ms: 0,
    };
    meta.create_account(&account).await.unwrap();
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    let keys = Arc::new(RootKeyProvider::new(RootKey::generate().unwrap()));
    let engine = Engine::open(meta, blobs, keys).await.unwrap();
    let bucket = BucketName::parse("bkt").unwrap();
    engine.create_bucket(&owner, &bucket, "us-east-1").await.unwrap();
    let mut s = Stored {
        dir,
        blob: vec![],
        inline: vec![],
    };
    for (i, (name, len)) in [
        ("big0", 300_000),
        ("big1", 300_000),
        ("big2", 300_000),
        ("small0", 1024),
        ("small1", 1024),
    ]
    .into_iter()
    .enumerate()
    {
        let key = ObjectKey::parse(name).unwrap();
        let o = engine
            .put_object("bkt", &key, body(len, i as u8), PutOptions::default(), |_| Ok(()))
            .await
            .unwrap();
        let seg = &o.doc.segments[0];
        let list = if seg.inline { &mut s.inline } else { &mut s.blob };
        list.push((name.to_owned(), seg.blob_id.clone()));
    }
    let up = engine
        .create_upload(
            "bkt",
            &ObjectKey::parse("mp").unwrap(),
            &owner,
            PutOptions::default(),
            None,
        )
        .await
        .unwrap();
    engine
        .upload_part("bkt", "mp", &up.upload_id, 1, body(70_000, 9), &[], |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(
        (s.blob.len(), s.inline.len()),
        (3, 2),
        "sizes chosen for 3 files and 2 inline rows"
    );
    s
}

fn only(report: &FsckReport, expected: &[(ProblemKind, usize)]) {
    for kind in ProblemKind::ALL {
        let want = expected.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
        assert_eq!(report.count(kind), want, "{} in {:#?}", kind.name(), report.problems);
    }
}

#[tokio::test]
async fn a_store_written_by_the_engine_is_clean() {
    let s = stored().await;
    let report = fsck(s.data(), false).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.problems);
    assert_eq!((report.objects, report.parts), (5, 1));
    assert_eq!((report.blob_files, report.inline_rows, report.temp_files), (4, 2, 0));
}

#[tokio::test]
async fn every_kind_of_damage_is_found_and_only_garbage_is_repaired() {
    let s = stored().await;
    // A corrupt header (wrong magic) and a blob cut short by one byte.
    let mut bytes = std::fs::read(s.blob_path(0)).unwrap();
    bytes[0] = b'X';
    std::fs::write(s.blob_path(0), &bytes).unwrap();
    let short = std::fs::read(s.blob_path(1)).unwrap();
    std::fs::write(s.blob_path(1), &short[..short.len() - 1]).unwrap();
    std::fs::remove_file(s.blob_path(2)).unwrap();
    // Garbage: a stray blob file, a temporary file, an orphan inline row.
    let stray = s.data().join("blobs/ab/ab000000000000000000000000000000");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"SBXE stray").unwrap();
    let temp = s.data().join("tmp/cd000000000000000000000000000000.tmp");
    std::fs::write(&temp, b"partial").unwrap();
    s.sql("INSERT INTO object_data(id, data) VALUES ('orphan', x'00')");
    // An inline object whose row is gone, and one whose row is corrupt.
    s.sql(&format!("DELETE FROM object_data WHERE id = '{}'", s.inline[0].1));
    s.sql(&format!(
        "UPDATE object_data SET data = x'53425845' WHERE id = '{}'",
        s.inline[1].1
    ));

    let report = fsck(s.data(), false).await.unwrap();
    only(
        &report,
        &[
            (ProblemKind::CorruptBlob, 2),
            (ProblemKind::MissingBlob, 1),
            (ProblemKind::MissingInline, 1),
            (ProblemKind::CorruptInline, 1),
            (ProblemKind::UnreferencedBlob, 1),
            (ProblemKind::TempFile, 1),
            (ProblemKind::OrphanInline, 1),
        ],
    );
    let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("object bkt/big0") && t.contains("bad header")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("object bkt/big1") && t.contains("bytes, but")),
        "{text:#?}"
    );
    assert!(
        stray.exists() && temp.exists(),
        "a check without --repair changes nothing"
    );

    let repaired = fsck(s.data(), true).await.unwrap();
    assert_eq!(repaired.repaired.len(), 3, "{:#?}", repaired.repaired);
    only(
        &repaired,
        &[
            (ProblemKind::CorruptBlob, 2),
            (ProblemKind::MissingBlob, 1),
            (ProblemKind::MissingInline, 1),
            (ProblemKind::CorruptInline, 1),
        ],
    );
    assert!(!stray.exists() && !temp.exists());
    assert!(
        s.blob_path(0).exists() && s.blob_path(1).exists(),
        "damaged blobs are kept"
    );
    let again = fsck(s.data(), false).await.unwrap();
    assert_eq!(
        again.problems.len(),
        5,
        "records with missing or corrupt bytes stay reported"
    );
}

#[tokio::test]
async fn a_blob_named_by_two_records_or_in_the_wrong_shard_is_reported() {
    let s = stored().await;
    // Point big1's record at big0's blob; move big2's file to another shard.
    s.sql(&format!(
        "UPDATE objects SET doc = replace(doc, '{}', '{}') WHERE key = CAST('big1' AS BLOB)",
        s.blob[1].1, s.blob[0].1
    ));
    let moved = s.data().join("blobs/zz").join(&s.blob[2].1);
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(s.blob_path(2), &moved).unwrap();
    let report = fsck(s.data(), true).await.unwrap();
    only(
        &report,
        &[(ProblemKind::SharedBlob, 1), (ProblemKind::MisplacedBlob, 1)],
    );
    assert_eq!(
        report.repaired_count(ProblemKind::UnreferencedBlob),
        1,
        "big1's old blob"
    );
    assert!(moved.exists(), "a misplaced blob that a record names is never deleted");
}

#[tokio::test]
async fn fsck_refuses_while_the_data_directory_is_locked() {
    let s = stored().await;
    let lock = strongbox_server::rotate::lock_data_dir(s.data()).unwrap();
    let err = fsck(s.data(), false).await.unwrap_err().to_string();
    assert!(err.contains("in use"), "{err}");
    drop(lock);
    assert!(fsck(s.data(), false).await.unwrap().is_clean());
}
