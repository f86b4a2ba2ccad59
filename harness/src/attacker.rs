//! A relay-side attacker for the strip scenario: an HTTP proxy on loopback in front of the
//! relay that removes the post-quantum keys from every key bundle it serves and passes every
//! other request through unchanged.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use qrnm_engine::SignedBundle;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::net::api::REQUEST_TIMEOUT;
use crate::net::lane::{Endpoint, Lane};

/// Largest request body the proxy forwards.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The running proxy.
#[derive(Debug)]
pub struct StripProxy {
    addr: SocketAddr,
    stripped: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl StripProxy {
    /// Starts the proxy on a free loopback port, forwarding to `upstream`.
    ///
    /// # Errors
    ///
    /// Returns the error of binding the listening socket.
    pub async fn start(upstream: Arc<Endpoint>) -> std::io::Result<StripProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let stripped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(listener, upstream, Arc::clone(&stripped)));
        Ok(StripProxy {
            addr,
            stripped,
            task,
        })
    }

    /// Returns the proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the number of bundles served with their post-quantum keys removed.
    pub fn stripped(&self) -> u64 {
        self.stripped.load(Ordering::Relaxed)
    }
}

impl Drop for StripProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: Arc<Endpoint>, stripped: Arc<AtomicU64>) {
    let mut connection_number = 0;
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            continue;
        };
        connection_number += 1;
        // Each client connection gets its own upstream connection, used one request at a time.
        let lane = Arc::new(Lane::new(connection_number, Arc::clone(&upstream)));
        let stripped = Arc::clone(&stripped);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (lane, stripped) = (Arc::clone(&lane), Arc::clone(&stripped));
                async move { Ok::<_, Infallible>(forward(&lane, &stripped, request).await) }
            });
            // A client that disconnects ends its connection; nothing is left to clean up.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    lane: &Lane,
    stripped: &AtomicU64,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let Ok(body) = Limited::new(body, MAX_REQUEST_BYTES).collect().await else {
        return plain(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(b"request body unreadable"),
        );
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let headers: Vec<(&'static str, String)> =
        ["x-qrnm-timestamp", "x-qrnm-nonce", "x-qrnm-signature"]
            .into_iter()
            .filter_map(|name| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (name, v.to_owned()))
            })
            .collect();

    let upstream = lane
        .send(
            parts.method.clone(),
            &path,
            &headers,
            body.to_bytes(),
            REQUEST_TIMEOUT,
        )
        .await;
    let response = match upstream {
        Ok(response) => response,
        Err(error) => return plain(StatusCode::BAD_GATEWAY, Bytes::from(error.to_string())),
    };

    let is_bundle = parts.method == Method::GET && path.starts_with("/v1/keys/");
    if is_bundle && response.status() == StatusCode::OK {
        if let Ok(bundle) = SignedBundle::decode(response.body()) {
            stripped.fetch_add(1, Ordering::Relaxed);
            return plain(
                StatusCode::OK,
                Bytes::from(bundle.strip_post_quantum().encode()),
            );
        }
    }
    let (parts, body) = response.into_parts();
    let mut forwarded = Response::new(Full::new(body));
    *forwarded.status_mut() = parts.status;
    if let Some(content_type) = parts.headers.get(http::header::CONTENT_TYPE) {
        forwarded
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, content_type.clone());
    }
    forwarded
}

fn plain(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    response
}
