//! The harness: a fresh SQLite store with one account and its root key, an
//! `IamService` over it, and requests signed with the sigv4 crate's `sign`.

use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::sync::Arc;
use std::time::SystemTime;
use strongbox_crypto::RootKey;
use strongbox_iam::{CREDENTIAL_PURPOSE, IamRequest, IamService};
use strongbox_meta::{Account, Credential, MetaStore, SqliteStore};
use strongbox_policy::ContextKeys;
use strongbox_sigv4::SigningParams;
use strongbox_types::AccountId;

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const ENDPOINT: &str = "http://127.0.0.1:9080/";

#[derive(Clone)]
pub(crate) struct Keys {
    pub id: String,
    pub secret: String,
}

pub(crate) struct Harness {
    pub svc: IamService,
    pub root: Keys,
    _dir: tempfile::TempDir,
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: String,
}

impl Reply {
    /// The text of the first `<name>` element.
    pub fn tag(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{name}>"))? + start;
        Some(self.body[start..end].to_owned())
    }

    pub fn code(&self) -> Option<String> {
        self.tag("Code")
    }

    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self
    }

    pub fn assert_error(&self, status: StatusCode, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code().as_deref()),
            (status, Some(code)),
            "{}",
            self.body
        );
        assert!(
            self.body
                .contains("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">")
        );
        assert!(self.body.contains("<RequestId>req-1</RequestId>"));
        self
    }
}

pub(crate) async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("meta.db")).unwrap();
    let account = Account {
        id: AccountId::parse(ACCOUNT).unwrap(),
        name: "test".into(),
        canonical_id: "c".repeat(64),
        created_ms: 1_700_000_000_000,
    };
    assert!(store.create_account(&account).await.unwrap());
    let root_key = RootKey::generate().unwrap();
    let root = Keys {
        id: "AKIAROOTROOTROOTROOT".into(),
        secret: "root/secret+key0123456789abcdefghijklmno".into(),
    };
    let cred = Credential {
        access_key: root.id.clone(),
        account_id: account.id.clone(),
        secret_sealed: strongbox_crypto::seal_secret(&root_key, CREDENTIAL_PURPOSE, root.secret.as_bytes()).unwrap(),
        is_root: true,
        active: true,
        user_name: None,
    };
    store.put_credential(&cred).await.unwrap();
    Harness {
        svc: IamService {
            meta: Arc::new(store),
            root_key: Arc::new(root_key),
            region: "us-east-1".into(),
            sts_min_duration_s: 900,
        },
        root,
        _dir: dir,
    }
}

pub(crate) fn form(params: &[(&str, &str)]) -> String {
    let mut parts = vec!["Version=2010-05-08".to_owned()];
    for (k, v) in params {
        parts.push(format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)));
    }
    parts.join("&")
}

pub(crate) fn signed(keys: &Keys, body: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    let params = SigningParams {
        access_key: &keys.id,
        secret: &keys.secret,
        region: "us-east-1",
        service: "iam",
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
    pub async fn call(&self, keys: &Keys, params: &[(&str, &str)]) -> Reply {
        let body = form(params);
        let headers = signed(keys, &body);
        self.send(&headers, &body).await
    }

    pub async fn send(&self, headers: &HeaderMap, body: &str) -> Reply {
        let uri: Uri = ENDPOINT.parse().unwrap();
        let resp = self
            .svc
            .handle(IamRequest {
                method: &Method::POST,
                uri: &uri,
                headers,
                body: body.as_bytes(),
                request_id: "req-1",
                context: ContextKeys::new(),
            })
            .await;
        Reply {
            status: resp.status,
            body: resp.body,
        }
    }

    pub async fn root(&self, params: &[(&str, &str)]) -> Reply {
        self.call(&self.root.clone(), params).await
    }

    /// Creates `name` with one access key and returns the key.
    pub async fn user_with_key(&self, name: &str) -> Keys {
        self.root(&[("Action", "CreateUser"), ("UserName", name)])
            .await
            .assert_ok();
        let key = self.root(&[("Action", "CreateAccessKey"), ("UserName", name)]).await;
        key.assert_ok();
        Keys {
            id: key.tag("AccessKeyId").unwrap(),
            secret: key.tag("SecretAccessKey").unwrap(),
        }
    }
}

pub(crate) fn allow(action: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#)
}
