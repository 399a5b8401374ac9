//! Timers that close a connection which is slow or idle: the header read
//! timeout runs from the first byte of a request to the end of its headers
//! (slowloris), the idle timeout from the end of a response while no request
//! is in flight, and the write stall timeout while a response waits for a
//! client that does not read. The socket (the plaintext side of TLS) is
//! wrapped to see its reads and writes; each request holds an [`InFlight`]
//! guard until its response body is done.
use crate::limits::ConnLimits;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const NONE: u64 = u64::MAX;
/// After the last response, how long a closing connection keeps reading (and
/// discarding) what the client still sends, so that a client that was
/// refused mid-upload reads its error instead of a connection reset.
const LINGER: Duration = Duration::from_secs(5);
/// The watchdog looks at a busy connection at least this often.
const RECHECK: Duration = Duration::from_secs(1);

/// What the watchdog knows about one connection (milliseconds since `start`).
pub(crate) struct Activity {
    start: Instant,
    /// Last byte read or written, or the end of the last response.
    last_io: AtomicU64,
    /// First byte of a request whose headers are not complete yet.
    head_started: AtomicU64,
    /// Since when a write has been waiting for the client to read.
    write_blocked: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_io: AtomicU64::new(0),
            // The first request is due from the moment the connection opens:
            // a client that connects and sends nothing gets the header timeout.
            head_started: AtomicU64::new(0),
            write_blocked: AtomicU64::new(NONE),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn on_read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self
                .head_started
                .compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    /// A request's headers are in: its handler and response now run.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(NONE, Ordering::Release);
        InFlight(Arc::clone(self))
    }
}

/// Held by a request until its response body has been sent (or dropped).
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last_io.store(self.0.now(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Resolves, with the reason, when the connection should be closed.
pub(crate) async fn watchdog(act: Arc<Activity>, limits: ConnLimits) -> &'static str {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(NONE / 2);
    let (header, idle, stall) = (
        ms(limits.header_read_timeout),
        ms(limits.idle_timeout),
        ms(limits.body_timeout),
    );
    loop {
        let now = act.now();
        let blocked = act.write_blocked.load(Ordering::Acquire);
        let (deadline, reason) = if blocked != NONE {
            (blocked.saturating_add(stall), "the client stopped reading the response")
        } else if act.in_flight.load(Ordering::Acquire) > 0 {
            (NONE, "")
        } else {
            match act.head_started.load(Ordering::Acquire) {
                NONE => (
                    act.last_io.load(Ordering::Relaxed).saturating_add(idle),
                    "idle keep-alive timeout",
                ),
                started => (started.saturating_add(header), "request headers not received in time"),
            }
        };
        if now >= deadline {
            return reason;
        }
        let wait = Duration::from_millis(deadline - now).min(RECHECK);
        tokio::time::sleep(wait).await;
    }
}

/// The connection's byte stream, reporting reads and blocked writes.
pub(crate) struct TrackedIo<S> {
    inner: S,
    act: Arc<Activity>,
    /// Set once the write side is shut: the lingering read's deadline.
    linger: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> TrackedIo<S> {
    pub(crate) fn new(inner: S, act: Arc<Activity>) -> Self {
        Self {
            inner,
            act,
            linger: None,
        }
    }

    /// `done`: the write or flush completed; `bytes`: it moved data. Only
    /// data counts as activity: hyper flushes on every poll of the connection.
    fn wrote(&self, done: bool, bytes: bool) {
        if done {
            self.act.write_blocked.store(NONE, Ordering::Release);
            if bytes {
                self.act.last_io.store(self.act.now(), Ordering::Relaxed);
            }
        } else {
            let now = self.act.now();
            let _ = self
                .act
                .write_blocked
                .compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TrackedIo<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.act.on_read();
        }
        r
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TrackedIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(r.is_ready(), matches!(r, Poll::Ready(Ok(n)) if n > 0));
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(r.is_ready(), matches!(r, Poll::Ready(Ok(n)) if n > 0));
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.wrote(r.is_ready(), false);
        r
    }

    /// Shuts the write side (the response is complete), then drains the
    /// read side until the client closes or [`LINGER`] passes (nginx's
    /// lingering close): closing with unread input would send a reset, and
    /// the client would lose the response it has not read yet.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.linger.is_none() {
            std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.linger = Some(Box::pin(tokio::time::sleep(LINGER)));
        }
        if !matches!(this.linger.as_mut().map(|s| s.as_mut().poll(cx)), Some(Poll::Pending)) {
            return Poll::Ready(Ok(()));
        }
        let mut scratch = [0u8; 8192];
        for _ in 0..64 {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        // Still more to discard: yield to other tasks, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A response body that keeps its request counted as in flight until it ends.
pub(crate) struct GuardedBody {
    inner: s3s::Body,
    _guard: InFlight,
}

impl GuardedBody {
    pub(crate) fn new(inner: s3s::Body, guard: InFlight) -> Self {
        Self { inner, _guard: guard }
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = <s3s::Body as Body>::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
