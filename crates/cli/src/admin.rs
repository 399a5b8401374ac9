//! `strongbox admin ...`: account administration, root key rotation and the
//! consistency check (`fsck`) on a data directory.
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use strongbox_server::RootKeySource;
use strongbox_server::admin::Admin;
use strongbox_server::rotate::rotate_root_key;
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
    /// Replace the root key with a new random one, re-sealing what it protects.
    ///
    /// Re-seals credential secrets, SSE-S3 data keys and KMS key material in
    /// one transaction; object data is not rewritten. Stop the server first
    /// (the command refuses while the data directory is in use). Needs the
    /// root key in a file (not STRONGBOX_ROOT_KEY). Prints the old and new
    /// root key ids, never the keys. An interrupted rotation is finished or
    /// rolled back by the next `serve` or admin command.
    RotateRootKey,
    /// Check that the metadata and the stored object bytes agree (no key needed).
    ///
    /// Every object and part record must have its blob file (or inline row)
    /// with a valid header and the exact length its chunk layout gives;
    /// no blob file, temporary file or inline row may be unreferenced.
    /// Prints counts and each problem; exits non-zero if problems remain.
    /// Stop the server first (the command refuses while the data directory
    /// is in use).
    Fsck {
        /// Delete what is safe to delete: unreferenced blob files, temporary
        /// files and orphan inline rows. Records whose bytes are missing or
        /// corrupt are reported, never deleted.
        #[arg(long)]
        repair: bool,
    },
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
    /// The account root's virtual MFA device.
    #[command(subcommand)]
    Mfa(MfaCommand),
}

#[derive(clap::Subcommand)]
enum MfaCommand {
    /// Create and enable the root's virtual MFA device.
    ///
    /// Prints the serial (arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device),
    /// the base32 seed, the otpauth:// URI and its QR code for an
    /// authenticator app, then reads two consecutive codes from standard
    /// input. The root then passes that serial and a code to STS
    /// (GetSessionToken) for an MFA session.
    Enable {
        /// The 12-digit account id.
        account: String,
    },
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let (data_dir, root_key) = crate::config::data_location(args.config, args.data_dir, args.root_key_file)?;
    match args.command {
        AdminCommand::RotateRootKey => rotate(&data_dir, &root_key).await,
        AdminCommand::Fsck { repair } => fsck(&data_dir, repair).await,
        AdminCommand::Account(command) => {
            let admin = Admin::open(&data_dir, &root_key)
                .await
                .context("opening the data directory")?;
            account(&admin, command).await
        }
    }
}

async fn account(admin: &Admin, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create {
            name,
            access_key,
            secret_key,
        } => {
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
        AccountCommand::Mfa(MfaCommand::Enable { account }) => enable_root_mfa(admin, &account).await?,
        AccountCommand::List => {
            for a in admin.list_accounts().await.context("listing accounts")? {
                println!("{}\t{}\t{}", a.id, a.name, a.canonical_id);
            }
        }
    }
    Ok(())
}

async fn enable_root_mfa(admin: &Admin, account: &str) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let (serial, seed) = admin.begin_root_mfa(account).await.context("creating the MFA device")?;
    let uri = Zeroizing::new(strongbox_iam::qr::otpauth_uri(
        "Strongbox",
        &format!("root@{account}"),
        &seed,
    ));
    println!("Serial number: {serial}");
    println!("Base32 seed: {}", seed.as_str());
    println!("URI: {}", uri.as_str());
    if let Some(qr) = strongbox_iam::qr::terminal(&uri) {
        println!("{qr}");
    }
    let stdin = std::io::stdin();
    let read_code = |prompt: &str| -> anyhow::Result<String> {
        print!("{prompt}");
        std::io::stdout().flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim().to_owned())
    };
    let code1 = read_code("Code 1: ")?;
    let code2 = read_code("Code 2 (the next one): ")?;
    admin
        .enable_root_mfa(&serial, &code1, &code2)
        .await
        .context("enabling the MFA device")?;
    println!("Enabled: {serial}");
    Ok(())
}

async fn rotate(data_dir: &Path, root_key: &RootKeySource) -> anyhow::Result<()> {
    let rotated = rotate_root_key(data_dir, root_key)
        .await
        .context("rotating the root key")?;
    let c = rotated.counts;
    println!("Old root key id: {}", rotated.old_key_id);
    println!("New root key id: {}", rotated.new_key_id);
    println!("Credential secrets re-sealed: {}", c.credentials);
    println!("SSE-S3 object data keys re-wrapped: {}", c.objects);
    println!("SSE-S3 multipart upload data keys re-wrapped: {}", c.uploads);
    println!("KMS key material versions re-sealed: {}", c.kms_materials);
    println!("MFA device seeds re-sealed: {}", c.mfa_seeds);
    println!("Object data was not rewritten. Start the server again to use the new key.");
    Ok(())
}

async fn fsck(data_dir: &Path, repair: bool) -> anyhow::Result<()> {
    use strongbox_server::fsck::ProblemKind;
    let report = strongbox_server::fsck::fsck(data_dir, repair)
        .await
        .context("checking the data directory")?;
    println!("Objects checked: {}", report.objects);
    println!("Upload parts checked: {}", report.parts);
    println!("Blob files checked: {}", report.blob_files);
    println!("Inline rows checked: {}", report.inline_rows);
    println!("Temporary files: {}", report.temp_files);
    for p in &report.repaired {
        println!("repaired {p}");
    }
    for p in &report.problems {
        println!("problem {p}");
    }
    let counts = |count: &dyn Fn(ProblemKind) -> usize| {
        ProblemKind::ALL
            .iter()
            .map(|k| format!("{}={}", k.name(), count(*k)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("Problems: {}", counts(&|k| report.count(k)));
    if repair {
        println!("Repaired: {}", counts(&|k| report.repaired_count(k)));
    }
    if let Some(why) = &report.repair_skipped {
        println!("Repair skipped: {why}");
    }
    if !report.is_clean() {
        bail!("{} problem(s) remain", report.problems.len());
    }
    println!("fsck: clean");
    Ok(())
}
