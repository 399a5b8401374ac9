//! One phase: `concurrency` workers take object indices from a shared
//! counter and run one operation each until the list is done or the time
//! bound passes (then no new request starts, in-flight ones finish). Each
//! worker keeps its own latencies and counters; they are merged at the end.
use crate::client::S3;
use crate::procfs;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Put,
    Get,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "PUT",
            Op::Get => "GET",
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
            "delete" | "del" => Ok(Op::Delete),
            _ => Err(format!("unknown op {s:?} (expected put, get or delete)")),
        }
    }
}

/// What every phase of a run shares.
pub struct Workload {
    pub s3: S3,
    /// The body of every PUT: generated once, cloned by reference count.
    pub data: Bytes,
    /// Hex MD5 of `data`, when `--verify` is on.
    pub data_md5: Option<String>,
    pub prefix: String,
    /// The ETag each successful PUT returned, by object index.
    pub etags: Vec<OnceLock<String>>,
    /// Whether PUT ETags are the MD5 of the data (not under SSE-KMS or SSE-C).
    pub etag_is_md5: bool,
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
    /// Latencies of successful operations, sorted.
    pub latencies: Vec<Duration>,
    /// Server CPU seconds (utime + stime) spent during the phase.
    pub server_cpu: Option<f64>,
    /// This process's CPU seconds during the phase.
    pub client_cpu: Option<f64>,
    /// `/proc/loadavg` when the phase started.
    pub load_start: Option<[f64; 3]>,
}

pub async fn run(work: Arc<Workload>, op: Op, indices: Vec<usize>, server_pid: Option<u32>) -> PhaseResult {
    let load_start = procfs::loadavg();
    let server_before = server_pid.and_then(procfs::process_cpu_secs);
    let client_before = procfs::self_cpu_secs();
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
    let server_cpu = match (server_before, server_pid.and_then(procfs::process_cpu_secs)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let client_cpu = match (client_before, procfs::self_cpu_secs()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    total.latencies.sort_unstable();
    PhaseResult {
        op,
        ok: total.ok,
        errors: total.errors,
        first_error: total.first_error,
        bytes: total.bytes,
        wall,
        latencies: total.latencies,
        server_cpu,
        client_cpu,
        load_start,
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
    let expected_len = work.data.len() as u64;
    match op {
        Op::Put => {
            let etag = work.s3.put(&key, work.data.clone()).await?;
            if let Some(md5) = work.data_md5.as_ref().filter(|_| work.etag_is_md5) {
                anyhow::ensure!(&etag == md5, "PUT {key}: ETag {etag} is not the body's MD5 {md5}");
            }
            if let Some(slot) = work.etags.get(index) {
                let _ = slot.set(etag);
            }
            Ok(expected_len)
        }
        Op::Get => {
            let got = work.s3.get(&key, work.data_md5.is_some()).await?;
            anyhow::ensure!(
                got.bytes == expected_len,
                "GET {key}: {} bytes, expected {expected_len}",
                got.bytes
            );
            if let Some(md5) = got.md5_hex {
                let stored = work.etags.get(index).and_then(|e| e.get()).filter(|_| work.etag_is_md5);
                let expected = stored.or(work.data_md5.as_ref());
                anyhow::ensure!(
                    expected == Some(&md5),
                    "GET {key}: body MD5 {md5} does not match the PUT's ETag {expected:?}"
                );
            }
            Ok(got.bytes)
        }
        Op::Delete => {
            work.s3.delete(&key).await?;
            Ok(0)
        }
    }
}
