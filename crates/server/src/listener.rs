//! Accept loops: TCP accept, TLS handshake (bounded), connection facts into
//! each request, HTTP/1.1 and HTTP/2 via hyper-util, graceful shutdown.
use crate::context::{ConnInfo, Listener, TlsInfo};
use crate::service::Outer;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A client must send its request headers within this time (slowloris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request header section accepted (bytes); beyond it hyper answers 431.
const MAX_HEADER_BYTES: usize = 64 * 1024;

pub async fn serve(
    listener: TcpListener,
    kind: Listener,
    tls: Option<TlsAcceptor>,
    outer: Arc<Outer>,
    graceful: Arc<GracefulShutdown>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(peer);
        // The watcher is taken before spawning, so a shutdown that starts now
        // still waits for this connection.
        let (outer, watcher, tls) = (Arc::clone(&outer), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let info = ConnInfo {
                peer,
                local,
                listener: kind,
                tls: None,
            };
            match tls {
                None => serve_conn(stream, info, outer, watcher).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        let (_, session) = tls_stream.get_ref();
                        let info = ConnInfo {
                            tls: Some(tls_info(session)),
                            ..info
                        };
                        serve_conn(tls_stream, info, outer, watcher).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
}

fn tls_info(s: &rustls::ServerConnection) -> TlsInfo {
    let version = match s.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "1.2",
        _ => "unknown",
    };
    let cipher = s
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_default();
    TlsInfo {
        version,
        cipher,
        sni: s.server_name().map(str::to_owned),
    }
}

async fn serve_conn<S>(stream: S, info: ConnInfo, outer: Arc<Outer>, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let (outer, info) = (Arc::clone(&outer), info.clone());
        async move { Ok::<_, Infallible>(outer.handle(req, info).await) }
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES.max(8192) * 4);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX));
    let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
