//! The harness: a fresh SQLite store with two accounts and their root keys,
//! a `Kms` over it with a clock the test moves, and requests signed with the
//! sigv4 crate's `sign` and sent to `Kms::handle`.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;
use strongbox_crypto::RootKey;
use strongbox_identity::{Caller, SessionClaims};
use strongbox_kms::{Kms, KmsCaller, KmsConfig, KmsRequest};
use strongbox_meta::{
    AccessKey, Account, CREDENTIAL_PURPOSE, Credential, Entity, IamStore, IamUser, MetaStore, SqliteStore,
};
use strongbox_policy::{ContextKeys, Principal};
use strongbox_sigv4::SigningParams;
use strongbox_types::AccountId;

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const OTHER: &str = "444455556666";
const ENDPOINT: &str = "http://127.0.0.1:9080/";
pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub id: String,
    pub secret: String,
}

pub(crate) struct Harness {
    pub kms: Kms,
    pub meta: Arc<SqliteStore>,
    pub root_key: Arc<RootKey>,
    pub root: Keys,
    pub other_root: Keys,
    pub clock: Arc<AtomicI64>,
    pub dir: tempfile::TempDir,
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub error_type: Option<&'static str>,
}

impl Reply {
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        &self.body
    }

    #[track_caller]
    pub fn err(&self, code: &str) -> String {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{}", self.body);
        assert_eq!(self.body["__type"], code, "{}", self.body);
        assert_eq!(self.error_type, Some(code));
        self.body["message"].as_str().unwrap_or_default().to_owned()
    }

    pub fn blob(&self, name: &str) -> Vec<u8> {
        STANDARD.decode(self.ok()[name].as_str().unwrap()).unwrap()
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) async fn harness() -> Harness {
    harness_with(KmsConfig::default()).await
}

pub(crate) async fn harness_with(config: KmsConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("meta.db")).unwrap());
    let root_key = Arc::new(RootKey::generate().unwrap());
    let mut roots = Vec::new();
    for (n, account) in [ACCOUNT, OTHER].into_iter().enumerate() {
        let id = AccountId::parse(account).unwrap();
        let acct = Account {
            id: id.clone(),
            name: format!("a{n}"),
            canonical_id: format!("{n}").repeat(64),
            created_ms: 1,
        };
        assert!(meta.create_account(&acct).await.unwrap());
        let keys = Keys {
            id: format!("AKIAROOT{n}ROOTROOTROOT"),
            secret: format!("root/secret+key{n}23456789abcdefghijklmno"),
        };
        meta.put_credential(&credential(&root_key, &keys, &id, None))
            .await
            .unwrap();
        roots.push(keys);
    }
    let clock = Arc::new(AtomicI64::new(now_ms()));
    let shared = Arc::clone(&clock);
    let kms = Kms::new(
        Arc::clone(&meta) as Arc<dyn MetaStore>,
        Arc::clone(&root_key),
        "us-east-1",
        dir.path(),
        config,
    )
    .unwrap()
    .with_clock(move || shared.load(Ordering::SeqCst));
    Harness {
        kms,
        meta,
        root_key,
        root: roots.remove(0),
        other_root: roots.remove(0),
        clock,
        dir,
    }
}

fn credential(root_key: &RootKey, keys: &Keys, account: &AccountId, user: Option<&str>) -> Credential {
    Credential {
        access_key: keys.id.clone(),
        account_id: account.clone(),
        secret_sealed: strongbox_crypto::seal_secret(root_key, CREDENTIAL_PURPOSE, keys.secret.as_bytes()).unwrap(),
        is_root: user.is_none(),
        active: true,
        user_name: user.map(str::to_owned),
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

pub(crate) fn signed(keys: &Keys, target: &str, body: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    headers.insert(
        "x-amz-target",
        HeaderValue::from_str(&format!("TrentService.{target}")).unwrap(),
    );
    let params = SigningParams {
        access_key: &keys.id,
        secret: &keys.secret,
        region: "us-east-1",
        service: "kms",
    };
    let uri: Uri = ENDPOINT.parse().unwrap();
    strongbox_sigv4::sign(
        &Method::POST,
        &uri,
        &mut headers,
        body.as_bytes(),
        &params,
        SystemTime::now(),
    )
    .unwrap();
    headers
}

impl Harness {
    pub async fn call(&self, keys: &Keys, op: &str, body: Value) -> Reply {
        let body = body.to_string();
        let headers = signed(keys, op, &body);
        self.send(&headers, &body).await
    }

    pub async fn send(&self, headers: &HeaderMap, body: &str) -> Reply {
        let uri: Uri = ENDPOINT.parse().unwrap();
        let mut context = ContextKeys::new();
        context.insert("aws:SourceIp", "192.0.2.7");
        let resp = self
            .kms
            .handle(KmsRequest {
                method: &Method::POST,
                uri: &uri,
                headers,
                body: body.as_bytes(),
                request_id: "req-1",
                context,
            })
            .await;
        Reply {
            status: resp.status,
            body: serde_json::from_str(&resp.body).unwrap(),
            error_type: resp.error_type,
        }
    }

    pub async fn root(&self, op: &str, body: Value) -> Reply {
        self.call(&self.root.clone(), op, body).await
    }

    /// A new key of the first account; returns its id and ARN.
    pub async fn key(&self) -> (String, String) {
        let r = self.root("CreateKey", json!({"Description": "test"})).await;
        let m = &r.ok()["KeyMetadata"];
        (
            m["KeyId"].as_str().unwrap().to_owned(),
            m["Arn"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates IAM user `name` of the first account with an access key.
    pub async fn user(&self, name: &str) -> (Keys, IamUser) {
        let user = IamUser {
            account_id: AccountId::parse(ACCOUNT).unwrap(),
            name: name.into(),
            user_id: format!("AIDA{}", name.to_ascii_uppercase()),
            path: "/".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            created_ms: 1,
        };
        assert_eq!(self.meta.create_user(&user).await.unwrap(), Ok(()));
        let keys = Keys {
            id: format!("AKIAUSER{}", name.to_ascii_uppercase()),
            secret: format!("user/secret+{name}/0123456789abcdefghijklmnop"),
        };
        let key = AccessKey {
            credential: credential(&self.root_key, &keys, &user.account_id, Some(name)),
            created_ms: 1,
        };
        assert_eq!(self.meta.create_access_key(&key).await.unwrap(), Ok(()));
        (keys, user)
    }

    /// Gives user `name` an inline policy.
    pub async fn user_policy(&self, name: &str, document: &str) {
        let r = self
            .meta
            .put_inline_policy(ACCOUNT, Entity::User(name), "p", document)
            .await
            .unwrap();
        assert_eq!(r, Ok(()));
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.fetch_add(days * DAY_MS, Ordering::SeqCst);
    }

    /// A caller as the S3 layer builds it.
    pub fn s3_caller(&self, user: Option<IamUser>) -> KmsCaller {
        let account = AccountId::parse(ACCOUNT).unwrap();
        let principal = match user {
            None => Principal::AccountRoot {
                account: account.clone(),
            },
            Some(u) => Principal::User {
                account: account.clone(),
                name: u.name,
                id: u.user_id,
                arn: u.arn,
            },
        };
        self.s3_caller_as(principal, None)
    }

    /// A caller as the S3 layer builds it for `principal` (with `session`
    /// for temporary credentials).
    pub fn s3_caller_as(&self, principal: Principal, session: Option<SessionClaims>) -> KmsCaller {
        KmsCaller {
            account: principal.account().cloned().unwrap(),
            identity: Caller {
                principal,
                session: session.map(Arc::new),
            },
            access_key_id: Some("AKIAS3CALLER".into()),
            source_ip: Some("192.0.2.9".into()),
            user_agent: Some("boto3".into()),
            request_id: "s3-req".into(),
            via_service: Some("s3.amazonaws.com".into()),
            context: ContextKeys::new(),
        }
    }
}

pub(crate) fn allow(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}).to_string()
}
