//! Per-operation figures of a mixed run: requests, failures (with the first
//! few error messages, which carry the S3 error body), bytes and latencies,
//! kept per worker and merged at the end, then printed and written as JSON.
use super::args::MixOp;
use crate::report::latency_ms;
use serde_json::{Value, json};
use std::time::Duration;

/// Error messages kept per operation.
const KEPT_ERRORS: usize = 3;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Clone, Debug, Default)]
pub struct OpStats {
    pub ok: u64,
    pub failures: u64,
    pub first_errors: Vec<String>,
    /// Body bytes of successful requests (sent for PUT, received for GET).
    pub bytes: u64,
    pub latencies: Vec<Duration>,
}

impl OpStats {
    pub fn success(&mut self, bytes: u64, latency: Duration) {
        self.ok += 1;
        self.bytes += bytes;
        self.latencies.push(latency);
    }

    pub fn failure(&mut self, message: String) {
        self.failures += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(message);
        }
    }

    pub fn merge(&mut self, other: OpStats) {
        self.ok += other.ok;
        self.bytes += other.bytes;
        self.latencies.extend(other.latencies);
        self.failures += other.failures;
        let room = KEPT_ERRORS.saturating_sub(self.first_errors.len());
        self.first_errors.extend(other.first_errors.into_iter().take(room));
    }
}

/// One [`OpStats`] per [`MixOp`].
#[derive(Clone, Debug, Default)]
pub struct AllOps(pub [OpStats; 5]);

impl AllOps {
    pub fn get_mut(&mut self, op: MixOp) -> Option<&mut OpStats> {
        self.0.get_mut(op as usize)
    }

    pub fn merge(&mut self, other: AllOps) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            mine.merge(theirs);
        }
    }

    pub fn failures(&self) -> u64 {
        self.0.iter().map(|s| s.failures).sum()
    }

    pub fn sort(&mut self) {
        for s in &mut self.0 {
            s.latencies.sort_unstable();
        }
    }

    fn rows(&self) -> impl Iterator<Item = (MixOp, &OpStats)> {
        MixOp::ALL.into_iter().zip(self.0.iter())
    }

    /// The table of the run (`secs` of workload), then the first errors.
    pub fn print(&self, secs: f64) {
        println!(
            "{:<10} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "op", "requests", "failed", "ops/s", "MiB/s", "p50 ms", "p99 ms", "max ms"
        );
        for (op, s) in self.rows() {
            let lat = latency_ms(&s.latencies);
            let ms = |i: usize| {
                lat.and_then(|l| l.get(i).copied())
                    .map_or("-".into(), |v| format!("{v:.2}"))
            };
            println!(
                "{:<10} {:>9} {:>8} {:>9.1} {:>9.2} {:>9} {:>9} {:>9}",
                op.name(),
                s.ok + s.failures,
                s.failures,
                s.ok as f64 / secs.max(1e-9),
                s.bytes as f64 / MIB / secs.max(1e-9),
                ms(0),
                ms(2),
                ms(4)
            );
        }
        for (op, s) in self.rows() {
            for e in &s.first_errors {
                println!("{} failed: {e}", op.name());
            }
        }
    }

    pub fn json(&self, secs: f64) -> Value {
        let rows: Vec<Value> = self
            .rows()
            .map(|(op, s)| {
                let lat = latency_ms(&s.latencies);
                let ms = |i: usize| lat.and_then(|l| l.get(i).copied());
                json!({
                    "op": op.name(),
                    "requests": s.ok + s.failures,
                    "ok": s.ok,
                    "failures": s.failures,
                    "first_errors": s.first_errors,
                    "bytes": s.bytes,
                    "ops_per_s": s.ok as f64 / secs.max(1e-9),
                    "mib_per_s": s.bytes as f64 / MIB / secs.max(1e-9),
                    "latency_ms": { "p50": ms(0), "p90": ms(1), "p99": ms(2), "p999": ms(3), "max": ms(4) },
                })
            })
            .collect();
        Value::Array(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_counts_and_the_first_errors() {
        let mut a = AllOps::default();
        let mut b = AllOps::default();
        for i in 0..5 {
            b.get_mut(MixOp::Get).unwrap().failure(format!("e{i}"));
        }
        b.get_mut(MixOp::Put).unwrap().success(10, Duration::from_millis(3));
        a.get_mut(MixOp::Put).unwrap().success(5, Duration::from_millis(1));
        a.merge(b);
        a.sort();
        let put = &a.0[MixOp::Put as usize];
        assert_eq!((put.ok, put.bytes), (2, 15));
        assert_eq!(put.latencies, [Duration::from_millis(1), Duration::from_millis(3)]);
        let get = &a.0[MixOp::Get as usize];
        assert_eq!(get.failures, 5);
        assert_eq!(get.first_errors, ["e0", "e1", "e2"]);
        assert_eq!(a.failures(), 5);
        assert_eq!(a.json(1.0)[1]["failures"], 5);
    }
}
