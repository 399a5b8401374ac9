//! What is measured around every phase, whatever it does: the server's and
//! this process's CPU time, the load average at the start and, with a server
//! PID, the server's peak resident memory during the phase.
//!
//! Peak memory: before the phase the server's `VmHWM` is reset (write `5`
//! to `/proc/PID/clear_refs`); after it `VmHWM` is the peak. In case the
//! reset is refused (another user's process, an old kernel), `VmRSS` is also
//! sampled every 100 ms during the phase and the largest sample is the
//! fallback, which can miss a spike shorter than the interval.
use crate::procfs;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SAMPLE_EVERY: Duration = Duration::from_millis(100);
const KIB_PER_MIB: f64 = 1024.0;

/// Started just before a phase's first request.
pub struct Meter {
    server_pid: Option<u32>,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    load_start: Option<[f64; 3]>,
    rss: Option<RssWatch>,
}

/// What a phase cost, measured by a [`Meter`].
#[derive(Clone, Debug, Default)]
pub struct Measures {
    /// Server CPU seconds (utime + stime) spent during the phase.
    pub server_cpu: Option<f64>,
    /// This process's CPU seconds during the phase.
    pub client_cpu: Option<f64>,
    /// `/proc/loadavg` when the phase started.
    pub load_start: Option<[f64; 3]>,
    pub server_rss: Option<PeakRss>,
}

/// The server's resident memory during one phase.
#[derive(Clone, Debug)]
pub struct PeakRss {
    pub peak_mib: f64,
    /// `VmRSS` when the phase ended.
    pub end_mib: f64,
    /// `"VmHWM"` (exact) or `"VmRSS samples"` (the reset was refused).
    pub source: &'static str,
}

impl Meter {
    pub fn start(server_pid: Option<u32>) -> Self {
        Meter {
            server_pid,
            load_start: procfs::loadavg(),
            rss: server_pid.and_then(RssWatch::start),
            server_cpu: server_pid.and_then(procfs::process_cpu_secs),
            client_cpu: procfs::self_cpu_secs(),
        }
    }

    pub fn finish(self) -> Measures {
        let server_after = self.server_pid.and_then(procfs::process_cpu_secs);
        let client_after = procfs::self_cpu_secs();
        Measures {
            server_cpu: difference(self.server_cpu, server_after),
            client_cpu: difference(self.client_cpu, client_after),
            load_start: self.load_start,
            server_rss: self.rss.and_then(RssWatch::finish),
        }
    }
}

fn difference(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(after? - before?)
}

/// Peak-RSS tracking of one process over one phase.
struct RssWatch {
    pid: u32,
    /// Whether the kernel reset `VmHWM` at the start.
    reset: bool,
    /// Largest `VmRSS` sample so far, KiB.
    sampled_max: Arc<AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    /// None when the process's memory cannot be read at all.
    fn start(pid: u32) -> Option<Self> {
        let reset = procfs::reset_peak_rss(pid);
        let first = procfs::memory(pid)?;
        let sampled_max = Arc::new(AtomicU64::new(first.rss_kib));
        let max = sampled_max.clone();
        let sampler = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                if let Some(m) = procfs::memory(pid) {
                    max.fetch_max(m.rss_kib, Ordering::Relaxed);
                }
            }
        });
        Some(RssWatch {
            pid,
            reset,
            sampled_max,
            sampler,
        })
    }

    fn finish(self) -> Option<PeakRss> {
        self.sampler.abort();
        let end = procfs::memory(self.pid)?;
        let sampled = self.sampled_max.load(Ordering::Relaxed).max(end.rss_kib);
        let (peak_kib, source) = if self.reset {
            (end.hwm_kib.max(sampled), "VmHWM")
        } else {
            (sampled, "VmRSS samples")
        };
        Some(PeakRss {
            peak_mib: peak_kib as f64 / KIB_PER_MIB,
            end_mib: end.rss_kib as f64 / KIB_PER_MIB,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn measures_this_process() {
        let meter = Meter::start(Some(std::process::id()));
        let block = vec![1u8; 8 << 20];
        tokio::time::sleep(Duration::from_millis(150)).await;
        let m = meter.finish();
        drop(block);
        let rss = m.server_rss.unwrap();
        assert!(rss.peak_mib >= 8.0, "{rss:?}");
        assert!(m.server_cpu.is_some() && m.client_cpu.is_some());
    }
}
