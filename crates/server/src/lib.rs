//! The Strongbox server: listeners (HTTP and HTTPS via rustls),
//! authentication and the authorization gate, the outer service that wraps
//! s3s, and the S3 API over the engine.
//!
//! Request path: accept → TLS → outer service (request id, health) → s3s
//! (SigV2/SigV4, routing, DTOs) → [`auth::Gate`] (request context,
//! authorization) → [`s3::StrongboxS3`] handler → engine → response (ids,
//! error decoration, metrics). See ARCHITECTURE.md.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod actions;
pub mod admin;
pub mod auth;
pub mod authz;
mod aws_errors;
pub mod bootstrap;
pub mod conditions;
mod conn_guard;
pub mod context;
mod control;
pub mod fsck;
#[doc(hidden)]
pub mod fuzzing;
mod host;
pub mod limits;
mod listener;
pub mod metrics;
mod post_form;
pub mod rotate;
mod s3;
mod service;
mod sigv2_compat;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use strongbox_blob::BlobStore;
use strongbox_crypto::RootKeyProvider;
use strongbox_engine::Engine;
use strongbox_meta::{MetaStore, SqliteStore};
use zeroize::Zeroizing;

pub use bootstrap::RootKeySource;
pub use limits::ConnLimits;

/// Checked configuration (the CLI parses and layers the raw values).
pub struct Config {
    pub data_dir: PathBuf,
    pub http_addr: Option<SocketAddr>,
    pub https_addr: Option<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub region: String,
    pub base_domains: Vec<String>,
    pub sigv2: bool,
    pub root_credentials: Option<(String, Zeroizing<String>)>,
    pub root_key: RootKeySource,
    pub shutdown_timeout: Duration,
    /// The built-in KMS: quota and audit log rotation.
    pub kms: strongbox_kms::KmsConfig,
    /// Connection hardening: timeouts, header size, connection count.
    pub limits: ConnLimits,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("metadata: {0}")]
    Meta(String),
    #[error("storage: {0}")]
    Engine(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// What a started server reports once its listeners are bound.
pub struct Started {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub cert_path: Option<PathBuf>,
    pub account_id: String,
    pub access_key: String,
    /// The secret, only when generated on this start (to print once).
    pub new_secret: Option<(Zeroizing<String>, PathBuf)>,
}

/// Runs the server until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (bounded by `shutdown_timeout`) and returns.
pub async fn run(
    cfg: Config,
    on_start: impl FnOnce(&Started),
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    bootstrap::create_private_dir(&cfg.data_dir)?;
    // Held until the server stops: no second server, and no root key rotation, on this data dir.
    let _data_dir_lock = rotate::lock_data_dir(&cfg.data_dir)?;
    let meta_path = cfg.data_dir.join("meta.db");
    let store = SqliteStore::open(&meta_path).map_err(|e| ServerError::Meta(e.to_string()))?;
    rotate::recover(&cfg.root_key, &store).await?;
    let root_key = Arc::new(bootstrap::load_root_key(&cfg.root_key)?);
    let meta: Arc<dyn MetaStore> = Arc::new(store);
    let given = cfg.root_credentials.clone();
    let creds = bootstrap::root_credentials(meta.as_ref(), &root_key, &cfg.data_dir, given).await?;
    let blobs = BlobStore::open(&cfg.data_dir)
        .await
        .map_err(|e| ServerError::Engine(e.to_string()))?;
    let keys = Arc::new(RootKeyProvider::new(root_key.as_ref().clone()));
    let engine = Engine::open(Arc::clone(&meta), blobs, keys)
        .await
        .map_err(|e| ServerError::Engine(e.to_string()))?;

    let kms = Arc::new(
        strongbox_kms::Kms::new(
            Arc::clone(&meta),
            Arc::clone(&root_key),
            &cfg.region,
            &cfg.data_dir,
            cfg.kms.clone(),
        )
        .map_err(|e| ServerError::Config(format!("opening the KMS audit log: {e}")))?,
    );
    let authz = Arc::new(authz::Authorizer::new(Arc::clone(&meta), Arc::clone(&root_key)));
    let control = control::ControlService {
        engine: engine.clone(),
        authz: Arc::clone(&authz),
        resolver: strongbox_identity::Resolver::new(Arc::clone(&meta), Arc::clone(&root_key)),
        region: cfg.region.clone(),
    };
    let s3 = build_s3(
        &cfg,
        engine,
        Arc::clone(&meta),
        Arc::clone(&root_key),
        Arc::clone(&kms),
        authz,
    )?;
    let iam = strongbox_iam::IamService {
        meta: Arc::clone(&meta),
        root_key: Arc::clone(&root_key),
        region: cfg.region.clone(),
        sts_min_duration_s: sts_min_duration(),
    };
    let outer = Arc::new(service::Outer {
        s3,
        iam,
        kms: Arc::clone(&kms),
        control,
        metrics: Arc::new(metrics::Metrics::default()),
        limits: cfg.limits.clone(),
        sigv2: sigv2_compat::BucketSlash {
            creds: Arc::new(auth::Credentials {
                meta: Arc::clone(&meta),
                root_key: Arc::clone(&root_key),
            }),
            hosts: host::BaseDomains {
                domains: cfg.base_domains.clone(),
            },
        },
    });

    let (tx, rx) = tokio::sync::watch::channel(false);
    let shared = Arc::new(listener::Shared {
        outer,
        graceful: hyper_util::server::graceful::GracefulShutdown::new(),
        limits: cfg.limits.clone(),
        slots: Arc::new(tokio::sync::Semaphore::new(cfg.limits.max_connections)),
    });
    let mut started = Started {
        http: None,
        https: None,
        cert_path: None,
        account_id: creds.account.to_string(),
        access_key: creds.access_key.clone(),
        new_secret: creds.generated_file.map(|f| (creds.secret_key.clone(), f)),
    };
    let mut tasks = Vec::new();
    if let Some(addr) = cfg.http_addr {
        let l = bind(addr).await?;
        started.http = l.local_addr().ok();
        tasks.push(tokio::spawn(listener::serve(
            l,
            context::Listener::Http,
            None,
            Arc::clone(&shared),
            rx.clone(),
        )));
    }
    if let Some(addr) = cfg.https_addr {
        let (cert, key) = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone()),
            _ => {
                let (c, k) = tls::default_paths(&cfg.data_dir);
                tls::ensure_self_signed(&c, &k)?;
                (c, k)
            }
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(&cert, &key)?);
        let l = bind(addr).await?;
        started.https = l.local_addr().ok();
        started.cert_path = Some(cert);
        tasks.push(tokio::spawn(listener::serve(
            l,
            context::Listener::Https,
            Some(acceptor),
            Arc::clone(&shared),
            rx.clone(),
        )));
    }
    if tasks.is_empty() {
        return Err(ServerError::Config(
            "both listeners are off: enable --http-addr or --https-addr".into(),
        ));
    }
    on_start(&started);
    shutdown.await;
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    let _ = tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    // INVARIANT: the accept loops have returned and connections hold only
    // watchers, so `shared` (and its tracker) has no other owner.
    match Arc::try_unwrap(shared).map(|s| s.graceful) {
        Ok(graceful) => {
            if tokio::time::timeout(cfg.shutdown_timeout, graceful.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("in-flight requests did not finish within the shutdown timeout");
            }
        }
        Err(_) => tracing::error!("connection tracker still shared at shutdown; not waiting for in-flight requests"),
    }
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServerError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

fn build_s3(
    cfg: &Config,
    engine: Engine,
    meta: Arc<dyn MetaStore>,
    root_key: Arc<strongbox_crypto::RootKey>,
    kms: Arc<strongbox_kms::Kms>,
    authz: Arc<authz::Authorizer>,
) -> Result<s3s::service::S3Service, ServerError> {
    let mut s3cfg = s3s::config::S3Config::default();
    s3cfg.enable_sig_v2 = cfg.sigv2;
    s3cfg.expected_region = Some(
        s3s::region::Region::new(cfg.region.clone().into_boxed_str())
            .map_err(|_| ServerError::Config(format!("invalid region {:?}", cfg.region)))?,
    );
    let mut b = s3s::service::S3ServiceBuilder::new(s3::StrongboxS3::new(
        engine,
        Arc::clone(&authz),
        cfg.region.clone(),
        kms,
    ));
    b.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(s3cfg))));
    // INVARIANT: auth is always set; without it s3s skips the access gate entirely.
    b.set_auth(auth::Credentials {
        meta: Arc::clone(&meta),
        root_key: Arc::clone(&root_key),
    });
    b.set_access(auth::Gate {
        meta,
        root_key,
        authz,
        region: cfg.region.clone(),
    });
    b.set_host(host::BaseDomains {
        domains: cfg.base_domains.clone(),
    });
    Ok(b.build())
}

/// The shortest STS session accepted: AWS's 900 s, unless
/// `STRONGBOX_TEST_STS_MIN_DURATION_SECONDS` (for tests that watch sessions
/// expire) says less. Never above 900.
fn sts_min_duration() -> u64 {
    std::env::var("STRONGBOX_TEST_STS_MIN_DURATION_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(900, |v| v.clamp(1, 900))
}
