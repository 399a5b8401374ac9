//! `strongbox policy validate|simulate`: the server's own policy parser and
//! evaluator, offline, for checking a policy before it is put on a bucket
//! or a user (like IAM Access Analyzer's validation and the policy simulator).
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, Verdict, evaluate,
};

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Check a policy document with the same rules as PutBucketPolicy / PutUserPolicy.
    Validate {
        /// The policy JSON file.
        file: PathBuf,
        /// Validate as the bucket policy of this bucket (default: inferred from
        /// the first S3 resource when the document has a Principal, else an
        /// identity policy).
        #[arg(long)]
        bucket: Option<String>,
        /// Validate as an identity (user, group or managed) policy.
        #[arg(long, conflicts_with = "bucket")]
        identity: bool,
    },
    /// Decide one request against a bucket policy and/or identity policies,
    /// printing Allow / explicit Deny / implicit deny and the deciding statements.
    Simulate(SimulateArgs),
}

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The bucket (resource) policy.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// An identity policy of the caller (repeatable).
    #[arg(long = "identity-policy")]
    identity_policies: Vec<PathBuf>,
    /// The IAM action, e.g. s3:GetObject.
    #[arg(long)]
    action: String,
    /// The resource ARN, e.g. arn:aws:s3:::bucket/key.
    #[arg(long)]
    resource: String,
    /// The caller: arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/NAME,
    /// a role (arn:aws:iam::ACCOUNT:role/NAME, simulated as one of its
    /// sessions) or a role session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION);
    /// `anonymous` or `*` (or omitted) for an unauthenticated caller. MFA
    /// keys go in --context (aws:MultiFactorAuthPresent=true, aws:MultiFactorAuthAge=60).
    #[arg(long)]
    principal: Option<String>,
    /// The caller's permissions boundary (an identity policy).
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// A session policy (repeatable); when given, one must also allow.
    #[arg(long = "session-policy")]
    session_policies: Vec<PathBuf>,
    /// Account owning the bucket (default: the caller's account).
    #[arg(long)]
    resource_owner: Option<String>,
    /// A condition key, `key=value` (repeat a key for several values), e.g.
    /// aws:SecureTransport=false, s3:TlsVersion=1.2, aws:SourceIp=192.0.2.7.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Validate { file, bucket, identity } => validate(&file, bucket, identity),
        PolicyCommand::Simulate(args) => simulate(&args),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn validate(file: &Path, bucket: Option<String>, identity: bool) -> anyhow::Result<()> {
    let text = read(file)?;
    let kind = match (bucket, identity) {
        (Some(bucket), _) => PolicyKind::Bucket { bucket },
        (None, true) => PolicyKind::Identity,
        (None, false) => match (text.contains("\"Principal\"") || text.contains("\"NotPrincipal\""))
            .then(|| first_bucket(&text))
            .flatten()
        {
            Some(bucket) => PolicyKind::Bucket { bucket },
            None => PolicyKind::Identity,
        },
    };
    match Policy::parse(&text, &kind) {
        Ok(policy) => {
            let what = match &kind {
                PolicyKind::Bucket { bucket } => format!("bucket policy for {bucket}"),
                PolicyKind::Identity => "identity policy".to_owned(),
                PolicyKind::Trust => "role trust policy".to_owned(),
                PolicyKind::Key => "KMS key policy".to_owned(),
            };
            let public = match kind {
                PolicyKind::Bucket { .. } if policy.is_public() => " (public)",
                _ => "",
            };
            println!(
                "{}: valid {what}{public}, {} statement(s)",
                file.display(),
                policy.statements.len()
            );
            Ok(())
        }
        Err(e) => {
            let at = e
                .position
                .map(|p| format!(":{}:{}", p.line, p.column))
                .unwrap_or_default();
            eprintln!("{}{at}: MalformedPolicy: {}", file.display(), e.message);
            std::process::exit(1);
        }
    }
}

/// The bucket of the first `arn:aws:s3:::` resource in the text.
fn first_bucket(text: &str) -> Option<String> {
    let rest = &text[text.find("arn:aws:s3:::")? + "arn:aws:s3:::".len()..];
    let end = rest.find(['/', '"', '*', '?']).unwrap_or(rest.len());
    let bucket = &rest[..end];
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

fn simulate(args: &SimulateArgs) -> anyhow::Result<()> {
    let bucket = args
        .resource
        .strip_prefix("arn:aws:s3:::")
        .map(|r| r.split('/').next().unwrap_or(r).to_owned());
    let resource_policy = match &args.policy {
        None => None,
        Some(path) => {
            let Some(bucket) = bucket.clone() else {
                bail!("--policy is a bucket policy, so --resource must be an arn:aws:s3::: ARN");
            };
            let text = read(path)?;
            let policy = Policy::parse(&text, &PolicyKind::Bucket { bucket })
                .map_err(|e| anyhow::anyhow!("{}: MalformedPolicy: {e}", path.display()))?;
            Some((path.display().to_string(), policy))
        }
    };
    let identity = identity_files(&args.identity_policies)?;
    let session = identity_files(&args.session_policies)?;
    let boundary = identity_files(args.boundary.as_slice())?;
    // An anonymous caller has no ARN: `Principal: "*"` statements match it, as on AWS.
    let principal = args
        .principal
        .as_deref()
        .filter(|p| !matches!(p.trim().to_ascii_lowercase().as_str(), "anonymous" | "*"));
    let account = principal.map(principal_account).transpose()?;
    // A role stands for one of its sessions; a session also matches its role's ARN.
    let session_arn;
    let (arn, role_arn) = match principal {
        Some(p) if p.starts_with("arn:aws:sts::") => (Some(p), assumed_role_arn(p)),
        Some(p) if p.contains(":role/") => {
            let name = p.rsplit('/').next().unwrap_or_default();
            session_arn = format!(
                "arn:aws:sts::{}:assumed-role/{name}/simulated",
                account.as_deref().unwrap_or_default()
            );
            (Some(session_arn.as_str()), Some(p.to_owned()))
        }
        other => (other, None),
    };
    let mut context = ContextKeys::new();
    for pair in &args.context {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--context {pair:?}: expected KEY=VALUE");
        };
        context.insert(key.trim(), value);
    }
    match (principal, &role_arn) {
        (Some(_), Some(role)) => {
            context.insert("aws:PrincipalArn", role);
            context.insert("aws:PrincipalType", "AssumedRole");
        }
        (Some(arn), None) => context.insert("aws:PrincipalArn", arn),
        // The keys the server sets for unauthenticated requests.
        (None, _) => {
            context.insert("aws:PrincipalType", "Anonymous");
            context.insert("aws:userid", "anonymous");
        }
    }
    if let Some(account) = &account {
        context.insert("aws:PrincipalAccount", account);
    }
    let owner = args.resource_owner.clone().or_else(|| account.clone());
    let (identity, session, boundary) = (named(&identity), named(&session), named(&boundary));
    let verdict = evaluate(&Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn,
                account: account.as_deref(),
                service: None,
                canonical_user: None,
                role_arn: role_arn.as_deref(),
            },
            action: &args.action,
            resource: &args.resource,
            context: &context,
        },
        identity_policies: &identity,
        resource_policy: resource_policy
            .as_ref()
            .map(|(name, policy)| NamedPolicy { name, policy }),
        resource_owner: owner.as_deref(),
        permissions_boundary: boundary.first().copied(),
        session_policies: &session,
    });
    let (decision, by) = match &verdict {
        Verdict::Allow { by } => ("Allow", by.as_slice()),
        Verdict::ExplicitDeny { by } => ("ExplicitDeny", by.as_slice()),
        Verdict::ImplicitDeny => ("ImplicitDeny", &[][..]),
    };
    println!("Decision: {decision}");
    if by.is_empty() && verdict.is_allowed() {
        println!("  the account root acting on its own account's resource");
    }
    for s in by {
        match &s.sid {
            Some(sid) => println!("  {} statement {} (Sid {sid})", s.policy, s.index),
            None => println!("  {} statement {}", s.policy, s.index),
        }
    }
    Ok(())
}

fn named(list: &[(String, Policy)]) -> Vec<NamedPolicy<'_>> {
    list.iter().map(|(name, policy)| NamedPolicy { name, policy }).collect()
}

fn identity_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, Policy)>> {
    paths
        .iter()
        .map(|path| {
            let text = read(path)?;
            let policy = Policy::parse(&text, &PolicyKind::Identity)
                .map_err(|e| anyhow::anyhow!("{}: MalformedPolicy: {e}", path.display()))?;
            Ok((path.display().to_string(), policy))
        })
        .collect()
}

/// `arn:aws:sts::A:assumed-role/ROLE/SESSION` → `arn:aws:iam::A:role/ROLE`.
fn assumed_role_arn(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:aws:sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some(format!("arn:aws:iam::{account}:role/{role}"))
}

fn principal_account(arn: &str) -> anyhow::Result<String> {
    let account = arn
        .strip_prefix("arn:aws:iam::")
        .or_else(|| arn.strip_prefix("arn:aws:sts::"))
        .and_then(|rest| rest.split(':').next())
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    match account {
        Some(a) => Ok(a.to_owned()),
        None => bail!(
            "--principal {arn:?}: expected arn:aws:iam::<12-digit account>:root, :user/NAME or :role/NAME, or arn:aws:sts::<account>:assumed-role/ROLE/SESSION"
        ),
    }
}
