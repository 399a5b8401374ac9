//! One phase: `concurrency` workers take object indices from a shared
//! counter and run one operation each until the list is done or the time
//! bound passes (then no new request starts, in-flight ones finish). Each
//! worker keeps its own latencies and counters; they are merged at the end.
//! The LIST phase is sequential and lives in `list.rs`.
use crate::client::S3;
use crate::list::ListStats;
use crate::meter::{Measures, Meter};
use crate::multipart;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Put,
    Get,
    List,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "PUT",
            Op::Get => "GET",
            Op::List => "LIST",
            Op::Delete => "DELETE",
        }
    }
}

impl std::str::FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "put" => Ok(Op::Put),
            "get" => Ok(Op::Get),
            "list" => Ok(Op::List),
            "delete" | "del" => Ok(Op::Delete),
            _ => Err(format!("unknown op {s:?} (expected put, get, list or delete)")),
        }
    }
}

/// What every phase of a run shares.
pub struct Workload {
    pub s3: Arc<S3>,
    /// The body of every PUT: generated once, cloned by reference count.
    pub data: Bytes,
    /// Hex MD5 of `data`, when `--verify` is on.
    pub data_md5: Option<String>,
    pub prefix: String,
    /// The ETag each successful PUT returned, by object index.
    pub etags: Vec<OnceLock<String>>,
    /// Whether single-part PUT ETags are the MD5 of the data (not under
    /// SSE-KMS or SSE-C).
    pub etag_is_md5: bool,
    /// Upload each object in parts of this many bytes (multipart upload).
    pub part_size: Option<usize>,
    pub concurrency: usize,
    pub max_time: Duration,
    pub request_timeout: Duration,
}

impl Workload {
    pub fn key(&self, index: usize) -> String {
        format!("{}/{index:08}", self.prefix)
    }

    /// The objects a GET or DELETE phase visits: those this run PUT, or
    /// every index when this run did not PUT (objects of an earlier run).
    pub fn written(&self, did_put: bool) -> Vec<usize> {
        (0..self.etags.len())
            .filter(|&i| !did_put || self.etags.get(i).is_some_and(|e| e.get().is_some()))
            .collect()
    }
}

/// The measurements of one phase.
pub struct PhaseResult {
    pub op: Op,
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Body bytes moved by successful operations.
    pub bytes: u64,
    pub wall: Duration,
    /// Latencies of successful operations (LIST: of pages), sorted.
    pub latencies: Vec<Duration>,
    pub measures: Measures,
    /// The listing figures of a LIST phase.
    pub list: Option<ListStats>,
}

/// Runs `op` (PUT, GET or DELETE) on the objects `indices`.
pub async fn run(work: Arc<Workload>, op: Op, indices: Vec<usize>, server_pid: Option<u32>) -> PhaseResult {
    let meter = Meter::start(server_pid);
    let start = Instant::now();
    let deadline = start + work.max_time;
    let indices = Arc::new(indices);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..work.concurrency.max(1))
        .map(|_| tokio::spawn(worker(work.clone(), op, indices.clone(), next.clone(), deadline)))
        .collect();
    let mut total = WorkerStats::default();
    for w in workers {
        match w.await {
            Ok(stats) => total.merge(stats),
            Err(e) => total.error(format!("worker task failed: {e}")),
        }
    }
    let wall = start.elapsed();
    let measures = meter.finish();
    total.latencies.sort_unstable();
    PhaseResult {
        op,
        ok: total.ok,
        errors: total.errors,
        first_error: total.first_error,
        bytes: total.bytes,
        wall,
        latencies: total.latencies,
        measures,
        list: None,
    }
}

#[derive(Default)]
struct WorkerStats {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    bytes: u64,
    latencies: Vec<Duration>,
}

impl WorkerStats {
    fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }

    fn merge(&mut self, other: WorkerStats) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.bytes += other.bytes;
        self.latencies.extend(other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

async fn worker(
    work: Arc<Workload>,
    op: Op,
    indices: Arc<Vec<usize>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    while Instant::now() < deadline {
        let Some(&index) = indices.get(next.fetch_add(1, Ordering::Relaxed)) else {
            break;
        };
        let started = Instant::now();
        let outcome = tokio::time::timeout(work.request_timeout, one(&work, op, index)).await;
        let latency = started.elapsed();
        match outcome {
            Ok(Ok(bytes)) => {
                stats.ok += 1;
                stats.bytes += bytes;
                stats.latencies.push(latency);
            }
            Ok(Err(e)) => stats.error(format!("{e:#}")),
            Err(_) => stats.error(format!(
                "{} {}: no response within {:?}",
                op.name(),
                work.key(index),
                work.request_timeout
            )),
        }
    }
    stats
}

/// One operation on object `index`; returns the body bytes it moved.
async fn one(work: &Workload, op: Op, index: usize) -> anyhow::Result<u64> {
    let key = work.key(index);
    match op {
        Op::Put => put(work, index, &key).await,
        Op::Get => get(work, index, &key).await,
        Op::List => anyhow::bail!("LIST is not a per-object operation"),
        Op::Delete => {
            work.s3.delete(&key).await?;
            Ok(0)
        }
    }
}

/// PUTs (or uploads in parts) object `index` and records its ETag. With
/// `--verify`, a single-part ETag must be the body's MD5 and a multipart
/// one must end in `-<parts>`.
async fn put(work: &Workload, index: usize, key: &str) -> anyhow::Result<u64> {
    let etag = match work.part_size {
        None => work.s3.put(key, work.data.clone()).await?,
        Some(part_size) => work.s3.put_multipart(key, &work.data, part_size).await?,
    };
    if let Some(md5) = &work.data_md5 {
        match work.part_size {
            None if work.etag_is_md5 => {
                anyhow::ensure!(&etag == md5, "PUT {key}: ETag {etag} is not the body's MD5 {md5}");
            }
            None => {}
            Some(part_size) => {
                let parts = multipart::part_ranges(work.data.len(), part_size).len();
                anyhow::ensure!(
                    multipart::is_multipart_etag(&etag, parts),
                    "PUT {key}: ETag {etag} of a {parts}-part upload does not end in -{parts}"
                );
            }
        }
    }
    if let Some(slot) = work.etags.get(index) {
        let _ = slot.set(etag);
    }
    Ok(work.data.len() as u64)
}

/// GETs object `index`; with `--verify`, the body's MD5 must be the PUT's
/// ETag when that is an MD5 (single part, SSE none or AES256), else the
/// MD5 of the data that was sent.
async fn get(work: &Workload, index: usize, key: &str) -> anyhow::Result<u64> {
    let expected_len = work.data.len() as u64;
    let got = work.s3.get(key, work.data_md5.is_some()).await?;
    anyhow::ensure!(
        got.bytes == expected_len,
        "GET {key}: {} bytes, expected {expected_len}",
        got.bytes
    );
    if let Some(md5) = got.md5_hex {
        let stored = work
            .etags
            .get(index)
            .and_then(|e| e.get())
            .filter(|e| work.etag_is_md5 && !e.contains('-'));
        let expected = stored.or(work.data_md5.as_ref());
        anyhow::ensure!(
            expected == Some(&md5),
            "GET {key}: body MD5 {md5} does not match the PUT's ETag or data MD5 {expected:?}"
        );
    }
    Ok(got.bytes)
}
