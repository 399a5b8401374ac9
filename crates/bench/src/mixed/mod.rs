//! The mixed workload (`strongbox-bench mixed`), for soak runs: for
//! `--duration` (and at most `--max-requests`), `--concurrency` workers each
//! pick an operation by the `--mix` weights and run it on a random key of a
//! bounded key space (`--keys`), so objects are overwritten and deleted
//! rather than piling up. Everything read is verified: each key's state
//! (absent, or the length and MD5 of the last body PUT to it) is tracked
//! under a per-key lock held for the whole request, so a GET must return
//! exactly the last PUT's bytes or `404 NoSuchKey` after a DELETE, and a
//! LIST must be sorted and name only keys of the key space. At the end a
//! listing must match the tracked state exactly, then every key is deleted.
//!
//! Meanwhile the server is sampled (see [`health`]); the run fails (exit
//! status 1) on any failed request or failed check.
pub mod args;
mod health;
mod stats;

use crate::cli::Cli;
use crate::client::S3;
use crate::{list, multipart};
use anyhow::{Context, bail, ensure};
use args::{MixOp, MixedArgs};
use bytes::Bytes;
use md5::{Digest, Md5};
use serde_json::json;
use stats::AllOps;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Mutex as KeyLock;

/// How long to wait, after the last request, for the temp-file count to
/// settle (a background flush or removal may still be finishing).
const SETTLE: Duration = Duration::from_secs(10);

/// Runs the mixed workload; returns the failures (failed requests, failed
/// checks), 0 when everything passed.
pub async fn run(cli: &Cli, args: &MixedArgs, s3: S3) -> anyhow::Result<u64> {
    let work = Arc::new(Mixed::new(args, s3)?);
    work.s3.create_bucket().await.context("creating the bucket")?;
    let probe = health::Probe {
        pid: cli.server_pid,
        tmp_dir: args.server_tmp_dir.clone(),
    };
    eprintln!(
        "mixed {} over {} keys of {} under {}/ at concurrency {} for {:?} (at most {} requests)",
        args.mix,
        args.keys,
        args.sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        work.prefix,
        args.concurrency,
        args.duration.0,
        args.max_requests
    );
    let baseline = probe.read(0.0, 0);
    let start = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = health::spawn_sampler(
        probe.clone(),
        start,
        args.sample_every.0,
        work.done.clone(),
        samples.clone(),
    );
    let deadline = start + args.duration.0;
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(work.clone().worker(deadline)))
        .collect();
    let mut ops = AllOps::default();
    for w in workers {
        ops.merge(w.await.context("a worker task failed")?);
    }
    let secs = start.elapsed().as_secs_f64();
    sampler.abort();
    let mut during: Vec<health::Sample> = samples.lock().map(|s| s.clone()).unwrap_or_default();
    during.push(probe.read(secs, work.done.load(Ordering::Relaxed)));
    ops.sort();

    let ending = work.finish().await;
    let after = settle(&probe, &baseline, start).await;
    let bounds = health::Bounds {
        warmup_secs: secs * args.warmup_pct / 100.0,
        rss_tolerance: args.rss_tolerance_pct / 100.0,
        fd_slack: args.fd_slack,
    };
    let checks = health::checks(&baseline, &during, &after, bounds);

    ops.print(secs);
    print_resources(&baseline, &after);
    let mut failed = ops.failures();
    for c in &checks {
        let verdict = match c.passed {
            Some(true) => "ok",
            Some(false) => "FAIL",
            None => "-",
        };
        println!("check {:<9} {verdict:<4} {}", c.name, c.detail);
        failed += u64::from(c.passed == Some(false));
    }
    let ending_ok = ending.is_ok();
    match &ending {
        Ok(line) => println!("check {:<9} ok   {line}", "end"),
        Err(e) => println!("check {:<9} FAIL {e:#}", "end"),
    }
    failed += u64::from(!ending_ok);

    if let Some(path) = &args.samples_csv {
        std::fs::write(path, health::csv(&during)).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &cli.json {
        let doc = json!({
            "tool": "strongbox-bench",
            "mode": "mixed",
            "version": env!("CARGO_PKG_VERSION"),
            "date": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?,
            "command": crate::cli::redacted_command_line(),
            "endpoint": cli.endpoint.to_string(),
            "bucket": cli.bucket,
            "prefix": work.prefix,
            "mix": args.mix.to_string(),
            "sizes": args.sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
            "keys": args.keys,
            "concurrency": args.concurrency,
            "duration_secs": args.duration.0.as_secs_f64(),
            "max_requests": args.max_requests,
            "workload_secs": secs,
            "server_pid": cli.server_pid,
            "ops": ops.json(secs),
            "baseline": health::sample_json(&baseline),
            "samples": during.iter().map(health::sample_json).collect::<Vec<_>>(),
            "after": health::sample_json(&after),
            "checks": checks.iter().map(|c| json!({
                "name": c.name, "passed": c.passed, "detail": c.detail, "figures": c.figures,
            })).collect::<Vec<_>>(),
            "end_check": { "passed": ending_ok, "detail": ending.as_ref().map_or_else(|e| format!("{e:#}"), Clone::clone) },
            "failures": failed,
        });
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", closing_line(failed));
    Ok(failed)
}

fn closing_line(failed: u64) -> String {
    if failed == 0 {
        "mixed: passed".to_owned()
    } else {
        format!("mixed: FAILED ({failed} failed request(s) or check(s))")
    }
}

fn print_resources(baseline: &health::Sample, after: &health::Sample) {
    let show = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
    println!(
        "server before: RSS {} KiB, {} FDs, {} temp files; after: RSS {} KiB, {} FDs, {} temp files",
        show(baseline.rss_kib),
        show(baseline.fds),
        show(baseline.tmp_files),
        show(after.rss_kib),
        show(after.fds),
        show(after.tmp_files)
    );
}

/// The sample after the run: taken once the temp-file count is back at its
/// baseline, or after [`SETTLE`].
async fn settle(probe: &health::Probe, baseline: &health::Sample, start: Instant) -> health::Sample {
    let until = Instant::now() + SETTLE;
    loop {
        let s = probe.read(start.elapsed().as_secs_f64(), 0);
        if s.tmp_files <= baseline.tmp_files || Instant::now() >= until {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the run knows of one key.
#[derive(Clone, Debug, PartialEq)]
enum KeyState {
    Absent,
    /// The last body stored: its length and hex MD5.
    Present {
        len: u64,
        md5: String,
    },
    /// A write failed or timed out: either the old or the new state.
    Unknown,
}

/// What every worker shares.
struct Mixed {
    s3: Arc<S3>,
    /// Random bytes every body is cut from (largest size + [`SLACK`]).
    base: Bytes,
    sizes: Vec<usize>,
    part_size: usize,
    mix: args::Mix,
    prefix: String,
    keys: Vec<KeyLock<KeyState>>,
    max_requests: u64,
    request_timeout: Duration,
    started: AtomicU64,
    done: Arc<AtomicU64>,
    generation: AtomicU64,
}

/// Spread of the offsets bodies are cut from `base` at.
const SLACK: usize = 64 << 10;

impl Mixed {
    fn new(args: &MixedArgs, s3: S3) -> anyhow::Result<Self> {
        if args.keys == 0 || args.concurrency == 0 || args.sizes.is_empty() || args.max_requests == 0 {
            bail!("--keys, --concurrency, --max-requests and --sizes must be positive");
        }
        if args.multipart_part_size.0 == 0 || args.keys > 1000 {
            bail!("--multipart-part-size must be positive and --keys at most 1000 (one listing page)");
        }
        let sizes = args
            .sizes
            .iter()
            .map(|s| usize::try_from(s.0).context("--sizes: too large for memory"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let largest = sizes.iter().copied().max().unwrap_or(0);
        Ok(Mixed {
            s3: Arc::new(s3),
            base: crate::random_bytes((largest + SLACK) as u64)?,
            sizes,
            part_size: usize::try_from(args.multipart_part_size.0).context("--multipart-part-size")?,
            mix: args.mix.clone(),
            prefix: args
                .prefix
                .clone()
                .unwrap_or_else(|| format!("mixed-{}", crate::unix_secs())),
            keys: (0..args.keys).map(|_| KeyLock::new(KeyState::Absent)).collect(),
            max_requests: args.max_requests,
            request_timeout: Duration::from_secs_f64(args.request_timeout),
            started: AtomicU64::new(0),
            done: Arc::new(AtomicU64::new(0)),
            generation: AtomicU64::new(0),
        })
    }

    fn key(&self, index: usize) -> String {
        format!("{}/{index:06}", self.prefix)
    }

    async fn worker(self: Arc<Self>, deadline: Instant) -> AllOps {
        let mut rng = Rng::seeded();
        let mut ops = AllOps::default();
        while Instant::now() < deadline && self.started.fetch_add(1, Ordering::Relaxed) < self.max_requests {
            let op = self.mix.pick(rng.next());
            let sent = Instant::now();
            let outcome = tokio::time::timeout(self.request_timeout, self.one(op, &mut rng)).await;
            let latency = sent.elapsed();
            self.done.fetch_add(1, Ordering::Relaxed);
            let Some(stats) = ops.get_mut(op) else { continue };
            match outcome {
                Ok(Ok(bytes)) => stats.success(bytes, latency),
                Ok(Err(e)) => stats.failure(format!("{e:#}")),
                Err(_) => stats.failure(format!("no response within {:?}", self.request_timeout)),
            }
        }
        ops
    }

    /// One request (a whole upload for multipart); returns the body bytes moved.
    async fn one(&self, op: MixOp, rng: &mut Rng) -> anyhow::Result<u64> {
        if op == MixOp::List {
            return self.list().await.map(|_| 0);
        }
        let index = rng.below(self.keys.len());
        let (mut guard, index) = self.lock_near(index).await;
        let key = self.key(index);
        let state = &mut *guard;
        match op {
            MixOp::Put | MixOp::Multipart => self.put(op, &key, state, rng).await,
            MixOp::Get => self.get(&key, state).await,
            MixOp::Delete | MixOp::List => {
                *state = KeyState::Unknown;
                self.s3.delete(&key).await?;
                *state = KeyState::Absent;
                Ok(0)
            }
        }
    }

    /// The first free key from `index` on (wrapping), with its index. With
    /// more keys than workers one is always free; the retry is a safeguard.
    async fn lock_near(&self, index: usize) -> (tokio::sync::MutexGuard<'_, KeyState>, usize) {
        let n = self.keys.len();
        loop {
            for step in 0..n {
                let i = (index + step) % n;
                if let Some(Ok(guard)) = self.keys.get(i).map(KeyLock::try_lock) {
                    return (guard, i);
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn put(&self, op: MixOp, key: &str, state: &mut KeyState, rng: &mut Rng) -> anyhow::Result<u64> {
        let size = self.sizes.get(rng.below(self.sizes.len())).copied().unwrap_or(0);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let body = self.body(generation, size);
        let md5 = hex::encode(Md5::digest(&body));
        *state = KeyState::Unknown;
        if op == MixOp::Multipart {
            let etag = self.s3.put_multipart(key, &body, self.part_size).await?;
            let parts = multipart::part_ranges(body.len(), self.part_size).len();
            ensure!(
                multipart::is_multipart_etag(&etag, parts),
                "multipart {key}: ETag {etag} of a {parts}-part upload does not end in -{parts}"
            );
        } else {
            let etag = self.s3.put(key, body.clone()).await?;
            ensure!(etag == md5, "PUT {key}: ETag {etag} is not the body's MD5 {md5}");
        }
        *state = KeyState::Present {
            len: body.len() as u64,
            md5,
        };
        Ok(body.len() as u64)
    }

    async fn get(&self, key: &str, state: &mut KeyState) -> anyhow::Result<u64> {
        let got = self.s3.get_if_exists(key).await?;
        let read = got.as_ref().map(|g| KeyState::Present {
            len: g.bytes,
            md5: g.md5_hex.clone().unwrap_or_default(),
        });
        let read = read.unwrap_or(KeyState::Absent);
        if *state != KeyState::Unknown {
            ensure!(
                *state == read,
                "GET {key}: read {read:?}, but the last write left {state:?}"
            );
        }
        *state = read;
        Ok(got.map_or(0, |g| g.bytes))
    }

    /// One listing of the prefix: sorted, and only keys of the key space.
    async fn list(&self) -> anyhow::Result<BTreeSet<String>> {
        let page = list::page(&self.s3, &self.prefix, None).await?;
        ensure!(
            !page.truncated,
            "LIST {}/: truncated with at most 1000 keys",
            self.prefix
        );
        list::check_order(None, &page.keys)?;
        for k in &page.keys {
            let index = k
                .strip_prefix(&format!("{}/", self.prefix))
                .and_then(|i| i.parse::<usize>().ok());
            ensure!(
                index.is_some_and(|i| i < self.keys.len()),
                "LIST: key {k:?} is not one this run writes"
            );
        }
        Ok(page.keys.into_iter().collect())
    }

    /// The body of PUT number `generation`: `size` bytes cut from `base` at
    /// an offset that depends on it, the generation in its first 8 bytes, so
    /// an overwrite changes the content.
    fn body(&self, generation: u64, size: usize) -> Bytes {
        let offset = (Rng(generation).next() as usize) % SLACK;
        let mut body = self.base.get(offset..offset + size).unwrap_or_default().to_vec();
        for (b, s) in body.iter_mut().zip(generation.to_le_bytes()) {
            *b = s;
        }
        body.into()
    }

    /// After the workload: a listing must name exactly the keys known to be
    /// present (keys of unknown state may or may not be there); then every
    /// key is deleted and the listing must be empty.
    async fn finish(&self) -> anyhow::Result<String> {
        let listed = self.list().await.context("final listing")?;
        let mut present = BTreeSet::new();
        let mut unknown = BTreeSet::new();
        for (i, slot) in self.keys.iter().enumerate() {
            match &*slot.lock().await {
                KeyState::Present { .. } => present.insert(self.key(i)),
                KeyState::Unknown => unknown.insert(self.key(i)),
                KeyState::Absent => false,
            };
        }
        let listed_known: BTreeSet<_> = listed.difference(&unknown).cloned().collect();
        ensure!(
            listed_known == present,
            "final listing: {} keys, {} expected; missing {:?}, unexpected {:?}",
            listed_known.len(),
            present.len(),
            present.difference(&listed_known).take(3).collect::<Vec<_>>(),
            listed_known.difference(&present).take(3).collect::<Vec<_>>()
        );
        for key in &listed {
            self.s3
                .delete(key)
                .await
                .with_context(|| format!("cleaning up {key}"))?;
        }
        let left = self.list().await.context("listing after the clean-up")?;
        ensure!(left.is_empty(), "{} key(s) left after deleting every key", left.len());
        Ok(format!(
            "final listing matched the {} stored keys; all deleted",
            present.len()
        ))
    }
}

/// splitmix64: small, fast, good enough to pick operations and keys.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let seed = crate::random_bytes(8)
            .ok()
            .and_then(|b| b.get(..8).and_then(|s| s.try_into().ok()))
            .map_or(0x9e37_79b9_7f4a_7c15, u64::from_le_bytes);
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_covers_its_range() {
        let mut rng = Rng(1);
        let mut seen = [false; 7];
        for _ in 0..200 {
            seen[rng.below(7)] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(Rng(5).next(), Rng(5).next());
        assert_ne!(Rng(5).next(), Rng(6).next());
    }

    #[test]
    fn closing_line_names_the_failures() {
        assert_eq!(closing_line(0), "mixed: passed");
        assert_eq!(closing_line(2), "mixed: FAILED (2 failed request(s) or check(s))");
    }
}
