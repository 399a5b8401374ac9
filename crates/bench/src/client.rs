//! The S3 side of the generator: a keep-alive HTTP/1.1 connection pool
//! (hyper-util's legacy client) over plain TCP or rustls, the path-style
//! object requests (create bucket, PUT, GET, DELETE) and [`S3::call`], the
//! signed request the multipart and listing modules build on. A response
//! that is not 2xx is an error carrying the status and the start of the S3
//! error body.
use crate::sigv4::{self, Signer};
use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use md5::{Digest, Md5};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How an `https://` endpoint's certificate is checked.
pub enum Trust {
    /// Verify against the certificates in this PEM file (e.g. Strongbox's
    /// generated `<data-dir>/tls/cert.pem`).
    CaFile(PathBuf),
    /// Accept any certificate. Loopback benchmarking only.
    InsecureSkipVerify,
}

/// A signed path-style S3 client for one endpoint and bucket.
pub struct S3 {
    client: Client<Connector, Full<Bytes>>,
    scheme: String,
    authority: String,
    bucket: String,
    region: String,
    signer: Signer,
    /// Server-side encryption headers sent with every PUT (and
    /// CreateMultipartUpload) and every GET (and UploadPart).
    put_headers: http::HeaderMap,
    get_headers: http::HeaderMap,
}

/// What a GET read: its length, and the body's MD5 (hex) when asked for.
pub struct GetResult {
    pub bytes: u64,
    pub md5_hex: Option<String>,
}

impl S3 {
    pub fn new(
        endpoint: &Uri,
        trust: Option<Trust>,
        signer: Signer,
        region: String,
        bucket: String,
        pool: usize,
    ) -> anyhow::Result<Self> {
        let scheme = endpoint
            .scheme_str()
            .context("--endpoint needs a scheme (http:// or https://)")?
            .to_owned();
        let authority = endpoint
            .authority()
            .context("--endpoint needs a host")?
            .as_str()
            .to_owned();
        let tls = match (scheme.as_str(), trust) {
            ("http", _) => None,
            ("https", Some(trust)) => Some(TlsConnector::from(Arc::new(tls_config(trust)?))),
            ("https", None) => {
                bail!("an https:// endpoint needs --ca-file PEM (or --insecure-skip-verify on loopback)")
            }
            (other, _) => bail!("unsupported scheme {other:?}"),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool)
            .build(Connector { tls });
        Ok(S3 {
            client,
            scheme,
            authority,
            bucket,
            region,
            signer,
            put_headers: http::HeaderMap::new(),
            get_headers: http::HeaderMap::new(),
        })
    }

    /// Sends `put` with every PUT and `get` with every GET (SSE headers).
    pub fn with_headers(mut self, put: http::HeaderMap, get: http::HeaderMap) -> Self {
        self.put_headers = put;
        self.get_headers = get;
        self
    }

    /// Creates the bucket; one that already exists and is ours is fine.
    pub async fn create_bucket(&self) -> anyhow::Result<()> {
        let body = if self.region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            ))
        };
        let resp = self
            .send(
                Method::PUT,
                None,
                "",
                body,
                sigv4::UNSIGNED_PAYLOAD,
                &http::HeaderMap::new(),
            )
            .await?;
        let status = resp.status();
        let text = read_error_body(resp).await;
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT if text.contains("BucketAlreadyOwnedByYou") => Ok(()),
            s => Err(anyhow!("PUT /{}: {s}: {text}", self.bucket)),
        }
    }

    /// Turns versioning on for the bucket.
    pub async fn enable_versioning(&self) -> anyhow::Result<()> {
        let body = Bytes::from_static(
            b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>",
        );
        let resp = self
            .call(Method::PUT, None, &[("versioning", "")], body, &http::HeaderMap::new())
            .await?;
        let status = resp.status();
        let text = read_error_body(resp).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(anyhow!("PUT /{}?versioning: {status}: {text}", self.bucket))
        }
    }

    /// PUTs `body` and returns the ETag without its quotes.
    pub async fn put(&self, key: &str, body: Bytes) -> anyhow::Result<String> {
        let resp = self.call(Method::PUT, Some(key), &[], body, &self.put_headers).await?;
        let etag = resp.headers().get(header::ETAG).context("PUT response has no ETag")?;
        let etag = etag.to_str().context("ETag is not ASCII")?.trim_matches('"').to_owned();
        // Drain the (empty) body so the connection goes back to the pool.
        resp.into_body().collect().await.context("reading PUT response")?;
        Ok(etag)
    }

    /// GETs `key`, reading and discarding the body; hashes it when `md5` is set.
    pub async fn get(&self, key: &str, md5: bool) -> anyhow::Result<GetResult> {
        let resp = self
            .call(Method::GET, Some(key), &[], Bytes::new(), &self.get_headers)
            .await?;
        read_body(resp, md5).await
    }

    /// GETs `key` and hashes its body; None when the server answers
    /// `404 NoSuchKey` (any other error status is an error).
    pub async fn get_if_exists(&self, key: &str) -> anyhow::Result<Option<GetResult>> {
        let resp = self
            .send(
                Method::GET,
                Some(key),
                "",
                Bytes::new(),
                sigv4::EMPTY_SHA256,
                &self.get_headers,
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            let text = read_error_body(resp).await;
            if text.contains("<Code>NoSuchKey</Code>") {
                return Ok(None);
            }
            bail!("GET /{}/{key}: 404 without NoSuchKey: {text}", self.bucket);
        }
        if !resp.status().is_success() {
            let status = resp.status();
            let text = read_error_body(resp).await;
            bail!("GET /{}/{key}: {status}: {text}", self.bucket);
        }
        read_body(resp, true).await.map(Some)
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let resp = self
            .call(Method::DELETE, Some(key), &[], Bytes::new(), &http::HeaderMap::new())
            .await?;
        resp.into_body().collect().await.context("reading DELETE response")?;
        Ok(())
    }

    /// The headers that create an object (SSE request headers): sent with a
    /// PUT and a CreateMultipartUpload.
    pub fn create_headers(&self) -> &http::HeaderMap {
        &self.put_headers
    }

    /// The headers that read an object or write one of its parts: the SSE-C
    /// key, if any (sent with a GET and with every UploadPart).
    pub fn customer_headers(&self) -> &http::HeaderMap {
        &self.get_headers
    }

    /// Sends one signed request to the bucket (`key` None) or an object,
    /// with `query` parameters and `extra` headers; a response that is not
    /// 2xx becomes an error naming the request, its status and error body.
    pub async fn call(
        &self,
        method: Method,
        key: Option<&str>,
        query: &[(&str, &str)],
        body: Bytes,
        extra: &http::HeaderMap,
    ) -> anyhow::Result<Response<Incoming>> {
        let hash = if body.is_empty() {
            sigv4::EMPTY_SHA256
        } else {
            sigv4::UNSIGNED_PAYLOAD
        };
        let query = sigv4::canonical_query(query);
        let resp = self.send(method.clone(), key, &query, body, hash, extra).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = read_error_body(resp).await;
        let target = key.map_or_else(|| format!("/{}", self.bucket), |k| format!("/{}/{k}", self.bucket));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Err(anyhow!("{method} {target}{query}: {status}: {text}"))
    }

    /// `query` must be canonical (see [`sigv4::canonical_query`]): it is
    /// both sent and signed as it is.
    async fn send(
        &self,
        method: Method,
        key: Option<&str>,
        query: &str,
        body: Bytes,
        payload_hash: &str,
        extra: &http::HeaderMap,
    ) -> anyhow::Result<Response<Incoming>> {
        let path = match key {
            Some(k) => sigv4::encode_path(&format!("/{}/{k}", self.bucket)),
            None => sigv4::encode_path(&format!("/{}", self.bucket)),
        };
        let target = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let uri: Uri = format!("{}://{}{target}", self.scheme, self.authority)
            .parse()
            .context("building the request URI")?;
        let mut req = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(body))?;
        let headers = req.headers_mut();
        headers.insert(header::HOST, HeaderValue::from_str(&self.authority)?);
        headers.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.signer.sign(
            &method,
            &path,
            query,
            headers,
            payload_hash,
            time::OffsetDateTime::now_utc(),
        )?;
        self.client
            .request(req)
            .await
            .map_err(|e| anyhow!("{method} {target}: {}", error_chain(&e)))
    }
}

/// Reads and discards a body, counting its bytes and hashing it when `md5` is set.
async fn read_body(resp: Response<Incoming>, md5: bool) -> anyhow::Result<GetResult> {
    let mut body = resp.into_body();
    let mut hasher = md5.then(Md5::new);
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading GET body")?;
        if let Ok(data) = frame.into_data() {
            bytes += data.len() as u64;
            if let Some(h) = hasher.as_mut() {
                h.update(&data);
            }
        }
    }
    Ok(GetResult {
        bytes,
        md5_hex: hasher.map(|h| hex::encode(h.finalize())),
    })
}

/// Reads a whole (small) response body as text.
pub async fn read_text(resp: Response<Incoming>, what: &str) -> anyhow::Result<String> {
    let body = resp
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading the {what} response"))?
        .to_bytes();
    String::from_utf8(body.to_vec()).with_context(|| format!("the {what} response is not UTF-8"))
}

/// The first 300 characters of an error response body, on one line.
async fn read_error_body(resp: Response<Incoming>) -> String {
    match resp.into_body().collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes())
            .chars()
            .filter(|c| *c != '\n')
            .take(300)
            .collect(),
        Err(e) => format!("(body unreadable: {e})"),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

fn tls_config(trust: Trust) -> anyhow::Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let mut config = match trust {
        Trust::CaFile(path) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&path).with_context(|| format!("reading {}", path.display()))? {
                roots.add(cert.with_context(|| format!("parsing {}", path.display()))?)?;
            }
            if roots.is_empty() {
                bail!("{}: no certificate found", path.display());
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::InsecureSkipVerify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InsecureAcceptAnyCert(provider)))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts any server certificate (handshake signatures are still checked).
#[derive(Debug)]
struct InsecureAcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for InsecureAcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(msg, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(msg, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Opens TCP (with `TCP_NODELAY`) and, for https, the TLS session on top.
#[derive(Clone)]
pub struct Connector {
    tls: Option<TlsConnector>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Box<dyn Io>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_owned());
            let host = uri
                .host()
                .ok_or_else(|| invalid("URI without host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let stream: Box<dyn Io> = match tls {
                None => Box::new(tcp),
                Some(tls) => {
                    let name =
                        ServerName::try_from(host).map_err(|_| invalid("host is not a valid TLS server name"))?;
                    Box::new(tls.connect(name, tcp).await?)
                }
            };
            Ok(TokioIo::new(stream))
        })
    }
}

/// A plain or TLS connection; boxed so one pool holds either.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

impl Connection for Box<dyn Io> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
