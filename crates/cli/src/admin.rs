//! `strongbox admin ...`: account administration on a data directory.
use anyhow::{Context, bail};
use std::path::PathBuf;
use strongbox_server::admin::Admin;
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct AdminArgs {
    /// Configuration file (TOML); its data_dir and root_key_file are used.
    #[arg(long, env = "STRONGBOX_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory. Default: ./strongbox-data
    #[arg(long, env = "STRONGBOX_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// File holding the base64 root key. Default: <data-dir>/root.key
    #[arg(long, env = "STRONGBOX_ROOT_KEY_FILE", global = true)]
    root_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(clap::Subcommand)]
enum AdminCommand {
    /// Accounts (each has a 12-digit id and a root user).
    #[command(subcommand)]
    Account(AccountCommand),
}

#[derive(clap::Subcommand)]
enum AccountCommand {
    /// Create an account and print its id and root credentials.
    Create {
        /// Display name (ListBuckets Owner/DisplayName).
        name: String,
        /// Use this access key id instead of generating one (with --secret-key).
        #[arg(long)]
        access_key: Option<String>,
        /// Use this secret access key instead of generating one (with --access-key).
        #[arg(long, env = "STRONGBOX_NEW_SECRET_KEY")]
        secret_key: Option<String>,
    },
    /// List accounts, oldest first.
    List,
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let (data_dir, root_key) = crate::config::data_location(args.config, args.data_dir, args.root_key_file)?;
    let admin = Admin::open(&data_dir, &root_key).context("opening the data directory")?;
    match args.command {
        AdminCommand::Account(AccountCommand::Create {
            name,
            access_key,
            secret_key,
        }) => {
            let given = match (access_key, secret_key) {
                (Some(ak), Some(sk)) => Some((ak, Zeroizing::new(sk))),
                (None, None) => None,
                _ => bail!("--access-key and --secret-key must be given together"),
            };
            let created = admin
                .create_account(&name, given)
                .await
                .context("creating the account")?;
            println!("Account id: {}", created.account.id);
            println!("Account name: {}", created.account.name);
            println!("Canonical user id: {}", created.account.canonical_id);
            println!("Root access key id: {}", created.access_key);
            println!("Root secret access key: {}", created.secret_key.as_str());
        }
        AdminCommand::Account(AccountCommand::List) => {
            for a in admin.list_accounts().await.context("listing accounts")? {
                println!("{}\t{}\t{}", a.id, a.name, a.canonical_id);
            }
        }
    }
    Ok(())
}
