//! The `strongbox` binary: parses configuration (flags > environment >
//! `strongbox.toml` > defaults) into a checked server config and runs it.
//! The only crate that reads environment variables or uses anyhow.
mod admin;
mod audit;
mod config;
mod policy;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "strongbox",
    version,
    about = "A self-hosted S3-compatible object store with the AWS security model"
)]
enum Cli {
    /// Run the server (HTTPS on 127.0.0.1:9443 and HTTP on 127.0.0.1:9080 by default).
    Serve(Box<config::ServeArgs>),
    /// Administer a data directory (accounts and their root credentials, root key rotation).
    Admin(admin::AdminArgs),
    /// Validate policies and simulate decisions offline.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Read the audit logs of a data directory.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // s3s logs every client error (bad signature, missing key) at ERROR; the
    // outer service logs server errors itself, so s3s' request log is off by default.
    let filter = std::env::var("STRONGBOX_LOG").unwrap_or_else(|_| "info,s3s::ops=off".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not in log files and journals.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli {
        Cli::Policy(command) => policy::run(command),
        Cli::Audit(command) => audit::run(command),
        Cli::Admin(args) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            rt.block_on(admin::run(args))
        }
        Cli::Serve(args) => {
            let cfg = config::resolve(*args).context("invalid configuration")?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            rt.block_on(strongbox_server::run(cfg, announce, shutdown_signal()))
                .context("server failed")?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

fn announce(s: &strongbox_server::Started) {
    let mut lines = vec!["Strongbox is running".to_owned()];
    if let Some(a) = s.https {
        lines.push(format!(
            "  HTTPS endpoint: https://{a}  (virtual hosts: https://BUCKET.localhost:{})",
            a.port()
        ));
    }
    if let Some(a) = s.http {
        lines.push(format!("  HTTP endpoint:  http://{a}"));
    }
    if let Some(c) = &s.cert_path {
        lines.push(format!(
            "  TLS certificate (trust it with --ca-bundle / AWS_CA_BUNDLE): {}",
            c.display()
        ));
    }
    lines.push(format!("  Account: {}", s.account_id));
    lines.push(format!("  Root access key id: {}", s.access_key));
    if let Some((secret, file)) = &s.new_secret {
        lines.push(format!(
            "  Root secret access key (shown once; saved to {}): {}",
            file.display(),
            secret.as_str()
        ));
    }
    println!("{}", lines.join("\n"));
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
