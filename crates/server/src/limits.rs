//! Per-connection limits and the S3 errors they answer with: the size of a
//! request's header section (400 RequestHeaderSectionTooLarge, as AWS), and a
//! request body that stops arriving (400 RequestTimeout, as AWS). The timers
//! that close slow or idle connections live in `conn_guard`.
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Connection hardening settings (the CLI layers and checks them).
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// From the first byte of a request to the end of its headers (slowloris guard).
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// A request body that delivers no byte for this long while the server
    /// waits for it ends with 400 RequestTimeout; a response that the client
    /// does not read for this long closes the connection.
    pub body_timeout: Duration,
    /// Largest header section (field names and values) answered normally.
    pub max_header_bytes: usize,
    /// Connections served at once, over all listeners; more wait in the
    /// kernel's accept queue until one closes.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_header_bytes: 8 * 1024,
            max_connections: 1024,
        }
    }
}

impl ConnLimits {
    /// The hard limit given to hyper (request line included). Header sections
    /// between `max_header_bytes` and this get the S3 XML error; beyond it
    /// hyper answers a bare 431 and closes, which bounds the memory a
    /// connection can make the server hold.
    /// It is also hyper's read buffer, so it never goes below 256 KiB.
    pub(crate) fn hard_header_bytes(&self) -> usize {
        self.max_header_bytes.saturating_add(64 * 1024).max(256 * 1024)
    }
}

/// Size of a header section as AWS counts it: every `name: value\r\n`.
pub(crate) fn header_section_len(headers: &http::HeaderMap) -> usize {
    headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum()
}

/// The XML body of RequestHeaderSectionTooLarge (AWS adds MaxSizeAllowed).
pub(crate) fn header_too_large_body(max: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>RequestHeaderSectionTooLarge</Code>\
         <Message>Your request header section exceeds the maximum allowed size.</Message>\
         <MaxSizeAllowed>{max}</MaxSizeAllowed></Error>"
    )
}

/// AWS's answer to a request body that stopped arriving.
pub(crate) fn request_timeout() -> s3s::S3Error {
    s3s::s3_error!(
        RequestTimeout,
        "Your socket connection to the server was not read from or written to within the timeout period. \
         Idle connections will be closed."
    )
}

/// The error a [`StallGuard`] body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body delivered no data within {0:?}")]
pub(crate) struct BodyTimeout(Duration);

/// Whether `e`, or an error it wraps, is a stalled request body.
pub(crate) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cur = e.source();
    }
    false
}

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that fails with [`BodyTimeout`] when, while the server is
/// waiting for the next frame, none arrives within the limit. Time the server
/// spends not asking (writing what it has) does not count.
pub(crate) struct StallGuard<B> {
    inner: B,
    limit: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> StallGuard<B> {
    pub(crate) fn new(inner: B, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            sleep: None,
        }
    }
}

impl<B> Body for StallGuard<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let limit = this.limit;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.sleep = None;
                        Poll::Ready(Some(Err(Box::new(BodyTimeout(limit)))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out_and_a_flowing_one_does_not() {
        let (mut tx, body) = http_body_util::channel::Channel::<Bytes, BoxError>::new(1);
        let mut guarded = StallGuard::new(body, Duration::from_secs(5));
        tokio::spawn(async move {
            let _ = tx.send_data(Bytes::from_static(b"abc")).await;
            tokio::time::sleep(Duration::from_secs(4)).await;
            let _ = tx.send_data(Bytes::from_static(b"def")).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        let mut got = Vec::new();
        let end = loop {
            match guarded.frame().await {
                Some(Ok(f)) => got.extend_from_slice(f.data_ref().map_or(&[][..], |d| d.as_ref())),
                other => break other,
            }
        };
        assert_eq!(got, b"abcdef", "4 s gaps are under the 5 s limit");
        assert!(
            matches!(&end, Some(Err(e)) if is_body_timeout(e.as_ref())),
            "a 60 s gap ends the body with BodyTimeout"
        );
    }

    #[test]
    fn header_section_counts_names_values_and_separators() {
        let mut h = http::HeaderMap::new();
        h.insert("x-a", http::HeaderValue::from_static("12345"));
        assert_eq!(header_section_len(&h), 3 + 5 + 4);
    }
}
