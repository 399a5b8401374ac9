//! Layered configuration: raw values from flags, the environment and an
//! optional TOML file are merged field by field (flags > env > file >
//! defaults), then converted once into the server's checked `Config`. An
//! invalid value is refused with the name of the field that holds it.
use anyhow::{Context, anyhow, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use strongbox_server::{Config, ConnLimits, RootKeySource};
use zeroize::Zeroizing;

#[derive(clap::Args, Default)]
pub struct ServeArgs {
    /// Configuration file (TOML). Default: ./strongbox.toml when present.
    #[arg(long, env = "STRONGBOX_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (created 0700). Default: ./strongbox-data
    #[arg(long, env = "STRONGBOX_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// HTTP listen address, or `off`. Default: 127.0.0.1:9080
    #[arg(long, env = "STRONGBOX_HTTP_ADDR")]
    http_addr: Option<String>,
    /// HTTPS listen address, or `off`. Default: 127.0.0.1:9443
    #[arg(long, env = "STRONGBOX_HTTPS_ADDR")]
    https_addr: Option<String>,
    /// PEM certificate chain for HTTPS (with --tls-key). Default: self-signed, generated into the data dir.
    #[arg(long, env = "STRONGBOX_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, env = "STRONGBOX_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Region the endpoint serves. Default: us-east-1
    #[arg(long, env = "STRONGBOX_REGION")]
    region: Option<String>,
    /// Base domains for virtual-hosted-style addressing (comma-separated). Default: localhost
    #[arg(long, env = "STRONGBOX_BASE_DOMAINS", value_delimiter = ',')]
    base_domain: Option<Vec<String>>,
    /// Accept Signature Version 2 (header and presigned). Default: true
    #[arg(long, env = "STRONGBOX_SIGV2")]
    sigv2: Option<bool>,
    /// File holding the base64 root key. Default: <data-dir>/root.key (generated)
    #[arg(long, env = "STRONGBOX_ROOT_KEY_FILE")]
    root_key_file: Option<PathBuf>,
    /// Seconds to let in-flight requests finish on SIGTERM. Default: 30
    #[arg(long, env = "STRONGBOX_SHUTDOWN_TIMEOUT")]
    shutdown_timeout: Option<u64>,
    /// KMS cryptographic requests per second and account (TOML `[kms] requests_per_second`). Default: no limit
    #[arg(long, env = "STRONGBOX_KMS_REQUESTS_PER_SECOND")]
    kms_requests_per_second: Option<u32>,
    /// Seconds from a request's first byte to the end of its headers (slowloris guard). Default: 10
    #[arg(long, env = "STRONGBOX_HEADER_READ_TIMEOUT")]
    header_read_timeout: Option<u64>,
    /// Seconds a kept-alive connection may sit without a request. Default: 30
    #[arg(long, env = "STRONGBOX_IDLE_TIMEOUT")]
    idle_timeout: Option<u64>,
    /// Seconds a request body may stall (400 RequestTimeout) or a response go unread. Default: 30
    #[arg(long, env = "STRONGBOX_BODY_TIMEOUT")]
    body_timeout: Option<u64>,
    /// Largest request header section in bytes (400 RequestHeaderSectionTooLarge beyond). Default: 8192
    #[arg(long, env = "STRONGBOX_MAX_HEADER_BYTES")]
    max_header_bytes: Option<usize>,
    /// Connections served at once over all listeners; more wait to be accepted. Default: 1024
    #[arg(long, env = "STRONGBOX_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
}

/// `strongbox.toml`: the same settings as the flags.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    http_addr: Option<String>,
    https_addr: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    region: Option<String>,
    base_domains: Option<Vec<String>>,
    sigv2: Option<bool>,
    root_key_file: Option<PathBuf>,
    shutdown_timeout: Option<u64>,
    kms: Option<KmsFileConfig>,
    header_read_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    body_timeout: Option<u64>,
    max_header_bytes: Option<usize>,
    max_connections: Option<usize>,
}

/// The `[kms]` table of `strongbox.toml`.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KmsFileConfig {
    /// Cryptographic requests per second and account; absent: no limit.
    requests_per_second: Option<u32>,
    /// Size at which `audit/kms.log` is rotated. Default: 64 MiB
    audit_log_max_bytes: Option<u64>,
}

pub fn resolve(a: ServeArgs) -> anyhow::Result<Config> {
    let file = load_file(a.config.as_ref())?;
    let data_dir = a
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("strongbox-data"));
    let http_addr = listen_addr("http_addr", a.http_addr.or(file.http_addr), "127.0.0.1:9080")?;
    let https_addr = listen_addr("https_addr", a.https_addr.or(file.https_addr), "127.0.0.1:9443")?;
    let tls_cert = a.tls_cert.or(file.tls_cert);
    let tls_key = a.tls_key.or(file.tls_key);
    if tls_cert.is_some() != tls_key.is_some() {
        bail!("tls_cert and tls_key must be given together");
    }
    let region = a.region.or(file.region).unwrap_or_else(|| "us-east-1".into());
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        bail!("region: {region:?} is not a region name (e.g. us-east-1)");
    }
    let base_domains = a
        .base_domain
        .or(file.base_domains)
        .unwrap_or_else(|| vec!["localhost".into()]);
    if base_domains.iter().any(|d| d.is_empty() || d.contains(['/', ':', ' '])) {
        bail!("base_domains: each entry must be a bare DNS name (got {base_domains:?})");
    }
    let root_key = match std::env::var("STRONGBOX_ROOT_KEY") {
        Ok(k) => RootKeySource::Inline(Zeroizing::new(k)),
        Err(_) => RootKeySource::File(
            a.root_key_file
                .or(file.root_key_file)
                .unwrap_or_else(|| data_dir.join("root.key")),
        ),
    };
    let root_credentials = match (
        std::env::var("STRONGBOX_ROOT_ACCESS_KEY"),
        std::env::var("STRONGBOX_ROOT_SECRET_KEY"),
    ) {
        (Ok(ak), Ok(sk)) => Some((ak, Zeroizing::new(sk))),
        (Err(_), Err(_)) => None,
        _ => bail!("STRONGBOX_ROOT_ACCESS_KEY and STRONGBOX_ROOT_SECRET_KEY must be set together"),
    };
    let defaults = ConnLimits::default();
    Ok(Config {
        data_dir,
        http_addr,
        https_addr,
        tls_cert,
        tls_key,
        region,
        base_domains,
        sigv2: a.sigv2.or(file.sigv2).unwrap_or(true),
        root_credentials,
        root_key,
        shutdown_timeout: Duration::from_secs(a.shutdown_timeout.or(file.shutdown_timeout).unwrap_or(30)),
        kms: kms_config(a.kms_requests_per_second, file.kms.unwrap_or_default())?,
        limits: ConnLimits {
            header_read_timeout: seconds(
                "header_read_timeout",
                a.header_read_timeout.or(file.header_read_timeout),
                defaults.header_read_timeout,
            )?,
            idle_timeout: seconds(
                "idle_timeout",
                a.idle_timeout.or(file.idle_timeout),
                defaults.idle_timeout,
            )?,
            body_timeout: seconds(
                "body_timeout",
                a.body_timeout.or(file.body_timeout),
                defaults.body_timeout,
            )?,
            max_header_bytes: bounded(
                "max_header_bytes",
                a.max_header_bytes.or(file.max_header_bytes),
                defaults.max_header_bytes,
                1024..=1024 * 1024,
            )?,
            max_connections: bounded(
                "max_connections",
                a.max_connections.or(file.max_connections),
                defaults.max_connections,
                1..=1_000_000,
            )?,
        },
    })
}

/// A timeout in whole seconds, at least 1.
fn seconds(field: &str, value: Option<u64>, default: Duration) -> anyhow::Result<Duration> {
    match value {
        None => Ok(default),
        Some(0) => bail!("{field}: must be at least 1 second"),
        Some(s) => Ok(Duration::from_secs(s)),
    }
}

fn bounded(
    field: &str,
    value: Option<usize>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> anyhow::Result<usize> {
    let v = value.unwrap_or(default);
    if !range.contains(&v) {
        bail!("{field}: {v} is outside {}..={}", range.start(), range.end());
    }
    Ok(v)
}

fn kms_config(flag: Option<u32>, file: KmsFileConfig) -> anyhow::Result<strongbox_kms::KmsConfig> {
    let per_second = flag.or(file.requests_per_second);
    if per_second == Some(0) {
        bail!("kms.requests_per_second: must be at least 1 (leave it out for no limit)");
    }
    let audit_max_bytes = file
        .audit_log_max_bytes
        .unwrap_or(strongbox_kms::DEFAULT_AUDIT_MAX_BYTES);
    if audit_max_bytes < 4096 {
        bail!("kms.audit_log_max_bytes: must be at least 4096");
    }
    Ok(strongbox_kms::KmsConfig {
        crypto_requests_per_second: per_second,
        audit_max_bytes,
    })
}

/// Where an admin command finds the data directory and root key: the same
/// sources and precedence as `serve`.
pub fn data_location(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    root_key_file: Option<PathBuf>,
) -> anyhow::Result<(PathBuf, RootKeySource)> {
    let file = load_file(config.as_ref())?;
    let data_dir = data_dir
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("strongbox-data"));
    let root_key = match std::env::var("STRONGBOX_ROOT_KEY") {
        Ok(k) => RootKeySource::Inline(Zeroizing::new(k)),
        Err(_) => RootKeySource::File(
            root_key_file
                .or(file.root_key_file)
                .unwrap_or_else(|| data_dir.join("root.key")),
        ),
    };
    Ok((data_dir, root_key))
}

fn load_file(explicit: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
    let path = match explicit {
        Some(p) => p.clone(),
        None if PathBuf::from("strongbox.toml").exists() => PathBuf::from("strongbox.toml"),
        None => return Ok(FileConfig::default()),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        anyhow!("{}: {}", path.display(), e.message())
            .context(e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_default())
    })
}

fn listen_addr(field: &str, value: Option<String>, default: &str) -> anyhow::Result<Option<SocketAddr>> {
    let v = value.unwrap_or_else(|| default.to_owned());
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| anyhow!("{field}: {v:?} is not an address like 127.0.0.1:9080 (or `off`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_off() {
        let c = resolve(ServeArgs {
            http_addr: Some("off".into()),
            config: Some(PathBuf::from("/nonexistent/none.toml")),
            ..Default::default()
        });
        assert!(c.is_err(), "a named config file that does not exist is an error");
        let c = resolve(ServeArgs {
            http_addr: Some("off".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.http_addr, None);
        assert_eq!(c.https_addr, Some("127.0.0.1:9443".parse().unwrap()));
        assert_eq!(c.region, "us-east-1");
        assert!(c.sigv2);
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = resolve(ServeArgs {
            https_addr: Some("nonsense".into()),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("https_addr"), "{e}");
        let e = resolve(ServeArgs {
            region: Some("US East".into()),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("region"), "{e}");
    }

    #[test]
    fn file_fills_what_flags_leave_and_rejects_unknown_fields() {
        let dir = tempfile_dir();
        let f = dir.join("s.toml");
        std::fs::write(&f, "region = \"eu-west-1\"\nhttp_addr = \"127.0.0.1:1\"\n").unwrap();
        let c = resolve(ServeArgs {
            config: Some(f.clone()),
            http_addr: Some("127.0.0.1:2".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.http_addr, Some("127.0.0.1:2".parse().unwrap()), "flag beats file");
        std::fs::write(&f, "regoin = \"eu-west-1\"\n").unwrap();
        let e = resolve(ServeArgs {
            config: Some(f),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("regoin"), "{e:#}");
    }

    #[test]
    fn connection_limits_layer_and_are_checked() {
        let dir = tempfile_dir();
        let f = dir.join("limits.toml");
        std::fs::write(&f, "idle_timeout = 7\nmax_connections = 3\n").unwrap();
        let c = resolve(ServeArgs {
            config: Some(f.clone()),
            max_connections: Some(5),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(7));
        assert_eq!(c.limits.max_connections, 5, "flag beats file");
        assert_eq!(c.limits.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.max_header_bytes, 8192);
        let e = resolve(ServeArgs {
            body_timeout: Some(0),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("body_timeout"), "{e}");
        let e = resolve(ServeArgs {
            max_header_bytes: Some(10),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("max_header_bytes"), "{e}");
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("strongbox-cfg-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
