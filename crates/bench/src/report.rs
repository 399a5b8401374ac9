//! Turning phase results into numbers: throughput, latency percentiles,
//! server CPU cost (CPU-s per GiB for large objects, CPU-µs per operation for
//! small ones and for DELETE, CPU-µs per 1000 keys for LIST) and server peak
//! memory, printed as a table or written as JSON.
use crate::list::ListStats;
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
    /// p50, p90, p99, p99.9 and max latency in milliseconds.
    pub latency_ms: Option<[f64; 5]>,
    pub cpu_s_per_gib: Option<f64>,
    pub cpu_us_per_op: Option<f64>,
    /// LIST: server CPU-µs per 1000 keys received.
    pub cpu_us_per_1000_keys: Option<f64>,
}

impl<'a> Summary<'a> {
    pub fn new(r: &'a PhaseResult) -> Self {
        let secs = r.wall.as_secs_f64().max(1e-9);
        let gib = r.bytes as f64 / GIB;
        let server_cpu = r.measures.server_cpu;
        let keys = r.list.as_ref().map_or(0, |l| l.keys_received);
        Summary {
            r,
            secs,
            mib_per_s: r.bytes as f64 / MIB / secs,
            ops_per_s: r.ok as f64 / secs,
            latency_ms: latency_ms(&r.latencies),
            cpu_s_per_gib: server_cpu.filter(|_| gib > 0.0).map(|c| c / gib),
            cpu_us_per_op: server_cpu.filter(|_| r.ok > 0).map(|c| c * 1e6 / r.ok as f64),
            cpu_us_per_1000_keys: server_cpu.filter(|_| keys > 0).map(|c| c * 1e9 / keys as f64),
        }
    }

    /// The server cost in the unit that suits the object size.
    fn cost(&self, object_size: u64) -> String {
        if self.r.op == Op::List {
            return self
                .cpu_us_per_1000_keys
                .map_or_else(|| "-".into(), |c| format!("{c:.0} µs/1k keys"));
        }
        let per_gib = self.r.op != Op::Delete && object_size >= LARGE_OBJECT;
        match (per_gib, self.cpu_s_per_gib, self.cpu_us_per_op) {
            (true, Some(c), _) => format!("{c:.2} s/GiB"),
            (false, _, Some(c)) => format!("{c:.0} µs/op"),
            _ => "-".into(),
        }
    }
}

/// Nearest-rank p50/p90/p99/p99.9 and max of sorted latencies.
pub fn latency_ms(sorted: &[Duration]) -> Option<[f64; 5]> {
    let last = sorted.len().checked_sub(1)?;
    let rank = |p: f64| {
        let i = ((p * sorted.len() as f64).ceil() as usize).saturating_sub(1).min(last);
        sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Some([rank(0.50), rank(0.90), rank(0.99), rank(0.999), rank(1.0)])
}

pub fn print_table(summaries: &[Summary<'_>], object_size: u64, concurrency: usize) {
    println!(
        "{:<7} {:>5} {:>6} {:>4} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>16} {:>8} {:>9} {:>6}",
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
        "p999 ms",
        "max ms",
        "srv CPU-s",
        "srv cost",
        "srv RSS",
        "cli CPU-s",
        "load1"
    );
    for s in summaries {
        let [p50, p90, p99, p999, max] = s.latency_ms.unwrap_or([f64::NAN; 5]);
        let m = &s.r.measures;
        // LIST pages are requested one at a time.
        let conc = if s.r.op == Op::List { 1 } else { concurrency };
        println!(
            "{:<7} {:>5} {:>6} {:>4} {:>8.2} {:>9.1} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>16} {:>8} {:>9} {:>6}",
            s.r.op.name(),
            conc,
            s.r.ok,
            s.r.errors,
            s.secs,
            s.mib_per_s,
            s.ops_per_s,
            p50,
            p90,
            p99,
            p999,
            max,
            opt(m.server_cpu, 2),
            s.cost(object_size),
            opt(m.server_rss.as_ref().map(|r| r.peak_mib), 0),
            opt(m.client_cpu, 2),
            opt(m.load_start.map(|l| l[0]), 2),
        );
    }
    if summaries.iter().any(|s| s.r.op == Op::List) {
        println!("(LIST: ops are pages, latencies are per page, conc is 1)");
    }
    if summaries.iter().any(|s| s.r.measures.server_rss.is_some()) {
        println!("(srv RSS: the server's peak resident MiB during the phase)");
    }
    for s in summaries {
        if let Some(l) = &s.r.list {
            println!("{}", list_line(l, s.cpu_us_per_1000_keys));
        }
        if let Some(e) = &s.r.first_error {
            println!("{} first error ({} errors): {e}", s.r.op.name(), s.r.errors);
        }
    }
}

/// One line on the LIST phase: listings, keys, median speed, server cost.
fn list_line(l: &ListStats, cpu_us_per_1000_keys: Option<f64>) -> String {
    let shape = l.first().map_or_else(
        || "no complete listing".to_owned(),
        |f| format!("{} keys in {} page(s)", f.keys, f.pages),
    );
    let expected = l
        .expected_keys
        .map_or_else(|| "not checked".to_owned(), |e| format!("expected {e}"));
    format!(
        "LIST: {} of {} listing(s) complete ({} cut by --max-secs), {shape} ({expected}); \
         median {} s = {} keys/s; server {} µs per 1000 keys",
        l.complete.len(),
        l.repeats,
        l.incomplete,
        opt(l.median_secs(), 4),
        opt(l.keys_per_s(), 0),
        opt(cpu_us_per_1000_keys, 0),
    )
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

pub fn phase_json(s: &Summary<'_>) -> Value {
    let m = &s.r.measures;
    json!({
        "op": s.r.op.name(),
        "ops": s.r.ok,
        "errors": s.r.errors,
        "first_error": s.r.first_error,
        "bytes": s.r.bytes,
        "wall_secs": s.secs,
        "mib_per_s": s.mib_per_s,
        "ops_per_s": s.ops_per_s,
        "latency_ms": s.latency_ms.map(|[p50, p90, p99, p999, max]| {
            json!({"p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": max})
        }),
        "server_cpu_secs": m.server_cpu,
        "server_cpu_s_per_gib": s.cpu_s_per_gib,
        "server_cpu_us_per_op": s.cpu_us_per_op,
        "server_peak_rss_mib": m.server_rss.as_ref().map(|r| r.peak_mib),
        "server_rss_end_mib": m.server_rss.as_ref().map(|r| r.end_mib),
        "server_peak_rss_source": m.server_rss.as_ref().map(|r| r.source),
        "client_cpu_secs": m.client_cpu,
        "loadavg_start": m.load_start,
        "list": s.r.list.as_ref().map(|l| list_json(l, s.cpu_us_per_1000_keys)),
    })
}

fn list_json(l: &ListStats, cpu_us_per_1000_keys: Option<f64>) -> Value {
    json!({
        "repeats": l.repeats,
        "complete_listings": l.complete.len(),
        "incomplete_listings": l.incomplete,
        "expected_keys": l.expected_keys,
        "keys": l.first().map(|f| f.keys),
        "pages": l.first().map(|f| f.pages),
        "listing_secs": l.complete.iter().map(|c| c.secs).collect::<Vec<_>>(),
        "median_listing_secs": l.median_secs(),
        "keys_per_s": l.keys_per_s(),
        "keys_received": l.keys_received,
        "server_cpu_us_per_1000_keys": cpu_us_per_1000_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(latency_ms(&lat), Some([50.0, 90.0, 99.0, 100.0, 100.0]));
        let lat: Vec<Duration> = (1..=2000).map(Duration::from_millis).collect();
        assert_eq!(latency_ms(&lat), Some([1000.0, 1800.0, 1980.0, 1998.0, 2000.0]));
        assert_eq!(latency_ms(&[]), None);
        assert_eq!(latency_ms(&[Duration::from_millis(7)]), Some([7.0; 5]));
    }
}
