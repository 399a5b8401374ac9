//! Accept loops: TCP accept (bounded by the connection limit), TLS handshake
//! (bounded), connection facts into each request, HTTP/1.1 and HTTP/2 via
//! hyper-util with the header size limit, the connection timers
//! (`conn_guard`), graceful shutdown.
use crate::conn_guard::{Activity, GuardedBody, TrackedIo, watchdog};
use crate::context::{ConnInfo, Listener, TlsInfo};
use crate::limits::ConnLimits;
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
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every accept loop shares: the service, the shutdown tracker, the
/// limits, and the connection slots (one pool over all listeners).
pub struct Shared {
    pub outer: Arc<Outer>,
    pub graceful: GracefulShutdown,
    pub limits: ConnLimits,
    pub slots: Arc<Semaphore>,
}

pub async fn serve(
    listener: TcpListener,
    kind: Listener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
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
        // Served only when a slot is free; until then this loop accepts no
        // more, so further clients wait in the kernel's accept queue,
        // unanswered. (Taking the slot before `accept` would let an idle
        // listener hold one.)
        let slot = tokio::select! {
            s = Arc::clone(&shared.slots).acquire_owned() => s,
            _ = shutdown.changed() => return,
        };
        let Ok(slot) = slot else { return };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(peer);
        // The watcher is taken before spawning, so a shutdown that starts now
        // still waits for this connection.
        // Connections hold no reference to `Shared`: shutdown unwraps it.
        let (outer, limits) = (Arc::clone(&shared.outer), shared.limits.clone());
        let (watcher, tls) = (shared.graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let info = ConnInfo {
                peer,
                local,
                listener: kind,
                tls: None,
            };
            match tls {
                None => serve_conn(stream, info, outer, limits, watcher).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        let (_, session) = tls_stream.get_ref();
                        let info = ConnInfo {
                            tls: Some(tls_info(session)),
                            ..info
                        };
                        serve_conn(tls_stream, info, outer, limits, watcher).await;
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

async fn serve_conn<S>(stream: S, info: ConnInfo, outer: Arc<Outer>, limits: ConnLimits, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let act = Activity::new();
    let peer = info.peer;
    let svc_act = Arc::clone(&act);
    let svc = service_fn(move |req| {
        let (outer, info, in_flight) = (Arc::clone(&outer), info.clone(), svc_act.begin());
        async move {
            let resp = outer.handle(req, info).await;
            Ok::<_, Infallible>(resp.map(|b| GuardedBody::new(b, in_flight)))
        }
    });
    let hard_limit = limits.hard_header_bytes();
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own header timer is off: it would also cut idle keep-alive
    // connections at the same deadline; `conn_guard` times both separately.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        // hyper-util's builder has no separate head limit: a head must fit the read buffer.
        .max_buf_size(hard_limit);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(hard_limit).unwrap_or(u32::MAX));
    let io = TokioIo::new(TrackedIo::new(stream, Arc::clone(&act)));
    let conn = watcher.watch(builder.serve_connection(io, svc).into_owned());
    tokio::select! {
        r = conn => if let Err(e) = r {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        },
        reason = watchdog(act, limits) => {
            tracing::info!(%peer, reason, "closing connection");
        }
    }
}
