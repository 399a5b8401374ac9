//! The server's health over a long run: a sampler that records, every
//! `--sample-every`, the server's resident memory (`VmRSS`), its open file
//! descriptors (`/proc/PID/fd`) and the entries of its temp-file directory,
//! and the checks a soak gates on. After the warm-up (the first
//! `--warmup-pct` of the run) RSS must stay within ±`--rss-tolerance-pct`
//! of its median and FDs within ±max(the same share, `--fd-slack`) of
//! theirs; the temp-file count after the run must be back at its count
//! before it. A leak shows as a trend that leaves the band; a temp file
//! left behind by a finished request shows in the count.
use crate::procfs;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One reading of the server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the workload started (negative: before it).
    pub t_secs: f64,
    pub rss_kib: Option<u64>,
    pub fds: Option<u64>,
    pub tmp_files: Option<u64>,
    /// Requests completed so far.
    pub requests: u64,
}

/// What to read.
#[derive(Clone)]
pub struct Probe {
    pub pid: Option<u32>,
    pub tmp_dir: Option<PathBuf>,
}

impl Probe {
    pub fn read(&self, t_secs: f64, requests: u64) -> Sample {
        Sample {
            t_secs,
            rss_kib: self.pid.and_then(procfs::memory).map(|m| m.rss_kib),
            fds: self.pid.and_then(procfs::open_fds),
            tmp_files: self.tmp_dir.as_deref().and_then(procfs::count_entries),
            requests,
        }
    }
}

/// Samples every `every` from `start` until aborted; the samples are shared.
pub fn spawn_sampler(
    probe: Probe,
    start: Instant,
    every: Duration,
    requests: Arc<std::sync::atomic::AtomicU64>,
    out: Arc<Mutex<Vec<Sample>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(start) + every, every);
        loop {
            tick.tick().await;
            let done = requests.load(std::sync::atomic::Ordering::Relaxed);
            let s = probe.read(start.elapsed().as_secs_f64(), done);
            if let Ok(mut v) = out.lock() {
                v.push(s);
            }
        }
    })
}

/// The bounds the checks apply.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Samples before this many seconds are the warm-up.
    pub warmup_secs: f64,
    pub rss_tolerance: f64,
    pub fd_slack: u64,
}

/// One pass/fail verdict with the figures behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: &'static str,
    /// None: not measured (no server PID or temp directory given).
    pub passed: Option<bool>,
    pub detail: String,
    pub figures: Value,
}

/// The RSS, FD and temp-file checks over the samples of a run: `baseline`
/// before the first request, `during` while it ran, `after` once every
/// request had finished.
pub fn checks(baseline: &Sample, during: &[Sample], after: &Sample, b: Bounds) -> Vec<Check> {
    let steady: Vec<&Sample> = during.iter().filter(|s| s.t_secs >= b.warmup_secs).collect();
    let rss: Vec<u64> = steady.iter().filter_map(|s| s.rss_kib).collect();
    let fds: Vec<u64> = steady.iter().filter_map(|s| s.fds).collect();
    vec![
        level("rss", &rss, b.rss_tolerance, "KiB"),
        band("fds", &fds, b.rss_tolerance, b.fd_slack, ""),
        tmp_files(baseline, during, after),
    ]
}

/// Samples per window of the RSS level check, at least.
const WINDOW_MIN: usize = 3;

/// RSS is "flat" when its level holds: the post-warm-up samples, cut into
/// consecutive windows (five, or fewer of at least three samples), have
/// window medians within median ± tolerance, and the last window sits no more
/// than tolerance × median above the first. A single sample reflects what is
/// in flight at that instant (eight 8 MiB transfers swing it by ±10 %); a leak
/// moves the windows, which is what this catches.
fn level(name: &'static str, values: &[u64], tolerance: f64, unit: &str) -> Check {
    let mut check = band(name, values, tolerance, 0, unit);
    let Some(median) = median(values) else { return check };
    let size = values.len().div_ceil(5).max(WINDOW_MIN);
    let windows: Vec<u64> = values.chunks(size).filter_map(self::median).collect();
    let allowed = median as f64 * tolerance;
    let (lo, hi) = (median as f64 - allowed, median as f64 + allowed);
    let (first, last) = (windows.first().copied(), windows.last().copied());
    let growth = match (first, last) {
        (Some(f), Some(l)) => l as f64 - f as f64,
        _ => 0.0,
    };
    if windows.len() < 2 {
        // Too short a run to see a level: every sample must be in the band.
        return check;
    }
    let passed = windows.iter().all(|&w| (w as f64) >= lo && (w as f64) <= hi) && growth <= allowed;
    let shown: Vec<String> = windows.iter().map(|w| format!("{w}")).collect();
    check.passed = Some(passed);
    check.detail = format!(
        "{}; window medians [{}]{unit} (windows of {size}), first to last {:+.1} %, allowed {lo:.0}..{hi:.0}{unit}",
        check.detail,
        shown.join(", "),
        growth / median.max(1) as f64 * 100.0
    );
    if let Value::Object(m) = &mut check.figures {
        m.insert("window_medians".into(), json!(windows));
        m.insert("first_to_last".into(), json!(growth));
    }
    check
}

/// Every value within median ± max(tolerance × median, slack).
fn band(name: &'static str, values: &[u64], tolerance: f64, slack: u64, unit: &str) -> Check {
    let (Some(median), Some(&min), Some(&max)) = (median(values), values.iter().min(), values.iter().max()) else {
        return Check {
            name,
            passed: None,
            detail: "not measured (no server PID, or no sample after the warm-up)".into(),
            figures: Value::Null,
        };
    };
    let allowed = (median as f64 * tolerance).max(slack as f64);
    let (lo, hi) = (median as f64 - allowed, median as f64 + allowed);
    let passed = values.len() >= 2 && (min as f64) >= lo && (max as f64) <= hi;
    let pct = |v: u64| (v as f64 / median.max(1) as f64 - 1.0) * 100.0;
    let few = if values.len() < 2 {
        " (fewer than 2 samples)"
    } else {
        ""
    };
    Check {
        name,
        passed: Some(passed),
        detail: format!(
            "after warm-up: median {median}{unit}, min {min}{unit} ({:+.1} %), max {max}{unit} ({:+.1} %), allowed {lo:.0}..{hi:.0}{unit} over {} samples{few}",
            pct(min),
            pct(max),
            values.len()
        ),
        figures: json!({
            "samples": values.len(), "median": median, "min": min, "max": max,
            "allowed_min": lo, "allowed_max": hi,
        }),
    }
}

/// The temp-file count after the run must equal the count before it.
fn tmp_files(baseline: &Sample, during: &[Sample], after: &Sample) -> Check {
    let (Some(before), Some(end)) = (baseline.tmp_files, after.tmp_files) else {
        return Check {
            name: "tmp_files",
            passed: None,
            detail: "not measured (no --server-tmp-dir)".into(),
            figures: Value::Null,
        };
    };
    let peak = during.iter().filter_map(|s| s.tmp_files).max().unwrap_or(before);
    Check {
        name: "tmp_files",
        passed: Some(end == before),
        detail: format!("{before} before the run, at most {peak} during it, {end} after it"),
        figures: json!({ "before": before, "max_during": peak, "after": end }),
    }
}

/// The lower median.
fn median(values: &[u64]) -> Option<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len().checked_sub(1)? / 2).copied()
}

/// The samples as CSV: one header line, then one line per sample.
pub fn csv(samples: &[Sample]) -> String {
    let cell = |v: Option<u64>| v.map_or_else(String::new, |n| n.to_string());
    let mut out = String::from("t_secs,rss_kib,fds,tmp_files,requests\n");
    for s in samples {
        out.push_str(&format!(
            "{:.1},{},{},{},{}\n",
            s.t_secs,
            cell(s.rss_kib),
            cell(s.fds),
            cell(s.tmp_files),
            s.requests
        ));
    }
    out
}

pub fn sample_json(s: &Sample) -> Value {
    json!({
        "t_secs": (s.t_secs * 10.0).round() / 10.0,
        "rss_kib": s.rss_kib,
        "fds": s.fds,
        "tmp_files": s.tmp_files,
        "requests": s.requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: f64, rss: u64, fds: u64, tmp: u64) -> Sample {
        Sample {
            t_secs: t,
            rss_kib: Some(rss),
            fds: Some(fds),
            tmp_files: Some(tmp),
            requests: 0,
        }
    }

    const BOUNDS: Bounds = Bounds {
        warmup_secs: 10.0,
        rss_tolerance: 0.10,
        fd_slack: 4,
    };

    fn verdicts(during: &[Sample], after_tmp: u64) -> Vec<Option<bool>> {
        let base = at(-0.1, 1000, 20, 0);
        checks(&base, during, &at(100.0, 1000, 20, after_tmp), BOUNDS)
            .iter()
            .map(|c| c.passed)
            .collect()
    }

    #[test]
    fn a_flat_run_passes_and_the_warm_up_is_ignored() {
        // The warm-up spike (t < 10) is outside the band but not counted.
        let during = [
            at(5.0, 5000, 90, 3),
            at(20.0, 1000, 20, 2),
            at(30.0, 1050, 23, 1),
            at(40.0, 960, 18, 0),
        ];
        assert_eq!(verdicts(&during, 0), [Some(true); 3]);
    }

    #[test]
    fn growing_memory_or_fds_and_a_leftover_temp_file_fail() {
        let growing = [at(20.0, 1000, 20, 0), at(30.0, 1100, 20, 0), at(40.0, 1250, 20, 0)];
        assert_eq!(verdicts(&growing, 0), [Some(false), Some(true), Some(true)]);
        let fds = [at(20.0, 1000, 20, 0), at(30.0, 1000, 22, 0), at(40.0, 1000, 40, 0)];
        assert_eq!(verdicts(&fds, 0), [Some(true), Some(false), Some(true)]);
        let flat = [at(20.0, 1000, 20, 0), at(30.0, 1000, 20, 0)];
        assert_eq!(verdicts(&flat, 1), [Some(true), Some(true), Some(false)]);
    }

    #[test]
    fn rss_noise_around_a_level_passes_but_a_slow_climb_fails() {
        // In-flight buffers swing single samples by ±12 %; the level is flat.
        let noisy: Vec<Sample> = (0u32..20)
            .map(|i| at(20.0 + f64::from(i), if i % 2 == 0 { 1120 } else { 880 }, 20, 0))
            .collect();
        assert_eq!(verdicts(&noisy, 0)[0], Some(true));
        // +1 % per sample: every window stays near the median, but the level rises 15 %.
        let climbing: Vec<Sample> = (0u32..20)
            .map(|i| at(20.0 + f64::from(i), 1000 + 10 * u64::from(i), 20, 0))
            .collect();
        assert_eq!(verdicts(&climbing, 0)[0], Some(false));
    }

    #[test]
    fn nothing_measured_is_neither_pass_nor_fail() {
        let none = Sample {
            t_secs: 0.0,
            rss_kib: None,
            fds: None,
            tmp_files: None,
            requests: 0,
        };
        let c = checks(&none, &[none, none], &none, BOUNDS);
        assert!(c.iter().all(|c| c.passed.is_none()), "{c:?}");
        // Only warm-up samples: the band is not measured either.
        let c = checks(&at(0.0, 1, 1, 0), &[at(1.0, 1, 1, 0)], &at(2.0, 1, 1, 0), BOUNDS);
        assert_eq!(c[0].passed, None);
    }

    #[test]
    fn csv_has_a_header_and_empty_cells_for_unmeasured_values() {
        let mut s = at(1.3, 2048, 12, 0);
        s.tmp_files = None;
        s.requests = 7;
        assert_eq!(csv(&[s]), "t_secs,rss_kib,fds,tmp_files,requests\n1.3,2048,12,,7\n");
        assert_eq!(median(&[5, 1, 3, 2]), Some(2));
        assert_eq!(median(&[]), None);
    }
}
