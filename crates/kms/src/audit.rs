//! The audit trail of every key use: one JSON object per line in CloudTrail's
//! record shape, appended to `<data dir>/audit/kms.log` (opened `O_APPEND`,
//! mode 0600). When the file would grow past the size limit it is renamed to
//! `kms.log.N` (N = 1, 2, ...: higher is newer) and a new one is started;
//! rotated files are never deleted here. Lines are written with one `write`
//! each and not fsynced: an event can be lost in a power failure, never torn
//! into another. Plaintexts and key material never reach this module; the
//! callers put only key ids, encryption contexts and sizes in
//! `requestParameters`.
use crate::{KmsCaller, KmsError};
use serde_json::{Map, Value, json};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use strongbox_identity::SessionClaims;
use strongbox_policy::Principal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Default size at which `kms.log` is rotated.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
const FILE_NAME: &str = "kms.log";

/// What one event records besides who called and when.
#[derive(Debug, Clone)]
pub(crate) struct Trail {
    pub event_name: &'static str,
    pub read_only: bool,
    pub request_parameters: Map<String, Value>,
    pub response_elements: Option<Value>,
    /// ARNs of the keys the call used.
    pub resources: Vec<String>,
}

impl Trail {
    pub fn new(event_name: &'static str, read_only: bool) -> Self {
        Trail {
            event_name,
            read_only,
            request_parameters: Map::new(),
            response_elements: None,
            resources: Vec::new(),
        }
    }

    pub fn param(&mut self, name: &str, value: impl Into<Value>) {
        self.request_parameters.insert(name.to_owned(), value.into());
    }

    pub fn resource(&mut self, arn: &str) {
        if !self.resources.iter().any(|r| r == arn) {
            self.resources.push(arn.to_owned());
        }
    }
}

/// The append-only log file.
pub(crate) struct AuditLog {
    dir: PathBuf,
    max_bytes: u64,
    file: Mutex<Option<(File, u64)>>,
}

impl AuditLog {
    /// Creates `<data_dir>/audit` (0700) if needed; the file is opened on first use.
    pub fn open(data_dir: &Path, max_bytes: u64) -> std::io::Result<AuditLog> {
        let dir = data_dir.join("audit");
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(AuditLog {
            dir,
            max_bytes: max_bytes.max(1),
            file: Mutex::new(None),
        })
    }

    /// Appends one event. A failure is logged, never returned: the
    /// operation it records has already happened.
    pub fn append(&self, event: &Value) {
        let mut line = event.to_string();
        line.push('\n');
        if let Err(e) = self.write_line(line.as_bytes()) {
            tracing::error!(error = %e, dir = %self.dir.display(), "cannot write the KMS audit log");
        }
    }

    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))?;
        let len = u64::try_from(line.len()).unwrap_or(u64::MAX);
        let needs_rotation =
            matches!(&*guard, Some((_, size)) if *size > 0 && size.saturating_add(len) > self.max_bytes);
        if needs_rotation {
            *guard = None;
            self.rotate()?;
        }
        if guard.is_none() {
            let file = open_append(&self.dir.join(FILE_NAME))?;
            let size = file.metadata()?.len();
            *guard = Some((file, size));
            if size > 0 && size.saturating_add(len) > self.max_bytes {
                *guard = None;
                self.rotate()?;
                let file = open_append(&self.dir.join(FILE_NAME))?;
                *guard = Some((file, 0));
            }
        }
        if let Some((file, size)) = guard.as_mut() {
            file.write_all(line)?;
            *size = size.saturating_add(len);
        }
        Ok(())
    }

    fn rotate(&self) -> std::io::Result<()> {
        let next = rotated_files(&self.dir)?.last().map_or(1, |(n, _)| n.saturating_add(1));
        std::fs::rename(self.dir.join(FILE_NAME), self.dir.join(format!("{FILE_NAME}.{next}")))
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// `kms.log.N` files of `dir`, oldest (lowest N) first.
fn rotated_files(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("kms.log."))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        found.push((n, entry.path()));
    }
    found.sort();
    Ok(found)
}

/// One CloudTrail-shaped record.
pub(crate) fn event(
    caller: &KmsCaller,
    region: &str,
    trail: &Trail,
    error: Option<&KmsError>,
    event_id: &str,
    now: OffsetDateTime,
) -> Value {
    let resources: Vec<Value> = trail
        .resources
        .iter()
        .map(|arn| {
            let account = arn.split(':').nth(4).unwrap_or_default();
            json!({"accountId": account, "type": "AWS::KMS::Key", "ARN": arn})
        })
        .collect();
    let internal = "AWS Internal";
    let mut record = json!({
        "eventVersion": "1.08",
        "userIdentity": user_identity(caller),
        "eventTime": format_time(now),
        "eventSource": "kms.amazonaws.com",
        "eventName": trail.event_name,
        "awsRegion": region,
        "sourceIPAddress": caller.source_ip.as_deref().or(caller.via_service.as_deref()).unwrap_or(internal),
        "userAgent": caller.user_agent.as_deref().or(caller.via_service.as_deref()).unwrap_or(internal),
        "requestParameters": Value::Object(trail.request_parameters.clone()),
        "responseElements": trail.response_elements.clone().unwrap_or(Value::Null),
        "requestID": caller.request_id,
        "eventID": event_id,
        "readOnly": trail.read_only,
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": caller.account.as_str(),
        "eventCategory": "Management",
    });
    if let (Some(e), Some(map)) = (error, record.as_object_mut()) {
        map.insert("errorCode".into(), e.code().into());
        map.insert("errorMessage".into(), e.message().into());
        map.insert("responseElements".into(), Value::Null);
    }
    record
}

fn user_identity(caller: &KmsCaller) -> Value {
    let mut id = Map::new();
    let account = caller.account.as_str();
    let principal = &caller.identity.principal;
    let kind = match principal {
        Principal::AssumedRole { .. } => "AssumedRole",
        Principal::User { .. } => "IAMUser",
        Principal::AccountRoot { .. } | Principal::Anonymous => "Root",
    };
    id.insert("type".into(), kind.into());
    id.insert("principalId".into(), principal.userid().into_owned().into());
    id.insert("arn".into(), caller.arn().into());
    id.insert("accountId".into(), account.into());
    if let Some(key) = &caller.access_key_id {
        id.insert("accessKeyId".into(), key.clone().into());
    }
    if let Principal::User { name, .. } = principal {
        id.insert("userName".into(), name.clone().into());
    }
    if let Some(session) = &caller.identity.session {
        id.insert("sessionContext".into(), session_context(principal, account, session));
    }
    if let Some(service) = &caller.via_service {
        id.insert("invokedBy".into(), service.clone().into());
    }
    Value::Object(id)
}

/// CloudTrail's `sessionContext` of temporary credentials: who issued the
/// session (a role, for AssumeRole) and when, and whether MFA was used.
fn session_context(principal: &Principal, account: &str, session: &SessionClaims) -> Value {
    let created =
        OffsetDateTime::from_unix_timestamp(session.issued_ms.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut context = json!({
        "attributes": {
            "creationDate": format_time(created),
            "mfaAuthenticated": if session.mfa_ms.is_some() { "true" } else { "false" },
        }
    });
    if let (
        Principal::AssumedRole {
            role_name,
            role_id,
            role_arn,
            ..
        },
        Some(map),
    ) = (principal, context.as_object_mut())
    {
        map.insert(
            "sessionIssuer".into(),
            json!({"type": "Role", "principalId": role_id, "arn": role_arn, "accountId": account, "userName": role_name}),
        );
    }
    if let (Some(source), Some(map)) = (&session.source_identity, context.as_object_mut()) {
        map.insert("sourceIdentity".into(), source.clone().into());
    }
    context
}

/// `2026-01-02T03:04:05Z`, CloudTrail's `eventTime`.
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// Every event in `<data_dir>/audit` (rotated files first, oldest first),
/// only those about `key` (a key id, key ARN, or the `keyId` the request
/// gave) and at or after `since` when given. Lines that are not JSON are skipped.
pub fn read_events(data_dir: &Path, key: Option<&str>, since: Option<OffsetDateTime>) -> std::io::Result<Vec<Value>> {
    let dir = data_dir.join("audit");
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = rotated_files(&dir)?.into_iter().map(|(_, p)| p).collect();
    files.push(dir.join(FILE_NAME));
    let mut out = Vec::new();
    for path in files {
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in BufReader::new(file).lines() {
            let Ok(event) = serde_json::from_str::<Value>(&line?) else {
                continue;
            };
            if key.is_none_or(|k| about_key(&event, k)) && since.is_none_or(|s| at_or_after(&event, s)) {
                out.push(event);
            }
        }
    }
    Ok(out)
}

fn about_key(event: &Value, key: &str) -> bool {
    let arns = event.get("resources").and_then(Value::as_array).into_iter().flatten();
    let by_arn = arns
        .filter_map(|r| r.get("ARN").and_then(Value::as_str))
        .any(|arn| arn == key || arn.strip_suffix(key).is_some_and(|p| p.ends_with("key/")));
    by_arn || event.pointer("/requestParameters/keyId").and_then(Value::as_str) == Some(key)
}

fn at_or_after(event: &Value, since: OffsetDateTime) -> bool {
    event
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .is_some_and(|t| t >= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> Value {
        json!({"eventTime": "2026-01-01T00:00:00Z", "n": n, "resources": [], "requestParameters": {"keyId": "k"}})
    }

    #[test]
    fn rotates_by_size_and_reads_in_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let log = AuditLog::open(dir.path(), 200).unwrap_or_else(|e| unreachable!("{e}"));
        for n in 0..10 {
            log.append(&line(n));
        }
        let rotated = rotated_files(&dir.path().join("audit")).unwrap_or_default();
        assert!(rotated.len() >= 3, "{rotated:?}");
        for (_, p) in &rotated {
            assert!(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) <= 200);
        }
        let events = read_events(dir.path(), Some("k"), None).unwrap_or_default();
        let order: Vec<u64> = events
            .iter()
            .filter_map(|e| e.get("n").and_then(Value::as_u64))
            .collect();
        assert_eq!(order, (0..10).collect::<Vec<u64>>());
        assert!(
            read_events(dir.path(), Some("other"), None)
                .unwrap_or_default()
                .is_empty()
        );
        let later = OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).ok();
        assert!(read_events(dir.path(), None, later).unwrap_or_default().is_empty());
        // A reopened log continues the numbering.
        let log = AuditLog::open(dir.path(), 200).unwrap_or_else(|e| unreachable!("{e}"));
        for n in 10..14 {
            log.append(&line(n));
        }
        let events = read_events(dir.path(), None, None).unwrap_or_default();
        assert_eq!(events.len(), 14);
        assert_eq!(events.last().and_then(|e| e.get("n").and_then(Value::as_u64)), Some(13));
    }

    #[test]
    fn missing_directory_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        assert!(read_events(dir.path(), None, None).unwrap_or_default().is_empty());
    }
}
