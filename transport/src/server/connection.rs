//! One client connection: HTTP/1.1 or HTTP/2 by its first bytes, with a
//! watchdog for connections that never send a request or fall idle, and
//! parking of idle HTTP/1.1 connections (see `idle`).

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use super::idle::{Activity, PARK_AFTER, ParkSignal, ParkableIo, Verdict};
use super::shared::Shared;
use crate::reject::Reason;
use crate::routes;

/// Keeps the open-connection gauge right however the task ends.
struct Open<'a>(&'a Shared);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.metrics.connection_closed();
    }
}

/// End of a hyper session on the connection.
enum SessionEnd {
    /// The session was parked; the socket is open and idle.
    Parked,
    /// The connection is finished.
    Closed,
}

/// Serves one connection until the client closes it, it times out, or the
/// relay stops. `permit` is this connection's slot under `limits.max_connections`.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
) {
    let _permit = permit;
    shared.metrics.connection_opened();
    let _open = Open(&shared);
    // Responses are written whole, so Nagle's algorithm would only add delay.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let stream = Arc::new(stream);
    let activity = Arc::new(Activity::new(Instant::now()));

    loop {
        match serve_session(&shared, &stream, peer, &activity).await {
            SessionEnd::Closed => return,
            SessionEnd::Parked => {}
        }
        shared.metrics.connection_parked();
        let resume = wait_while_parked(&shared, &stream, &activity).await;
        shared.metrics.connection_unparked();
        if !resume {
            return;
        }
        activity.new_session(Instant::now());
    }
}

/// Waits until a parked connection is readable again. Returns false when it
/// should close instead: idle timeout, relay stop, or a socket error.
async fn wait_while_parked(shared: &Shared, stream: &TcpStream, activity: &Activity) -> bool {
    let deadline = activity.idle_deadline(&shared.config.limits);
    tokio::select! {
        readable = stream.readable() => readable.is_ok(),
        () = tokio::time::sleep_until(deadline.into()) => false,
        () = shared.stopped() => false,
    }
}

/// Runs one hyper session on the connection, with the watchdog.
async fn serve_session(
    shared: &Arc<Shared>,
    stream: &Arc<TcpStream>,
    peer: SocketAddr,
    activity: &Arc<Activity>,
) -> SessionEnd {
    let service = {
        let shared = shared.clone();
        let activity = activity.clone();
        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let shared = shared.clone();
            let busy = activity.begin(request.version() == http::Version::HTTP_2);
            // hyper keeps one service future slot per connection for the
            // whole session; boxing the large handler future keeps that slot
            // small.
            Box::pin(async move {
                let response = routes::handle(shared, peer, request).await;
                drop(busy);
                response
            })
        })
    };

    let park = Arc::new(ParkSignal::default());
    let io = ParkableIo::new(stream.clone(), park.clone());
    let connection = shared.http.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let stopped = shared.stopped();
    tokio::pin!(stopped);
    let watchdog = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(watchdog);
    let mut closing = false;

    loop {
        tokio::select! {
            result = connection.as_mut() => {
                return match result {
                    Ok(()) if park.parked() && !closing => SessionEnd::Parked,
                    Ok(()) => SessionEnd::Closed,
                    Err(error) => {
                        report_error(shared, peer, error.as_ref());
                        SessionEnd::Closed
                    }
                };
            }
            () = &mut stopped, if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = &mut watchdog, if !closing => {
                match activity.verdict(Instant::now(), &shared.config.limits) {
                    Verdict::WaitUntil(at) => watchdog.as_mut().reset(at.into()),
                    Verdict::Park => {
                        // The next poll of the connection acts on the request.
                        park.request();
                        watchdog.as_mut().reset((Instant::now() + PARK_AFTER).into());
                    }
                    Verdict::Idle => {
                        tracing::debug!(%peer, "closing idle connection");
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    Verdict::NoRequest => {
                        shared.metrics.rejection(Reason::HeaderTimeout);
                        shared.rejections.log(
                            Reason::HeaderTimeout,
                            Some(peer.ip()),
                            &"no complete request head in time; connection dropped",
                        );
                        return SessionEnd::Closed;
                    }
                }
            }
        }
    }
}

/// Counts and logs why hyper ended a connection with an error.
fn report_error(shared: &Shared, peer: SocketAddr, error: &(dyn StdError + 'static)) {
    let reason = match find_hyper_error(error) {
        Some(e) if e.is_parse_too_large() => Reason::HeaderTooLarge,
        Some(e) if e.is_timeout() => Reason::HeaderTimeout,
        Some(e) if e.is_parse() || e.is_user() => Reason::Protocol,
        // An HTTP/2 error that no socket error caused is the client breaking
        // the protocol, such as a stream reset flood that hyper ends with GOAWAY.
        Some(e) if !e.is_incomplete_message() && !caused_by_io(error) => Reason::Protocol,
        _ => {
            // Resets and early closes by the client are normal, not rejections.
            tracing::debug!(%peer, %error, "connection ended with an error");
            return;
        }
    };
    shared.metrics.rejection(reason);
    shared.rejections.log(
        reason,
        Some(peer.ip()),
        &format_args!("connection closed: {error}"),
    );
}

fn find_hyper_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a hyper::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<hyper::Error>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

fn caused_by_io(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<std::io::Error>() {
            return true;
        }
        current = error.source();
    }
    false
}
