//! Turning phase results into numbers: throughput, latency percentiles and
//! server CPU cost (CPU-s per GiB for large objects, CPU-µs per operation for
//! small ones and for DELETE), printed as a table or written as JSON.
use crate::phase::{Op, PhaseResult};
use serde_json::{Value, json};
use std::time::Duration;

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;
/// From this object size on, server cost is shown per GiB rather than per op.
const LARGE_OBJECT: u64 = 1 << 20;

/// Derived numbers of one phase.
pub struct Summary<'a> {
    pub r: &'a PhaseResult,
    pub secs: f64,
    pub mib_per_s: f64,
    pub ops_per_s: f64,
    /// p50, p90, p99 and max latency in milliseconds.
    pub latency_ms: Option<[f64; 4]>,
    pub cpu_s_per_gib: Option<f64>,
    pub cpu_us_per_op: Option<f64>,
}

impl<'a> Summary<'a> {
    pub fn new(r: &'a PhaseResult) -> Self {
        let secs = r.wall.as_secs_f64().max(1e-9);
        let gib = r.bytes as f64 / GIB;
        Summary {
            r,
            secs,
            mib_per_s: r.bytes as f64 / MIB / secs,
            ops_per_s: r.ok as f64 / secs,
            latency_ms: latency_ms(&r.latencies),
            cpu_s_per_gib: r.server_cpu.filter(|_| gib > 0.0).map(|c| c / gib),
            cpu_us_per_op: r.server_cpu.filter(|_| r.ok > 0).map(|c| c * 1e6 / r.ok as f64),
        }
    }

    /// The server cost in the unit that suits the object size.
    fn cost(&self, object_size: u64) -> String {
        let per_gib = self.r.op != Op::Delete && object_size >= LARGE_OBJECT;
        match (per_gib, self.cpu_s_per_gib, self.cpu_us_per_op) {
            (true, Some(c), _) => format!("{c:.2} s/GiB"),
            (false, _, Some(c)) => format!("{c:.0} µs/op"),
            _ => "-".into(),
        }
    }
}

/// Nearest-rank p50/p90/p99 and max of sorted latencies.
fn latency_ms(sorted: &[Duration]) -> Option<[f64; 4]> {
    let last = sorted.len().checked_sub(1)?;
    let rank = |p: f64| {
        let i = ((p * sorted.len() as f64).ceil() as usize).saturating_sub(1).min(last);
        sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Some([rank(0.50), rank(0.90), rank(0.99), rank(1.0)])
}

pub fn print_table(summaries: &[Summary<'_>], object_size: u64, concurrency: usize) {
    println!(
        "{:<7} {:>5} {:>6} {:>4} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>14} {:>9} {:>6}",
        "phase",
        "conc",
        "ops",
        "err",
        "secs",
        "MiB/s",
        "ops/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "srv CPU-s",
        "srv cost",
        "cli CPU-s",
        "load1"
    );
    for s in summaries {
        let [p50, p90, p99, max] = s.latency_ms.unwrap_or([f64::NAN; 4]);
        println!(
            "{:<7} {:>5} {:>6} {:>4} {:>8.2} {:>9.1} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>14} {:>9} {:>6}",
            s.r.op.name(),
            concurrency,
            s.r.ok,
            s.r.errors,
            s.secs,
            s.mib_per_s,
            s.ops_per_s,
            p50,
            p90,
            p99,
            max,
            opt(s.r.server_cpu, 2),
            s.cost(object_size),
            opt(s.r.client_cpu, 2),
            opt(s.r.load_start.map(|l| l[0]), 2),
        );
    }
    for s in summaries {
        if let Some(e) = &s.r.first_error {
            println!("{} first error ({} errors): {e}", s.r.op.name(), s.r.errors);
        }
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

pub fn phase_json(s: &Summary<'_>) -> Value {
    json!({
        "op": s.r.op.name(),
        "ops": s.r.ok,
        "errors": s.r.errors,
        "first_error": s.r.first_error,
        "bytes": s.r.bytes,
        "wall_secs": s.secs,
        "mib_per_s": s.mib_per_s,
        "ops_per_s": s.ops_per_s,
        "latency_ms": s.latency_ms.map(|[p50, p90, p99, max]| json!({"p50": p50, "p90": p90, "p99": p99, "max": max})),
        "server_cpu_secs": s.r.server_cpu,
        "server_cpu_s_per_gib": s.cpu_s_per_gib,
        "server_cpu_us_per_op": s.cpu_us_per_op,
        "client_cpu_secs": s.r.client_cpu,
        "loadavg_start": s.r.load_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(latency_ms(&lat), Some([50.0, 90.0, 99.0, 100.0]));
        assert_eq!(latency_ms(&[]), None);
        assert_eq!(latency_ms(&[Duration::from_millis(7)]), Some([7.0; 4]));
    }
}
