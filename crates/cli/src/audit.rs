//! `strongbox audit ...`: reading the audit logs of a data directory.
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Print the KMS audit events (CloudTrail records), one JSON object per line, oldest first.
    Kms(KmsArgs),
}

#[derive(clap::Args)]
pub struct KmsArgs {
    /// Configuration file (TOML); its data_dir is used.
    #[arg(long, env = "STRONGBOX_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory. Default: ./strongbox-data
    #[arg(long, env = "STRONGBOX_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Only events about this key (key id or key ARN, or the KeyId a request gave).
    #[arg(long)]
    key: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
}

pub fn run(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Kms(args) => kms(args),
    }
}

fn kms(args: KmsArgs) -> anyhow::Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| OffsetDateTime::parse(s, &Rfc3339).with_context(|| format!("--since {s:?} is not an RFC 3339 time")))
        .transpose()?;
    let (data_dir, _) = crate::config::data_location(args.config, args.data_dir, None)?;
    let events = strongbox_kms::read_events(&data_dir, args.key.as_deref(), since)
        .with_context(|| format!("reading {}", data_dir.join("audit").display()))?;
    let mut out = std::io::stdout().lock();
    for event in events {
        writeln!(out, "{event}")?;
    }
    Ok(())
}
