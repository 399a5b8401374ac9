//! The global and S3 condition keys of a request, as AWS populates them:
//! a key is present only when AWS would set it ("missing means absent"),
//! except `aws:SecureTransport`, which is `false` on plain HTTP, not absent.
//! Key names are compared case-insensitively, as AWS does.
use crate::context::{ConnInfo, Listener, RequestContext};
use http::{HeaderMap, Uri};
use std::time::{SystemTime, UNIX_EPOCH};
use strongbox_policy::ContextKeys;

/// Sets a single-valued key (keys are set once per request).
fn set(k: &mut ContextKeys, key: &str, value: impl AsRef<str>) {
    k.insert(key, value.as_ref());
}

fn set_opt(k: &mut ContextKeys, key: &str, value: Option<impl AsRef<str>>) {
    if let Some(v) = value {
        set(k, key, v);
    }
}

/// Request headers that become `s3:<header>` condition keys when present.
const HEADER_KEYS: [&str; 12] = [
    "x-amz-acl",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-storage-class",
];

/// The global keys every protocol (S3, IAM, KMS, STS) shares: transport,
/// source, time, user agent and region.
pub fn request_keys(conn: &ConnInfo, headers: &HeaderMap, now: SystemTime, region: &str) -> ContextKeys {
    let mut k = ContextKeys::new();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let secure = if conn.listener == Listener::Https {
        "true"
    } else {
        "false"
    };
    set(&mut k, "aws:SecureTransport", secure);
    set_opt(&mut k, "s3:TlsVersion", conn.tls.as_ref().map(|t| t.version));
    set(&mut k, "aws:SourceIp", conn.peer.ip().to_string());
    let epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    set(&mut k, "aws:EpochTime", epoch.as_secs().to_string());
    let current = time::OffsetDateTime::from(now);
    let iso = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    set_opt(&mut k, "aws:CurrentTime", current.format(&iso).ok());
    set_opt(&mut k, "aws:UserAgent", header("user-agent"));
    set_opt(&mut k, "aws:Referer", header("referer"));
    set(&mut k, "aws:RequestedRegion", region);
    k
}

/// Builds the keys for one request. `bucket_owner` is the owning account of
/// the bucket the request targets (`s3:ResourceAccount`).
pub fn condition_keys(
    ctx: &RequestContext,
    headers: &HeaderMap,
    uri: &Uri,
    region: &str,
    bucket_owner: Option<&str>,
) -> ContextKeys {
    let mut k = request_keys(&ctx.conn, headers, ctx.time, region);
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let caller = strongbox_identity::Caller {
        principal: ctx.principal.clone(),
        session: ctx.session.clone(),
    };
    strongbox_identity::add_principal_keys(&caller, strongbox_identity::ms_since_epoch(ctx.time), &mut k);
    set_opt(&mut k, "s3:authType", ctx.auth_type.policy_value());
    set_opt(&mut k, "s3:signatureversion", ctx.signature_version);
    set_opt(&mut k, "s3:signatureAge", ctx.signature_age_ms.map(|a| a.to_string()));
    set_opt(&mut k, "s3:x-amz-content-sha256", header("x-amz-content-sha256"));
    for h in HEADER_KEYS {
        set_opt(&mut k, &format!("s3:{h}"), header(h));
    }
    // Object Lock headers map to keys without the x-amz- prefix.
    set_opt(&mut k, "s3:object-lock-mode", header("x-amz-object-lock-mode"));
    set_opt(
        &mut k,
        "s3:object-lock-retain-until-date",
        header("x-amz-object-lock-retain-until-date"),
    );
    set_opt(
        &mut k,
        "s3:object-lock-legal-hold",
        header("x-amz-object-lock-legal-hold"),
    );
    // Whole days from now to the requested date, rounded up: a bucket
    // policy caps retention with a numeric condition on it.
    let until = header("x-amz-object-lock-retain-until-date")
        .and_then(|d| time::OffsetDateTime::parse(&d, &time::format_description::well_known::Rfc3339).ok());
    if let Some(until) = until {
        let until_ms = i64::try_from(until.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let now_ms = strongbox_identity::ms_since_epoch(ctx.time);
        set(
            &mut k,
            "s3:object-lock-remaining-retention-days",
            strongbox_engine::lock::remaining_days(until_ms, now_ms).to_string(),
        );
    }
    // Conditional writes (s3:if-match / s3:if-none-match) on PUT and completion.
    if matches!(ctx.operation.as_str(), "PutObject" | "CompleteMultipartUpload") {
        set_opt(&mut k, "s3:if-match", header("if-match"));
        set_opt(&mut k, "s3:if-none-match", header("if-none-match"));
    }
    let query = query_pairs(uri);
    let q = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    if matches!(
        ctx.operation.as_str(),
        "ListObjects" | "ListObjectsV2" | "ListObjectVersions"
    ) {
        set_opt(&mut k, "s3:prefix", q("prefix"));
        set_opt(&mut k, "s3:delimiter", q("delimiter"));
        set_opt(&mut k, "s3:max-keys", q("max-keys"));
    }
    set_opt(&mut k, "s3:VersionId", q("versionId"));
    set_opt(&mut k, "s3:ResourceAccount", bucket_owner);
    if let Some(tagging) = header("x-amz-tagging") {
        let tags = parse_query(&tagging);
        k.insert_multi("s3:RequestObjectTagKeys", tags.iter().map(|(t, _)| t));
        for (t, v) in tags {
            k.insert(&format!("s3:RequestObjectTag/{t}"), &v);
        }
    }
    k
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query().map(parse_query).unwrap_or_default()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(n), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{AuthType, ConnInfo, TlsInfo};
    use strongbox_policy::Principal;
    use strongbox_types::AccountId;

    fn ctx(listener: Listener, principal: Principal, operation: &str) -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            principal,
            access_key: None,
            auth_type: AuthType::Header,
            signature_version: Some("AWS4-HMAC-SHA256"),
            signature_age_ms: Some(1500),
            conn: ConnInfo {
                peer: "192.0.2.7:5555".parse().unwrap(),
                local: "127.0.0.1:9443".parse().unwrap(),
                listener,
                tls: (listener == Listener::Https).then(|| TlsInfo {
                    version: "1.3",
                    cipher: "TLS13_AES_256_GCM_SHA384".into(),
                    sni: None,
                }),
            },
            host: None,
            user_agent: None,
            operation: operation.into(),
            time: UNIX_EPOCH + std::time::Duration::from_secs(1_795_341_360),
            conditions: ContextKeys::new(),
            policies: Default::default(),
            session: None,
            caller: None,
            form_authorized: false,
        }
    }

    #[test]
    fn transport_keys_follow_the_listener() {
        let root = Principal::AccountRoot {
            account: AccountId::parse("111122223333").unwrap(),
        };
        let uri: Uri = "/b?list-type=2&prefix=home%2Falice%2F&max-keys=10".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-server-side-encryption", "aws:kms".parse().unwrap());
        headers.insert("x-amz-tagging", "project=blue&team=a%20b".parse().unwrap());
        let https = condition_keys(
            &ctx(Listener::Https, root.clone(), "ListObjectsV2"),
            &headers,
            &uri,
            "us-east-1",
            Some("111122223333"),
        );
        assert_eq!(https.get("aws:SecureTransport"), Some(&["true".to_owned()][..]));
        assert_eq!(https.get("s3:TlsVersion"), Some(&["1.3".to_owned()][..]));
        assert_eq!(
            https.get("AWS:SOURCEIP"),
            Some(&["192.0.2.7".to_owned()][..]),
            "case-insensitive names"
        );
        assert_eq!(https.get("s3:prefix"), Some(&["home/alice/".to_owned()][..]));
        assert_eq!(https.get("s3:max-keys"), Some(&["10".to_owned()][..]));
        assert_eq!(
            https.get("s3:x-amz-server-side-encryption"),
            Some(&["aws:kms".to_owned()][..])
        );
        assert_eq!(
            https.get("aws:PrincipalArn"),
            Some(&["arn:aws:iam::111122223333:root".to_owned()][..])
        );
        assert_eq!(
            https.get("aws:CurrentTime"),
            Some(&["2026-11-22T09:56:00Z".to_owned()][..])
        );
        assert_eq!(https.get("s3:signatureAge"), Some(&["1500".to_owned()][..]));
        assert_eq!(https.get("s3:RequestObjectTag/team"), Some(&["a b".to_owned()][..]));
        assert_eq!(https.get("s3:RequestObjectTagKeys").map(<[String]>::len), Some(2));
        let http = condition_keys(
            &ctx(Listener::Http, Principal::Anonymous, "GetObject"),
            &HeaderMap::new(),
            &uri,
            "us-east-1",
            None,
        );
        assert_eq!(
            http.get("aws:SecureTransport"),
            Some(&["false".to_owned()][..]),
            "present and false on HTTP"
        );
        assert_eq!(http.get("s3:TlsVersion"), None, "absent on HTTP");
        assert_eq!(http.get("s3:prefix"), None, "only for listing operations");
        assert_eq!(http.get("aws:PrincipalArn"), None);
        assert_eq!(http.get("aws:PrincipalType"), Some(&["Anonymous".to_owned()][..]));
    }
}
