//! `strongbox-bench`: a small S3 load generator for measuring Strongbox (or
//! any S3 endpoint) on one machine. A run creates the bucket if needed, then
//! runs phases in order (PUT, GET, DELETE, whichever were asked for) over
//! `--count` objects of one size, with `--concurrency` requests in flight,
//! each phase bounded by `--max-secs`. It reports throughput, latency
//! percentiles and, with `--server-pid`, the server's CPU time per GiB or
//! per operation, which stays comparable on a shared, loaded machine when
//! wall-clock numbers do not.
//!
//! It owns nothing of the server: it talks to it over HTTP(S) only
//! (path-style, SigV4 with `UNSIGNED-PAYLOAD`, HTTP/1.1 keep-alive). It does
//! not exercise multipart, aws-chunked bodies, ranged GETs or listings.
//! Object bodies are one incompressible random buffer, generated once and
//! shared by every PUT. `docs/benchmarks.md` says how to use it and records
//! measured numbers.
mod client;
mod phase;
mod procfs;
mod report;
mod sigv4;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use http::Uri;
use md5::{Digest, Md5};
use phase::{Op, Workload};
use ring::rand::SecureRandom;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "strongbox-bench",
    version,
    about = "S3 load generator: PUT/GET/DELETE phases with latency and server CPU cost"
)]
struct Cli {
    /// S3 endpoint, e.g. http://127.0.0.1:9080 or https://127.0.0.1:9443
    #[arg(long, env = "S3_ENDPOINT")]
    endpoint: Uri,
    #[arg(long, env = "S3_ACCESS_KEY")]
    access_key: String,
    #[arg(long, env = "S3_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    region: String,
    /// PEM file of the certificate(s) to trust for an https:// endpoint.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Accept any certificate on an https:// endpoint (loopback benchmarking only).
    #[arg(long, conflicts_with = "ca_file")]
    insecure_skip_verify: bool,
    /// Bucket to use; created when missing.
    #[arg(long, env = "S3_BUCKET", default_value = "strongbox-bench")]
    bucket: String,
    /// Server process to charge CPU time to (reads /proc/PID/stat).
    #[arg(long, global = true, env = "S3_SERVER_PID")]
    server_pid: Option<u32>,
    /// Also write the results as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run PUT, GET and/or DELETE phases over one set of objects.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Object size: bytes, or with a KiB, MiB or GiB suffix.
    #[arg(long, default_value = "1MiB")]
    size: Size,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Phases, run in the order put, get, delete.
    #[arg(long, value_delimiter = ',', default_value = "put,get")]
    ops: Vec<Op>,
    /// Objects per phase.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Start no new request after this many seconds in a phase.
    #[arg(long, default_value_t = 30.0)]
    max_secs: f64,
    /// Give up on one request after this many seconds (counted as an error).
    #[arg(long, default_value_t = 120.0)]
    request_timeout: f64,
    /// Check PUT ETags and GET bodies against the data's MD5.
    #[arg(long)]
    verify: bool,
    /// Server-side encryption of the objects: none (the bucket default),
    /// AES256, aws:kms, aws:kms:dsse or SSE-C (a random key per run; needs https).
    #[arg(long, default_value = "none")]
    sse: String,
    /// KMS key for aws:kms / aws:kms:dsse (default: the AWS managed aws/s3 key).
    #[arg(long)]
    sse_kms_key_id: Option<String>,
    /// Ask for S3 Bucket Keys with aws:kms.
    #[arg(long)]
    bucket_key: bool,
    /// Key prefix. Default: bench-<size>-<unix time>. Give the prefix of an
    /// earlier run to GET or DELETE its objects without a PUT phase.
    #[arg(long)]
    prefix: Option<String>,
}

/// The SSE request headers of `args` for a PUT (`put`) or a GET.
fn sse_headers(args: &RunArgs, put: bool) -> anyhow::Result<http::HeaderMap> {
    use base64::Engine as _;
    let mut h = http::HeaderMap::new();
    let mut set = |k: &'static str, v: &str| -> anyhow::Result<()> {
        h.insert(k, http::HeaderValue::from_str(v)?);
        Ok(())
    };
    match args.sse.as_str() {
        "none" => {}
        "AES256" | "aws:kms" | "aws:kms:dsse" if put => {
            set("x-amz-server-side-encryption", &args.sse)?;
            if let Some(k) = &args.sse_kms_key_id {
                set("x-amz-server-side-encryption-aws-kms-key-id", k)?;
            }
            if args.bucket_key {
                set("x-amz-server-side-encryption-bucket-key-enabled", "true")?;
            }
        }
        "AES256" | "aws:kms" | "aws:kms:dsse" => {}
        "SSE-C" => {
            let key =
                SSE_C_KEY.get_or_init(|| random_bytes(32).unwrap_or_else(|_| bytes::Bytes::from_static(&[7; 32])));
            let b64 = base64::engine::general_purpose::STANDARD;
            set("x-amz-server-side-encryption-customer-algorithm", "AES256")?;
            set("x-amz-server-side-encryption-customer-key", &b64.encode(key))?;
            set(
                "x-amz-server-side-encryption-customer-key-md5",
                &b64.encode(Md5::digest(key)),
            )?;
        }
        other => bail!("--sse {other:?}: expected none, AES256, aws:kms, aws:kms:dsse or SSE-C"),
    }
    Ok(h)
}

/// The SSE-C key of this run (one for PUT and GET).
static SSE_C_KEY: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();

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

/// Runs the phases, prints the table, writes the JSON; returns the error count.
async fn run(cli: Cli) -> anyhow::Result<u64> {
    let Command::Run(args) = &cli.command;
    let mut ops = args.ops.clone();
    ops.sort();
    ops.dedup();
    if args.verify && !ops.contains(&Op::Put) {
        bail!("--verify needs the put phase: the data is random and generated per run");
    }
    if args.count == 0 || args.concurrency == 0 || args.max_secs <= 0.0 {
        bail!("--count, --concurrency and --max-secs must be positive");
    }
    let trust = match (&cli.ca_file, cli.insecure_skip_verify) {
        (Some(p), _) => Some(client::Trust::CaFile(p.clone())),
        (None, true) => Some(client::Trust::InsecureSkipVerify),
        (None, false) => None,
    };
    let signer = sigv4::Signer::new(cli.access_key.clone(), cli.secret_key.clone(), cli.region.clone());
    let s3 = client::S3::new(
        &cli.endpoint,
        trust,
        signer,
        cli.region.clone(),
        cli.bucket.clone(),
        args.concurrency,
    )?
    .with_headers(sse_headers(args, true)?, sse_headers(args, false)?);
    let data = random_bytes(args.size.0)?;
    let data_md5 = args.verify.then(|| hex::encode(Md5::digest(&data)));
    // SSE-KMS, DSSE-KMS and SSE-C ETags are not the MD5 of the data (as on AWS).
    let etag_is_md5 = matches!(args.sse.as_str(), "none" | "AES256");
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| format!("bench-{}-{}", args.size, unix_secs()));
    s3.create_bucket().await.context("creating the bucket")?;

    let work = Arc::new(Workload {
        s3,
        data,
        data_md5,
        etag_is_md5,
        prefix,
        etags: (0..args.count).map(|_| OnceLock::new()).collect(),
        concurrency: args.concurrency,
        max_time: Duration::from_secs_f64(args.max_secs),
        request_timeout: Duration::from_secs_f64(args.request_timeout),
    });
    eprintln!(
        "{} {} objects of {} at concurrency {} to {} bucket {} prefix {}",
        ops.iter().map(|o| o.name()).collect::<Vec<_>>().join("+"),
        args.count,
        args.size,
        args.concurrency,
        cli.endpoint,
        cli.bucket,
        work.prefix
    );
    let did_put = ops.contains(&Op::Put);
    let mut results = Vec::new();
    for op in ops {
        let indices = if op == Op::Put {
            (0..args.count).collect()
        } else {
            work.written(did_put)
        };
        let result = phase::run(work.clone(), op, indices, cli.server_pid).await;
        eprintln!(
            "{}: {} ok, {} errors in {:.2} s",
            op.name(),
            result.ok,
            result.errors,
            result.wall.as_secs_f64()
        );
        results.push(result);
    }

    let summaries: Vec<_> = results.iter().map(report::Summary::new).collect();
    report::print_table(&summaries, args.size.0, args.concurrency);
    if let Some(path) = &cli.json {
        let doc = serde_json::json!({
            "tool": "strongbox-bench",
            "version": env!("CARGO_PKG_VERSION"),
            "date": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?,
            "command": redacted_command_line(),
            "endpoint": cli.endpoint.to_string(),
            "bucket": cli.bucket,
            "prefix": work.prefix,
            "object_size": args.size.0,
            "concurrency": args.concurrency,
            "count": args.count,
            "max_secs": args.max_secs,
            "verify": args.verify,
            "server_pid": cli.server_pid,
            "phases": summaries.iter().map(report::phase_json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(results.iter().map(|r| r.errors).sum())
}

/// This process's command line with the `--secret-key` value hidden.
fn redacted_command_line() -> String {
    let mut hide_next = false;
    let args = std::env::args().map(|a| {
        let shown = if a.starts_with("--secret-key=") {
            "--secret-key=<secret>".to_owned()
        } else if hide_next {
            "<secret>".to_owned()
        } else {
            a.clone()
        };
        hide_next = a == "--secret-key";
        shown
    });
    args.collect::<Vec<_>>().join(" ")
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

/// A byte count written as `4096`, `4KiB`, `64MiB` or `1GiB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Size(u64);

impl std::str::FromStr for Size {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{s:?}: expected a number with an optional KiB/MiB/GiB suffix"))?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kib" => 10,
            "m" | "mib" => 20,
            "g" | "gib" => 30,
            other => {
                return Err(format!("{s:?}: unknown unit {other:?} (use KiB, MiB or GiB)"));
            }
        };
        n.checked_mul(1 << shift)
            .map(Size)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        match n {
            0 => write!(f, "0B"),
            _ if n.is_multiple_of(1 << 30) => write!(f, "{}GiB", n >> 30),
            _ if n.is_multiple_of(1 << 20) => write!(f, "{}MiB", n >> 20),
            _ if n.is_multiple_of(1 << 10) => write!(f, "{}KiB", n >> 10),
            _ => write!(f, "{n}B"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        for (text, bytes, shown) in [
            ("4KiB", 4096, "4KiB"),
            ("64MiB", 64 << 20, "64MiB"),
            ("1GiB", 1 << 30, "1GiB"),
            ("1000", 1000, "1000B"),
            ("2m", 2 << 20, "2MiB"),
        ] {
            let size: Size = text.parse().unwrap();
            assert_eq!(size, Size(bytes));
            assert_eq!(size.to_string(), shown);
        }
        assert!("64MB".parse::<Size>().is_err());
        assert!("MiB".parse::<Size>().is_err());
        assert!("99999999999GiB".parse::<Size>().is_err());
    }

    #[test]
    fn cli_parses_the_documented_command() {
        let cli = Cli::try_parse_from([
            "strongbox-bench",
            "--endpoint",
            "http://127.0.0.1:9080",
            "--access-key",
            "AK",
            "--secret-key",
            "SK",
            "run",
            "--size",
            "64MiB",
            "--concurrency",
            "8",
            "--ops",
            "put,get",
            "--count",
            "8",
            "--max-secs",
            "20",
            "--server-pid",
            "1",
            "--json",
            "out.json",
        ])
        .unwrap();
        let Command::Run(args) = &cli.command;
        assert_eq!(args.size, Size(64 << 20));
        assert_eq!(args.ops, vec![Op::Put, Op::Get]);
        assert_eq!(cli.server_pid, Some(1));
    }
}
