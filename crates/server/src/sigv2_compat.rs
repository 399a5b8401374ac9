//! botocore's SigV2 signer (`signature_version='s3'`) signs a path-style
//! bucket request `/<bucket>` with the resource `/<bucket>/` (it signs as if
//! the request went to the virtual host, then switches to path style), so
//! CreateBucket, DeleteBucket and every bucket subresource call from it fail
//! s3s' check. Where that trailing-slash form is what the client signed, the
//! request's path gets the slash (the same bucket to s3s' router), so s3s'
//! own verification, the only one that authenticates, sees what was signed.
use crate::auth::Credentials;
use crate::host::BaseDomains;
use http::Request;
use s3s::auth::S3Auth;
use s3s::host::S3Host;

pub struct BucketSlash {
    pub creds: std::sync::Arc<Credentials>,
    pub hosts: BaseDomains,
}

impl BucketSlash {
    pub async fn apply<B>(&self, req: &mut Request<B>) {
        let Some(path) = self.candidate(req) else { return };
        if self.signed_with(req, &path).await {
            let pq = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            let mut parts = req.uri().clone().into_parts();
            if let Ok(pq) = pq.parse() {
                parts.path_and_query = Some(pq);
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *req.uri_mut() = uri;
                }
            }
        }
    }

    /// `/<bucket>/` for a path-style SigV2 header-auth request on `/<bucket>`.
    fn candidate<B>(&self, req: &Request<B>) -> Option<String> {
        let auth = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?;
        if !auth.starts_with("AWS ") {
            return None;
        }
        let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok())?;
        if self.hosts.parse_host_header(host).ok()?.bucket().is_some() {
            return None;
        }
        let path = req.uri().path();
        let bucket = path.strip_prefix('/')?;
        (!bucket.is_empty() && !bucket.contains('/')).then(|| format!("{path}/"))
    }

    async fn signed_with<B>(&self, req: &Request<B>, path: &str) -> bool {
        let Some(Ok(auth)) = req.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str()) else {
            return false;
        };
        let Ok(parsed) = s3s_sigv2::AuthorizationV2::parse(auth) else {
            return false;
        };
        let Ok(secret) = self.creds.get_secret_key(parsed.access_key).await else {
            return false;
        };
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let qs: Option<Vec<(String, String)>> = req.uri().query().map(url_pairs);
        let sts = s3s_sigv2::create_string_to_sign(
            s3s_sigv2::Mode::HeaderAuth,
            req.method().as_str(),
            path,
            qs.as_deref(),
            &headers,
            None,
        );
        let ours = s3s_sigv2::calculate_signature(secret.expose(), &sts);
        strongbox_crypto::ct_eq(ours.as_bytes(), parsed.signature.as_bytes())
    }
}

/// The query's name/value pairs, percent-decoded as s3s decodes them.
fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}
