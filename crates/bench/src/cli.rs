//! The command line: the options of a run, parsed once into typed values
//! (sizes, operations), and the SSE headers they ask for.
use crate::phase::Op;
use anyhow::bail;
use clap::{Parser, Subcommand};
use http::Uri;
use md5::{Digest, Md5};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "strongbox-bench",
    version,
    about = "S3 load generator: PUT/GET/LIST/DELETE phases with latency, server CPU and memory"
)]
pub struct Cli {
    /// S3 endpoint, e.g. http://127.0.0.1:9080 or https://127.0.0.1:9443
    #[arg(long, env = "S3_ENDPOINT")]
    pub endpoint: Uri,
    #[arg(long, env = "S3_ACCESS_KEY")]
    pub access_key: String,
    #[arg(long, env = "S3_SECRET_KEY", hide_env_values = true)]
    pub secret_key: String,
    /// Session token of temporary (STS) credentials, sent (and signed) as
    /// X-Amz-Security-Token on every request.
    #[arg(long, env = "S3_SESSION_TOKEN", hide_env_values = true)]
    pub session_token: Option<String>,
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub region: String,
    /// PEM file of the certificate(s) to trust for an https:// endpoint.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate on an https:// endpoint (loopback benchmarking only).
    #[arg(long, conflicts_with = "ca_file")]
    pub insecure_skip_verify: bool,
    /// Bucket to use; created when missing.
    #[arg(long, env = "S3_BUCKET", default_value = "strongbox-bench")]
    pub bucket: String,
    /// Server process to charge CPU time and peak memory to (reads
    /// /proc/PID/stat and /proc/PID/status, resets VmHWM through
    /// /proc/PID/clear_refs).
    #[arg(long, global = true, env = "S3_SERVER_PID")]
    pub server_pid: Option<u32>,
    /// Also write the results as JSON to this file.
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run PUT, GET, LIST and/or DELETE phases over one set of objects.
    Run(RunArgs),
    /// Run a mixed, verified workload over a bounded key space for a while,
    /// sampling the server's memory, FDs and temp files (soak test).
    Mixed(crate::mixed::args::MixedArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Object size: bytes (0 is allowed), or with a KiB, MiB or GiB suffix.
    #[arg(long, default_value = "1MiB")]
    pub size: Size,
    /// Requests in flight at once (PUT, GET, DELETE; LIST is sequential).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Phases, run in the order put, get, list, delete.
    #[arg(long, value_delimiter = ',', default_value = "put,get")]
    pub ops: Vec<Op>,
    /// Objects per phase.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Start no new request after this many seconds in a phase.
    #[arg(long, default_value_t = 30.0)]
    pub max_secs: f64,
    /// Give up on one request after this many seconds (counted as an error).
    /// With multipart, one request is the whole upload of an object.
    #[arg(long, default_value_t = 120.0)]
    pub request_timeout: f64,
    /// Check PUT ETags and GET bodies against the data's MD5.
    #[arg(long)]
    pub verify: bool,
    /// Server-side encryption of the objects: none (the bucket default),
    /// AES256, aws:kms, aws:kms:dsse or SSE-C (a random key per run; needs https).
    #[arg(long, default_value = "none")]
    pub sse: String,
    /// KMS key for aws:kms / aws:kms:dsse (default: the AWS managed aws/s3 key).
    #[arg(long)]
    pub sse_kms_key_id: Option<String>,
    /// Ask for S3 Bucket Keys with aws:kms.
    #[arg(long)]
    pub bucket_key: bool,
    /// Upload each object with a multipart upload in parts of this size
    /// (S3 requires at least 5MiB for every part but the last).
    #[arg(long)]
    pub multipart_part_size: Option<Size>,
    /// Objects PUT and then GET before the measured phases, under
    /// <prefix>-warmup, excluded from every figure, deleted at the end.
    /// Default: min(--concurrency, --count) when --ops has put or get, else
    /// 0; 0 turns warm-up off.
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Turn versioning on for the bucket first (PUT ?versioning).
    #[arg(long)]
    pub versioned: bool,
    /// The LIST phase uses ListObjectVersions instead of ListObjectsV2.
    #[arg(long)]
    pub list_versions: bool,
    /// Full listings the LIST phase makes; it reports the median.
    #[arg(long, default_value_t = 3)]
    pub list_repeat: usize,
    /// Key prefix. Default: bench-<size>-<unix time>. Give the prefix of an
    /// earlier run to GET, LIST or DELETE its objects without a PUT phase.
    #[arg(long)]
    pub prefix: Option<String>,
}

impl RunArgs {
    /// The warm-up object count: `--warmup`, else min(concurrency, count)
    /// for a run that PUTs or GETs (a LIST or DELETE of an earlier run's
    /// objects writes nothing unless asked to).
    pub fn warmup_objects(&self) -> usize {
        let moves_data = self.ops.iter().any(|op| matches!(op, Op::Put | Op::Get));
        let default = if moves_data {
            self.concurrency.min(self.count)
        } else {
            0
        };
        self.warmup.unwrap_or(default)
    }
}

/// The SSE request headers of `args` for a PUT (`put`) or a GET.
pub fn sse_headers(args: &RunArgs, put: bool) -> anyhow::Result<http::HeaderMap> {
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
            let key = SSE_C_KEY
                .get_or_init(|| crate::random_bytes(32).unwrap_or_else(|_| bytes::Bytes::from_static(&[7; 32])));
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

/// Options whose values are credentials, never written to results.
const SECRET_OPTIONS: [&str; 2] = ["--secret-key", "--session-token"];

/// This process's command line with the `--secret-key` and `--session-token` values hidden.
pub fn redacted_command_line() -> String {
    redact(std::env::args())
}

fn redact(argv: impl Iterator<Item = String>) -> String {
    let mut hide_next = false;
    let args = argv.map(|a| {
        let inline = SECRET_OPTIONS
            .iter()
            .find(|o| a.strip_prefix(*o).is_some_and(|rest| rest.starts_with('=')));
        let shown = if let Some(option) = inline {
            format!("{option}=<secret>")
        } else if hide_next {
            "<secret>".to_owned()
        } else {
            a.clone()
        };
        hide_next = SECRET_OPTIONS.contains(&a.as_str());
        shown
    });
    args.collect::<Vec<_>>().join(" ")
}

/// A byte count written as `4096`, `4KiB`, `64MiB` or `1GiB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

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
    fn credentials_are_hidden_in_recorded_command_lines() {
        let argv = [
            "bench",
            "--secret-key",
            "S1",
            "--session-token=T1",
            "--session-token",
            "T2",
            "--secret-key=S2",
            "run",
        ];
        let shown = redact(argv.iter().map(|s| s.to_string()));
        assert_eq!(
            shown,
            "bench --secret-key <secret> --session-token=<secret> --session-token <secret> --secret-key=<secret> run"
        );
    }

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
        let Command::Run(args) = &cli.command else {
            panic!("not run")
        };
        assert_eq!(args.size, Size(64 << 20));
        assert_eq!(args.ops, vec![Op::Put, Op::Get]);
        assert_eq!(cli.server_pid, Some(1));
    }

    #[test]
    fn cli_parses_the_mixed_command() {
        let cli = Cli::try_parse_from([
            "strongbox-bench",
            "--endpoint",
            "http://127.0.0.1:9080",
            "--access-key",
            "AK",
            "--secret-key",
            "SK",
            "mixed",
            "--mix",
            "put=40,get=40,list=5,delete=10,multipart=5",
            "--sizes",
            "4KiB,256KiB,8MiB",
            "--duration",
            "30m",
            "--concurrency",
            "8",
            "--server-pid",
            "7",
            "--server-tmp-dir",
            "/d/tmp",
        ])
        .unwrap();
        let Command::Mixed(args) = &cli.command else {
            panic!("not mixed")
        };
        assert_eq!(args.sizes, vec![Size(4 << 10), Size(256 << 10), Size(8 << 20)]);
        assert_eq!(args.duration.0, std::time::Duration::from_secs(1800));
        assert_eq!(args.mix.to_string(), "put=40,get=40,list=5,delete=10,multipart=5");
        assert_eq!(cli.server_pid, Some(7));
        assert_eq!(args.keys, 64);
    }

    #[test]
    fn cli_parses_list_multipart_and_warmup() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["strongbox-bench", "--endpoint", "http://h:1", "--access-key", "A"];
            argv.extend(["--secret-key", "S", "run"]);
            argv.extend(extra);
            Cli::try_parse_from(argv).unwrap()
        };
        let cli = parse(&[
            "--size",
            "0",
            "--ops",
            "delete,list,put",
            "--multipart-part-size",
            "5MiB",
            "--warmup",
            "0",
            "--list-repeat",
            "5",
        ]);
        let Command::Run(args) = &cli.command else {
            panic!("not run")
        };
        assert_eq!(args.size, Size(0));
        assert_eq!(args.ops, vec![Op::Delete, Op::List, Op::Put]);
        assert_eq!(args.multipart_part_size, Some(Size(5 << 20)));
        assert_eq!(args.warmup_objects(), 0);
        assert_eq!(args.list_repeat, 5);
        let cli = parse(&["--concurrency", "32", "--count", "3"]);
        let Command::Run(args) = &cli.command else {
            panic!("not run")
        };
        assert_eq!(args.warmup_objects(), 3);
        let cli = parse(&["--ops", "list,delete", "--prefix", "p"]);
        let Command::Run(args) = &cli.command else {
            panic!("not run")
        };
        assert_eq!(args.warmup_objects(), 0);
        assert_eq!(args.list_repeat, 3);
        assert_eq!(args.multipart_part_size, None);
    }
}
