//! One keep-alive HTTP/1.1 connection, used for one request at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Largest response body a lane accepts: a full message list of 1000 envelopes of 64 KiB.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Server address of a set of lanes, and the counters they share.
#[derive(Debug)]
pub struct Endpoint {
    addr: SocketAddr,
    host: HeaderValue,
    open: AtomicUsize,
    reconnects: AtomicU64,
}

impl Endpoint {
    /// Creates an endpoint for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Arc<Endpoint> {
        // A socket address printed by std is always a valid header value.
        let host = HeaderValue::from_str(&addr.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("localhost"));
        Arc::new(Endpoint {
            addr,
            host,
            open: AtomicUsize::new(0),
            reconnects: AtomicU64::new(0),
        })
    }

    /// Returns the server address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the number of connections to this endpoint open right now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Returns how many times a lane opened a connection again after losing one.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }
}

/// Error of a request on a lane.
#[derive(Debug, thiserror::Error)]
pub enum LaneError {
    /// The TCP connection or the HTTP handshake failed.
    #[error("connecting to {addr} failed: {source}")]
    Connect {
        /// Server address.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The connection closed or failed before the response arrived.
    #[error("connection failed during the request: {0}")]
    Http(#[from] hyper::Error),
    /// No response within the time limit.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The response body could not be read or exceeded [`MAX_RESPONSE_BYTES`].
    #[error("reading the response body failed: {0}")]
    Body(String),
    /// The request could not be built (an invalid path or header).
    #[error("invalid request: {0}")]
    Request(#[from] http::Error),
}

impl LaneError {
    /// Returns a short stable name for the error counters of the report.
    pub fn kind(&self) -> &'static str {
        match self {
            LaneError::Connect { source, .. }
                if source.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                "connect_refused"
            }
            LaneError::Connect { .. } => "connect_failed",
            LaneError::Http(error)
                if error.is_canceled() || error.is_closed() || error.is_incomplete_message() =>
            {
                "connection_closed"
            }
            LaneError::Http(_) => "http_error",
            LaneError::Timeout(_) => "timeout",
            LaneError::Body(_) => "body_error",
            LaneError::Request(_) => "invalid_request",
        }
    }
}

/// One HTTP/1.1 keep-alive connection, opened again on the next request after it is lost.
#[derive(Debug)]
pub struct Lane {
    id: usize,
    endpoint: Arc<Endpoint>,
    sender: Mutex<Option<SendRequest<Full<Bytes>>>>,
    // Whether the current connection's task still runs. Read without the sender's lock,
    // which a request keeps for its whole duration (a long poll included).
    alive: std::sync::Mutex<Arc<AtomicBool>>,
    ever_connected: AtomicBool,
}

impl Lane {
    /// Creates an unconnected lane.
    pub fn new(id: usize, endpoint: Arc<Endpoint>) -> Lane {
        Lane {
            id,
            endpoint,
            sender: Mutex::new(None),
            alive: std::sync::Mutex::new(Arc::new(AtomicBool::new(false))),
            ever_connected: AtomicBool::new(false),
        }
    }

    /// Returns the lane's number.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Returns whether the lane's connection is open, without waiting for a request in progress.
    pub fn is_open(&self) -> bool {
        self.alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .load(Ordering::Relaxed)
    }

    /// Opens the connection unless it is open, and returns the time connecting took
    /// (zero when it was open already).
    ///
    /// # Errors
    ///
    /// Returns [`LaneError::Connect`] when the TCP connection or the handshake fails.
    pub async fn connect(&self) -> Result<Duration, LaneError> {
        if self.is_open() {
            return Ok(Duration::ZERO);
        }
        let mut sender = self.sender.lock().await;
        if sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(Duration::ZERO);
        }
        let started = Instant::now();
        *sender = Some(self.open_connection().await?);
        Ok(started.elapsed())
    }

    async fn open_connection(&self) -> Result<SendRequest<Full<Bytes>>, LaneError> {
        let addr = self.endpoint.addr;
        let connect_error = |source| LaneError::Connect { addr, source };
        let stream = TcpStream::connect(addr).await.map_err(connect_error)?;
        stream.set_nodelay(true).map_err(connect_error)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| connect_error(std::io::Error::other(e)))?;

        if self.ever_connected.swap(true, Ordering::Relaxed) {
            self.endpoint.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let endpoint = Arc::clone(&self.endpoint);
        endpoint.open.fetch_add(1, Ordering::Relaxed);
        let alive = Arc::new(AtomicBool::new(true));
        *self.alive.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&alive);
        tokio::spawn(async move {
            // The connection ends when the server closes it or the lane drops its sender.
            // Requests on it report the failure, so its error needs no handling here.
            let _ = connection.await;
            alive.store(false, Ordering::Relaxed);
            endpoint.open.fetch_sub(1, Ordering::Relaxed);
        });
        Ok(sender)
    }

    /// Sends a request and reads the whole response, connecting first when needed.
    ///
    /// # Errors
    ///
    /// Returns [`LaneError`] when connecting, sending or reading fails, or when no response
    /// arrives within `timeout`. After a timeout or a connection failure, the connection is
    /// dropped and the next request opens a new one.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&'static str, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<Response<Bytes>, LaneError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.endpoint.host.clone());
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/octet-stream");
        }
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request.body(Full::new(body))?;

        let mut guard = self.sender.lock().await;
        if guard.as_ref().is_none_or(|s| s.is_closed()) {
            *guard = Some(self.open_connection().await?);
        }
        let Some(sender) = guard.as_mut() else {
            unreachable!("the sender was set just above");
        };

        match tokio::time::timeout(timeout, Self::exchange(sender, request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => {
                *guard = None;
                Err(error)
            }
            Err(_) => {
                // The connection may still deliver the late response, so it cannot be reused.
                *guard = None;
                Err(LaneError::Timeout(timeout))
            }
        }
    }

    async fn exchange(
        sender: &mut SendRequest<Full<Bytes>>,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Bytes>, LaneError> {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| LaneError::Body(e.to_string()))?
            .to_bytes();
        Ok(Response::from_parts(parts, body))
    }

    /// Closes the connection, if open.
    pub async fn close(&self) {
        *self.sender.lock().await = None;
    }
}
