//! Object metadata latency of the SQLite store, through the async
//! [`MetaStore`] API the engine calls (so a `spawn_blocking` hop is included):
//! - `put_object`: inserting a new key (one durable commit, fsync included),
//!   alone and 16 at a time;
//! - `get_object`: looking up a random existing key;
//! - `list_page_1000`: one `scan_objects` page of 1,000 keys from a random
//!   start, the call `Engine::list_objects` makes per batch.
//!
//! The data set, `STRONGBOX_BENCH_KEYS` keys (default 100000) in one bucket,
//! is built once per run in a temporary directory, inserted 256 at a time.
//! Every insert commits durably, so how long that takes depends on whether
//! concurrent commits share an fsync; it is printed. Writes go to a second
//! bucket so the listed one stays fixed.
//!
//! Run: `cargo bench --ignore-rust-version -p strongbox-meta --bench objects`
//! (`STRONGBOX_BENCH_KEYS=10000 ... -- --sample-count 20` for a quick run).
#![expect(clippy::unwrap_used, reason = "benchmark setup: any failure aborts the run")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use divan::Bencher;
use divan::counter::ItemsCount;
use strongbox_meta::{
    Account, BucketRecord, ContentHeaders, EncryptionRecord, Expect, KeyRange, MetaStore, ObjectDoc, ObjectRecord,
    RECORD_VERSION, Segment, SqliteStore,
};
use strongbox_types::AccountId;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

fn main() {
    // Built before divan prints its table, which the timing line would break.
    fixture();
    divan::main();
    if let Some(f) = FIXTURE.get() {
        // Statics are never dropped, so the TempDir would outlive the run.
        std::fs::remove_dir_all(f.dir.path()).unwrap();
    }
}

const LISTED: &str = "bench-listed";
const WRITTEN: &str = "bench-written";
const PAGE: usize = 1000;
/// Setup inserts in flight at once.
const SETUP_CONCURRENCY: usize = 256;

#[divan::bench]
fn put_object(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| {
        let record = object(WRITTEN, &f.next_written_key());
        f.rt.block_on(f.store.put_object(&record, &Expect::Any)).unwrap()
    });
}

/// 16 inserts issued together: the time for all of them, and inserts/s.
#[divan::bench(args = [16])]
fn put_object_concurrent(bencher: Bencher, n: usize) {
    let f = fixture();
    bencher.counter(ItemsCount::new(n)).bench(|| {
        f.rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..n {
                let store = Arc::clone(&f.store);
                let record = object(WRITTEN, &f.next_written_key());
                set.spawn(async move { store.put_object(&record, &Expect::Any).await.unwrap() });
            }
            set.join_all().await
        })
    });
}

#[divan::bench]
fn get_object(bencher: Bencher) {
    let f = fixture();
    let mut rng = Rng::new(1);
    bencher
        .with_inputs(|| listed_key(rng.below(f.keys)))
        .bench_local_refs(|key| f.rt.block_on(f.store.get_object(LISTED, key)).unwrap().unwrap());
}

/// One page of 1,000 keys from a random start, in a bucket of `keys` keys.
#[divan::bench]
fn list_page_1000(bencher: Bencher) {
    let f = fixture();
    let mut rng = Rng::new(2);
    bencher
        .counter(ItemsCount::new(PAGE))
        .with_inputs(|| KeyRange {
            start: listed_key(rng.below(f.keys - PAGE as u64 + 1)).into_bytes(),
            start_inclusive: true,
            end: None,
        })
        .bench_local_refs(|range| {
            let page = f.rt.block_on(f.store.scan_objects(LISTED, range, PAGE)).unwrap();
            assert_eq!(page.len(), PAGE);
            page
        });
}

struct Fixture {
    rt: Runtime,
    store: Arc<SqliteStore>,
    dir: tempfile::TempDir,
    keys: u64,
    written: AtomicU64,
}

impl Fixture {
    fn next_written_key(&self) -> String {
        format!("uploads/{:010}", self.written.fetch_add(1, Ordering::Relaxed))
    }
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let keys = std::env::var("STRONGBOX_BENCH_KEYS").map_or(100_000, |v| v.parse().unwrap());
        assert!(
            keys >= PAGE as u64,
            "STRONGBOX_BENCH_KEYS must be at least one page ({PAGE})"
        );
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("meta.db")).unwrap());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        rt.block_on(populate(&store, keys));
        eprintln!(
            "objects: {keys} keys inserted in {:.1} s ({} at a time)",
            started.elapsed().as_secs_f64(),
            SETUP_CONCURRENCY
        );
        Fixture {
            rt,
            store,
            dir,
            keys,
            written: AtomicU64::new(0),
        }
    })
}

async fn populate(store: &Arc<SqliteStore>, keys: u64) {
    let owner = AccountId::parse("111122223333").unwrap();
    let account = Account {
        id: owner.clone(),
        name: "bench".into(),
        canonical_id: "b".repeat(64),
        created_ms: 0,
    };
    store.create_account(&account).await.unwrap();
    for name in [LISTED, WRITTEN] {
        let bucket = BucketRecord {
            name: name.into(),
            owner: owner.clone(),
            region: "us-east-1".into(),
            created_ms: 0,
            tags: None,
            policy: None,
            encryption: None,
            versioning: None,
            object_lock: None,
            settings: Default::default(),
            account_public_access_block: None,
        };
        store.create_bucket(&bucket).await.unwrap();
    }
    let mut in_flight = JoinSet::new();
    for i in 0..keys {
        if in_flight.len() == SETUP_CONCURRENCY {
            in_flight.join_next().await.unwrap().unwrap();
        }
        let store = Arc::clone(store);
        in_flight.spawn(async move {
            store
                .put_object(&object(LISTED, &listed_key(i)), &Expect::Any)
                .await
                .unwrap()
        });
    }
    in_flight.join_all().await;
}

/// Keys shaped like a photo archive; zero-padded so key order is index order.
fn listed_key(i: u64) -> String {
    format!(
        "photos/{}/{:02}/img-{i:08}.jpg",
        2000 + i / 10_000,
        i % 10_000 / 1000 + 1
    )
}

/// A record like a simple SSE-S3 PUT leaves: one segment, a content type,
/// one user metadata pair, a wrapped data key.
fn object(bucket: &str, key: &str) -> ObjectRecord {
    let etag = "9b2cf535f27731c974343645a3985328".to_owned();
    ObjectRecord {
        bucket: bucket.into(),
        key: key.into(),
        version_id: "null".into(),
        size: 1_048_576,
        etag: etag.clone(),
        last_modified_ms: 1_767_225_600_000,
        doc: ObjectDoc {
            v: RECORD_VERSION,
            content: ContentHeaders {
                content_type: Some("image/jpeg".into()),
                ..Default::default()
            },
            user_meta: vec![("camera".into(), "x100v".into())],
            checksum: None,
            tags: vec![],
            encryption: EncryptionRecord {
                scheme: "AES256".into(),
                kek_id: "root-1".into(),
                wrapped_key: vec![0x5a; 61],
                ..Default::default()
            },
            segments: vec![Segment {
                blob_id: "0f9c2d6e8b7a4c1d9e3f5a7b2c4d6e8f".into(),
                size: 1_048_576,
                part_number: 0,
                etag,
                checksum: None,
                inline: false,
                data: None,
            }],
            upload_id: None,
            sealed_version: None,
            lock: Default::default(),
        },
        delete_marker: false,
    }
}

/// xorshift64*: reproducible positions without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}
