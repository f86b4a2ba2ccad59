//! Idle handling of one connection: the watchdog's bookkeeping, and parking
//! of idle HTTP/1.1 connections.
//!
//! # Parking
//!
//! hyper keeps two 8 KiB buffers (read and write) for every HTTP/1.1
//! connection for as long as the connection lives. With 10,000 idle
//! keep-alive clients that alone is over 160 MB. So once an HTTP/1.1
//! connection has had no request in progress for [`PARK_AFTER`], its hyper
//! session is ended without closing the socket. [`ParkableIo`] reports end
//! of stream to hyper at a moment when nothing is readable, so hyper
//! finishes cleanly and drops its buffers. The connection task then waits
//! for the socket to become readable and starts a new session on it. The
//! client sees an ordinary keep-alive connection.
//!
//! HTTP/2 connections are never parked, because the HTTP/2 state (settings,
//! stream ids, flow control) cannot be rebuilt on a later session.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::Limits;

/// Time without a request in progress after which an HTTP/1.1 connection is parked.
pub(crate) const PARK_AFTER: Duration = Duration::from_secs(1);

/// Request bookkeeping of one connection, shared by its task and its request handlers.
pub(crate) struct Activity {
    state: Mutex<ActivityState>,
}

struct ActivityState {
    /// Start of the current hyper session: the connection's opening, or the
    /// moment a parked connection became readable again.
    session_opened: Instant,
    /// Requests started in the current session.
    session_requests: u64,
    in_flight: u32,
    last_done: Option<Instant>,
    http2: bool,
}

/// Next action of a connection's watchdog.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Check again at this instant.
    WaitUntil(Instant),
    /// No request in progress for `limits.idle_timeout_ms`: close.
    Idle,
    /// No complete request head within `limits.header_read_timeout_ms` (or
    /// the idle timeout, if shorter) of the session's start: drop.
    NoRequest,
    /// An HTTP/1.1 connection without a request for [`PARK_AFTER`]: park it.
    Park,
}

impl Activity {
    pub(crate) fn new(now: Instant) -> Activity {
        Activity {
            state: Mutex::new(ActivityState {
                session_opened: now,
                session_requests: 0,
                in_flight: 0,
                last_done: None,
                http2: false,
            }),
        }
    }

    /// Marks a request as started; the guard marks it finished when dropped.
    pub(crate) fn begin(self: &Arc<Self>, http2: bool) -> Busy {
        if let Ok(mut state) = self.state.lock() {
            state.in_flight += 1;
            state.session_requests += 1;
            state.http2 |= http2;
        }
        Busy(self.clone())
    }

    /// Starts a new session after the connection was parked.
    pub(crate) fn new_session(&self, now: Instant) {
        if let Ok(mut state) = self.state.lock() {
            state.session_opened = now;
            state.session_requests = 0;
        }
    }

    /// Instant at which an idle connection is closed.
    pub(crate) fn idle_deadline(&self, limits: &Limits) -> Instant {
        let idle = Duration::from_millis(limits.idle_timeout_ms);
        match self.state.lock() {
            Ok(state) => state.last_done.unwrap_or(state.session_opened) + idle,
            Err(_) => Instant::now(),
        }
    }

    pub(crate) fn verdict(&self, now: Instant, limits: &Limits) -> Verdict {
        let idle = Duration::from_millis(limits.idle_timeout_ms);
        let head = Duration::from_millis(limits.header_read_timeout_ms);
        let Ok(state) = self.state.lock() else {
            return Verdict::Idle;
        };
        // Requests start and end without waking the watchdog, so an HTTP/1.1
        // connection is looked at again within PARK_AFTER to be parked in time.
        let next_check = |at: Instant| {
            if state.http2 {
                Verdict::WaitUntil(at)
            } else {
                Verdict::WaitUntil(at.min(now + PARK_AFTER))
            }
        };

        if state.in_flight > 0 {
            return next_check(now + idle);
        }
        if state.session_requests == 0 {
            let deadline = state.session_opened + head.min(idle);
            return if now >= deadline {
                Verdict::NoRequest
            } else {
                next_check(deadline)
            };
        }

        let idle_since = state.last_done.unwrap_or(state.session_opened);
        if now >= idle_since + idle {
            Verdict::Idle
        } else if !state.http2 && now >= idle_since + PARK_AFTER {
            Verdict::Park
        } else {
            next_check(idle_since + idle)
        }
    }
}

/// A request in progress on a connection.
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.last_done = Some(Instant::now());
        }
    }
}

/// Park request and outcome of one hyper session.
#[derive(Default)]
pub(crate) struct ParkSignal {
    requested: AtomicBool,
    parked: AtomicBool,
}

impl ParkSignal {
    pub(crate) fn request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// True when the session ended because it was parked, not because the client closed.
    pub(crate) fn parked(&self) -> bool {
        self.parked.load(Ordering::Acquire)
    }
}

/// The socket as given to one hyper session. It reads and writes the shared
/// stream, and once parking is requested it reports end of stream the next
/// time nothing is readable. Shutdown is left to dropping the last
/// reference to the stream, so that a parked socket stays open.
pub(crate) struct ParkableIo {
    stream: Arc<TcpStream>,
    park: Arc<ParkSignal>,
}

impl ParkableIo {
    pub(crate) fn new(stream: Arc<TcpStream>, park: Arc<ParkSignal>) -> ParkableIo {
        ParkableIo { stream, park }
    }
}

impl AsyncRead for ParkableIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match self.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if self.park.requested.load(Ordering::Acquire) {
                        // Nothing to read while parking was requested: end
                        // the session here; the socket stays open.
                        self.park.parked.store(true, Ordering::Release);
                        return Poll::Ready(Ok(()));
                    }
                    return Poll::Pending;
                }
            }
            match self.stream.try_read_buf(buf) {
                Ok(n) => {
                    if n > 0 {
                        // The client is active again, so the session continues.
                        self.park.requested.store(false, Ordering::Release);
                    }
                    return Poll::Ready(Ok(()));
                }
                // Readiness was stale; it is cleared, so poll it again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for ParkableIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the socket; there is nothing to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            idle_timeout_ms: 10_000,
            header_read_timeout_ms: 3_000,
            ..Limits::default()
        }
    }

    #[test]
    fn connection_without_request_is_dropped() {
        let start = Instant::now();
        let activity = Activity::new(start);
        let deadline = start + Duration::from_secs(3);
        let soon = start + Duration::from_millis(2500);
        assert_eq!(
            activity.verdict(start, &limits()),
            Verdict::WaitUntil(start + PARK_AFTER)
        );
        assert_eq!(
            activity.verdict(soon, &limits()),
            Verdict::WaitUntil(deadline)
        );
        assert_eq!(activity.verdict(deadline, &limits()), Verdict::NoRequest);
    }

    #[test]
    fn idle_http1_connection_is_parked_then_closed() {
        let start = Instant::now();
        let activity = Arc::new(Activity::new(start));
        drop(activity.begin(false));
        let done = activity.state.lock().unwrap().last_done.unwrap();

        assert_eq!(
            activity.verdict(done, &limits()),
            Verdict::WaitUntil(done + PARK_AFTER)
        );
        assert_eq!(
            activity.verdict(done + PARK_AFTER, &limits()),
            Verdict::Park
        );
        assert_eq!(
            activity.verdict(done + Duration::from_secs(9), &limits()),
            Verdict::Park
        );
        assert_eq!(
            activity.verdict(done + Duration::from_secs(10), &limits()),
            Verdict::Idle
        );
    }

    #[test]
    fn http2_connection_is_never_parked() {
        let start = Instant::now();
        let activity = Arc::new(Activity::new(start));
        drop(activity.begin(true));
        let done = activity.state.lock().unwrap().last_done.unwrap();
        let later = done + Duration::from_secs(5);
        assert_eq!(
            activity.verdict(later, &limits()),
            Verdict::WaitUntil(done + Duration::from_secs(10))
        );
    }

    #[test]
    fn busy_connection_is_left_alone() {
        let start = Instant::now();
        let activity = Arc::new(Activity::new(start));
        let _busy = activity.begin(false);
        let later = start + Duration::from_secs(60);
        assert!(matches!(
            activity.verdict(later, &limits()),
            Verdict::WaitUntil(_)
        ));
    }
}
