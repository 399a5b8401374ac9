//! Prometheus text metrics: requests by operation and status, bytes in and
//! out, and a latency histogram. Lock-free on the hot path except one small
//! map update per request.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Where the authorization gate records the operation name for this request.
#[derive(Clone, Default)]
pub struct OpSlot(Arc<OnceLock<String>>);

impl OpSlot {
    pub fn set(&self, op: &str) {
        let _ = self.0.set(op.to_owned());
    }

    pub fn get(&self) -> &str {
        self.0.get().map_or("unknown", String::as_str)
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn record(&self, op: &str, status: u16, bytes_in: u64, bytes_out: u64, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((op.to_owned(), status)).or_default() += 1;
        }
        self.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (bound, counter) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP strongbox_requests_total S3 requests by operation and HTTP status."
        );
        let _ = writeln!(s, "# TYPE strongbox_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((op, status), n) in m.iter() {
                let _ = writeln!(
                    s,
                    "strongbox_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            s,
            "# HELP strongbox_request_bytes_total Request body bytes received (declared lengths)."
        );
        let _ = writeln!(s, "# TYPE strongbox_request_bytes_total counter");
        let _ = writeln!(
            s,
            "strongbox_request_bytes_total {}",
            self.bytes_in.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP strongbox_response_bytes_total Response body bytes sent (declared lengths)."
        );
        let _ = writeln!(s, "# TYPE strongbox_response_bytes_total counter");
        let _ = writeln!(
            s,
            "strongbox_response_bytes_total {}",
            self.bytes_out.load(Ordering::Relaxed)
        );
        let _ = writeln!(s, "# HELP strongbox_request_duration_seconds Time to response headers.");
        let _ = writeln!(s, "# TYPE strongbox_request_duration_seconds histogram");
        for (bound, counter) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                s,
                "strongbox_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(s, "strongbox_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(s, "strongbox_request_duration_seconds_sum {sum}");
        let _ = writeln!(s, "strongbox_request_duration_seconds_count {count}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.record("GetObject", 200, 0, 10, Duration::from_millis(3));
        m.record("GetObject", 200, 0, 10, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("strongbox_requests_total{operation=\"GetObject\",status=\"200\"} 2"));
        assert!(text.contains("strongbox_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("strongbox_request_duration_seconds_count 2"));
        assert!(text.contains("strongbox_response_bytes_total 20"));
    }
}
