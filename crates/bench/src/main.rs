//! `strongbox-bench`: a small S3 load generator for measuring Strongbox (or
//! any S3 endpoint) on one machine. A run creates the bucket if needed,
//! warms up (a few PUTs and GETs under a separate prefix, excluded from
//! every figure), then runs phases in order (PUT, GET, LIST, DELETE,
//! whichever were asked for) over `--count` objects of one size, with
//! `--concurrency` requests in flight, each phase bounded by `--max-secs`.
//! PUT is a single request or, with `--multipart-part-size`, a multipart
//! upload; LIST pages through every key of the run with ListObjectsV2 and
//! checks the count. It reports throughput, latency percentiles (p50 to
//! p99.9) and, with `--server-pid`, the server's CPU time per GiB, per
//! operation or per 1000 keys listed, which stays comparable on a shared,
//! loaded machine when wall-clock numbers do not, and its peak resident
//! memory per phase.
//!
//! It owns nothing of the server: it talks to it over HTTP(S) only
//! (path-style, SigV4 with `UNSIGNED-PAYLOAD`, HTTP/1.1 keep-alive). It does
//! not exercise aws-chunked bodies, checksums, ranged GETs or listings with
//! a delimiter. Object bodies are one incompressible random buffer,
//! generated once and shared by every PUT. `docs/benchmarks.md` says how to
//! use it and records measured numbers.
mod cli;
mod client;
mod list;
mod meter;
mod mixed;
mod multipart;
mod phase;
mod procfs;
mod report;
mod sigv4;
mod xml;

use anyhow::{Context, bail};
use clap::Parser;
use cli::{Cli, Command, RunArgs};
use md5::{Digest, Md5};
use phase::{Op, PhaseResult, Workload};
use ring::rand::SecureRandom;
use serde_json::json;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match rt.block_on(run(cli)) {
        Ok(0) => Ok(()),
        Ok(errors) => {
            eprintln!("{errors} operation(s) failed");
            std::process::exit(1);
        }
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

/// Runs the command; returns the error count (0: all passed).
async fn run(cli: Cli) -> anyhow::Result<u64> {
    match &cli.command {
        Command::Run(args) => run_phases(&cli, args).await,
        Command::Mixed(args) => mixed::run(&cli, args, connect(&cli, args.concurrency)?).await,
    }
}

/// Runs the warm-up and the phases, prints the table, writes the JSON;
/// returns the error count (warm-up included).
async fn run_phases(cli: &Cli, args: &RunArgs) -> anyhow::Result<u64> {
    let ops = checked_ops(args)?;
    let work = Arc::new(workload(cli, args).await?);
    eprintln!(
        "{} {} objects of {}{} at concurrency {} to {} bucket {} prefix {}",
        ops.iter().map(|o| o.name()).collect::<Vec<_>>().join("+"),
        args.count,
        args.size,
        args.multipart_part_size
            .map_or_else(String::new, |p| format!(" (multipart, {p} parts)")),
        args.concurrency,
        cli.endpoint,
        cli.bucket,
        work.prefix
    );
    let warm = Warmup::run(&work, args).await;
    let mut results = Vec::new();
    for &op in &ops {
        let result = run_phase(&work, args, op, ops.contains(&Op::Put), cli.server_pid).await;
        eprintln!(
            "{}: {} ok, {} errors in {:.2} s",
            op.name(),
            result.ok,
            result.errors,
            result.wall.as_secs_f64()
        );
        results.push(result);
    }
    let warm = warm.clean_up().await;

    let summaries: Vec<_> = results.iter().map(report::Summary::new).collect();
    report::print_table(&summaries, args.size.0, args.concurrency);
    println!("{}", warm.line());
    if let Some(path) = &cli.json {
        let doc = json!({
            "tool": "strongbox-bench",
            "version": env!("CARGO_PKG_VERSION"),
            "date": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?,
            "command": cli::redacted_command_line(),
            "endpoint": cli.endpoint.to_string(),
            "bucket": cli.bucket,
            "prefix": work.prefix,
            "object_size": args.size.0,
            "concurrency": args.concurrency,
            "count": args.count,
            "max_secs": args.max_secs,
            "verify": args.verify,
            "sse": args.sse,
            "multipart_part_size": args.multipart_part_size.map(|p| p.0),
            "list_repeat": args.list_repeat,
            "versioned": args.versioned,
            "list_versions": args.list_versions,
            "server_pid": cli.server_pid,
            "warmup": warm.json(),
            "phases": summaries.iter().map(report::phase_json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(results.iter().map(|r| r.errors).sum::<u64>() + warm.errors)
}

/// The phases asked for, in run order, after checking the arguments.
fn checked_ops(args: &RunArgs) -> anyhow::Result<Vec<Op>> {
    let mut ops = args.ops.clone();
    ops.sort();
    ops.dedup();
    if args.verify && !ops.contains(&Op::Put) {
        bail!("--verify needs the put phase: the data is random and generated per run");
    }
    if args.count == 0 || args.concurrency == 0 || args.max_secs <= 0.0 {
        bail!("--count, --concurrency and --max-secs must be positive");
    }
    if args.list_repeat == 0 && ops.contains(&Op::List) {
        bail!("--list-repeat must be positive");
    }
    if args.multipart_part_size.is_some_and(|p| p.0 == 0) {
        bail!("--multipart-part-size must be positive");
    }
    Ok(ops)
}

/// The client of the endpoint, with a pool of `concurrency` connections.
fn connect(cli: &Cli, concurrency: usize) -> anyhow::Result<client::S3> {
    let trust = match (&cli.ca_file, cli.insecure_skip_verify) {
        (Some(p), _) => Some(client::Trust::CaFile(p.clone())),
        (None, true) => Some(client::Trust::InsecureSkipVerify),
        (None, false) => None,
    };
    let signer = sigv4::Signer::new(cli.access_key.clone(), cli.secret_key.clone(), cli.region.clone())
        .with_session_token(cli.session_token.clone());
    client::S3::new(
        &cli.endpoint,
        trust,
        signer,
        cli.region.clone(),
        cli.bucket.clone(),
        concurrency,
    )
}

/// Connects, creates the bucket and generates the data.
async fn workload(cli: &Cli, args: &RunArgs) -> anyhow::Result<Workload> {
    let s3 =
        connect(cli, args.concurrency)?.with_headers(cli::sse_headers(args, true)?, cli::sse_headers(args, false)?);
    let data = random_bytes(args.size.0)?;
    let data_md5 = args.verify.then(|| hex::encode(Md5::digest(&data)));
    let part_size = args
        .multipart_part_size
        .map(|p| usize::try_from(p.0).context("--multipart-part-size does not fit in memory"))
        .transpose()?;
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| format!("bench-{}-{}", args.size, unix_secs()));
    s3.create_bucket().await.context("creating the bucket")?;
    if args.versioned {
        s3.enable_versioning().await.context("turning versioning on")?;
    }
    Ok(Workload {
        s3: Arc::new(s3),
        data,
        data_md5,
        // SSE-KMS, DSSE-KMS and SSE-C ETags are not the MD5 of the data (as on AWS).
        etag_is_md5: matches!(args.sse.as_str(), "none" | "AES256"),
        part_size,
        prefix,
        etags: (0..args.count).map(|_| OnceLock::new()).collect(),
        concurrency: args.concurrency,
        max_time: Duration::from_secs_f64(args.max_secs),
        request_timeout: Duration::from_secs_f64(args.request_timeout),
    })
}

/// One measured phase. GET and DELETE visit the objects this run's PUT
/// phase stored (all `--count` indices without a PUT phase); LIST expects
/// to find exactly those when there was a PUT phase.
async fn run_phase(work: &Arc<Workload>, args: &RunArgs, op: Op, did_put: bool, pid: Option<u32>) -> PhaseResult {
    match op {
        Op::Put => phase::run(work.clone(), op, (0..args.count).collect(), pid).await,
        Op::List => {
            let job = list::ListJob {
                s3: &work.s3,
                prefix: &work.prefix,
                expected_keys: did_put.then(|| work.written(true).len() as u64),
                repeats: args.list_repeat,
                max_time: work.max_time,
                request_timeout: work.request_timeout,
                versions: args.list_versions,
            };
            list::run(job, pid).await
        }
        Op::Get | Op::Delete => phase::run(work.clone(), op, work.written(did_put), pid).await,
    }
}

/// The warm-up: PUTs then GETs of `--warmup` objects under
/// `<prefix>-warmup` before the measured phases, deleted after them.
struct Warmup {
    work: Option<Arc<Workload>>,
    objects: usize,
    errors: u64,
    first_error: Option<String>,
}

impl Warmup {
    async fn run(main: &Workload, args: &RunArgs) -> Self {
        let objects = args.warmup_objects();
        let mut warm = Warmup {
            work: None,
            objects,
            errors: 0,
            first_error: None,
        };
        if objects == 0 {
            return warm;
        }
        let work = Arc::new(Workload {
            s3: main.s3.clone(),
            data: main.data.clone(),
            data_md5: main.data_md5.clone(),
            etag_is_md5: main.etag_is_md5,
            part_size: main.part_size,
            prefix: format!("{}-warmup", main.prefix),
            etags: (0..objects).map(|_| OnceLock::new()).collect(),
            concurrency: main.concurrency,
            max_time: main.max_time,
            request_timeout: main.request_timeout,
        });
        let put = phase::run(work.clone(), Op::Put, (0..objects).collect(), None).await;
        warm.add(&put);
        let get = phase::run(work.clone(), Op::Get, work.written(true), None).await;
        warm.add(&get);
        eprintln!(
            "warm-up: {} PUT, {} GET, {} errors (not counted in the figures)",
            put.ok, get.ok, warm.errors
        );
        warm.work = Some(work);
        warm
    }

    /// Deletes the warm-up objects.
    async fn clean_up(mut self) -> Self {
        if let Some(work) = self.work.clone() {
            let delete = phase::run(work.clone(), Op::Delete, work.written(true), None).await;
            self.add(&delete);
        }
        self
    }

    fn add(&mut self, r: &PhaseResult) {
        self.errors += r.errors;
        if self.first_error.is_none() {
            self.first_error = r.first_error.clone();
        }
    }

    fn line(&self) -> String {
        if self.objects == 0 {
            return "warm-up: off".to_owned();
        }
        let errors = match &self.first_error {
            Some(e) => format!(", {} error(s), first: {e}", self.errors),
            None => String::new(),
        };
        format!(
            "warm-up: {} object(s) PUT, GET and deleted outside the figures{errors}",
            self.objects
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "objects": self.objects,
            "prefix": self.work.as_ref().map(|w| w.prefix.clone()),
            "errors": self.errors,
            "first_error": self.first_error,
        })
    }
}

/// Incompressible object data from the OS random source.
fn random_bytes(len: u64) -> anyhow::Result<bytes::Bytes> {
    let len = usize::try_from(len).context("--size does not fit in memory")?;
    let mut buf = vec![0u8; len];
    let rng = ring::rand::SystemRandom::new();
    for chunk in buf.chunks_mut(1 << 20) {
        rng.fill(chunk)
            .map_err(|_| anyhow::anyhow!("the OS random source failed"))?;
    }
    Ok(buf.into())
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
