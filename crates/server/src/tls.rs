//! TLS: rustls with the ring provider, TLS 1.2 and 1.3, ALPN h2 and
//! http/1.1. A self-signed certificate for localhost is generated on first
//! start when no certificate is configured.
use crate::ServerError;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Names the generated certificate covers.
pub const SELF_SIGNED_NAMES: [&str; 4] = ["localhost", "127.0.0.1", "::1", "*.localhost"];

/// Where the generated certificate and key live under the data dir.
pub fn default_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    (
        data_dir.join("tls").join("cert.pem"),
        data_dir.join("tls").join("key.pem"),
    )
}

/// Writes a self-signed certificate and key unless both files exist.
pub fn ensure_self_signed(cert: &Path, key: &Path) -> Result<bool, ServerError> {
    if cert.exists() && key.exists() {
        return Ok(false);
    }
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| ServerError::Tls(e.to_string()))?;
    if let Some(dir) = cert.parent() {
        crate::bootstrap::create_private_dir(dir)?;
    }
    crate::bootstrap::write_private_file(key, generated.key_pair.serialize_pem().as_bytes())?;
    crate::bootstrap::write_private_file(cert, generated.cert.pem().as_bytes())?;
    Ok(true)
}

pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, ServerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ServerError::Tls(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
