//! Abusive clients are cut off while a well-behaved client keeps being served.
//!
//! The abusive clients use raw TCP so that they can send what an HTTP client
//! library would refuse to: oversized and lying bodies, huge headers and
//! headers that trickle in.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use qrnm_transport::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const MAX_BODY: u64 = 64 * 1024;
const HEADER_TIMEOUT_MS: u64 = 2000;

fn limits_config() -> Config {
    let mut config = test_config();
    config.limits.max_body_bytes = MAX_BODY;
    config.limits.max_header_bytes = 16 * 1024;
    config.limits.header_read_timeout_ms = HEADER_TIMEOUT_MS;
    config.limits.request_timeout_ms = 5000;
    config
}

/// A client that deposits and probes in a loop until stopped, recording every
/// response that is not the expected one.
struct NormalClient {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    task: JoinHandle<Vec<String>>,
}

impl NormalClient {
    async fn start(relay: &TestRelay) -> NormalClient {
        let client = client();
        let base = relay.url("");
        let owner = Owner::new();
        owner.publish(&client, &base).await;
        let envelope = owner.seal(b"normal traffic");

        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let task = {
            let (stop, served) = (stop.clone(), served.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let deposit = client
                        .post(format!("{base}{}", owner.messages_path()))
                        .body(envelope.clone())
                        .send()
                        .await;
                    let health = client.get(format!("{base}/healthz")).send().await;
                    match (deposit, health) {
                        (Ok(d), Ok(h)) if d.status() == 201 && h.status() == 200 => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        (d, h) => failures.push(format!("{d:?} / {h:?}")),
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                failures
            })
        };
        NormalClient { stop, served, task }
    }

    /// Stops the loop and checks that every round trip succeeded and some happened.
    async fn finish(self) {
        let before = self.served.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.stop.store(true, Ordering::Relaxed);
        let failures = self.task.await.unwrap();
        assert!(failures.is_empty(), "normal client failed: {failures:?}");
        let served = self.served.load(Ordering::Relaxed);
        assert!(served >= 3, "normal client was served only {served} times");
        assert!(served > before || before > 0);
    }
}

/// Reads from `stream` until EOF, a reset or `limit`, and returns what arrived.
async fn read_until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    limit: Duration,
) -> (Vec<u8>, bool) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (received, false),
        }
    }
}

fn status_of(response: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(response);
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    rest.get(..3)?.parse().ok()
}

fn mailbox_path() -> String {
    format!("/v1/mailboxes/{}/messages", "ab".repeat(32))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_of_200_mib_is_cut_off() {
    let relay = TestRelay::start(limits_config()).await;
    let normal = NormalClient::start(&relay).await;

    let stream = TcpStream::connect(relay.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let reading =
        tokio::spawn(async move { read_until_closed(&mut reader, Duration::from_secs(20)).await });

    let head = format!(
        "POST {} HTTP/1.1\r\nhost: relay\r\ntransfer-encoding: chunked\r\n\r\n",
        mailbox_path()
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
    chunk.extend(std::iter::repeat_n(b'a', 64 * 1024));
    chunk.extend_from_slice(b"\r\n");

    const TOTAL: u64 = 200 << 20;
    let mut sent = 0u64;
    while sent < TOTAL {
        match tokio::time::timeout(Duration::from_secs(5), writer.write_all(&chunk)).await {
            Ok(Ok(())) => sent += 64 * 1024,
            // Either the relay closed the connection or it stopped reading.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    let (response, closed) = reading.await.unwrap();

    assert!(sent < TOTAL / 4, "the relay read {sent} body bytes");
    assert_eq!(
        status_of(&response),
        Some(413),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed, "the connection stayed open");
    normal.finish().await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_content_length_is_rejected_at_once() {
    let relay = TestRelay::start(limits_config()).await;
    let normal = NormalClient::start(&relay).await;

    let mut stream = TcpStream::connect(relay.addr).await.unwrap();
    let request = format!(
        "POST {} HTTP/1.1\r\nhost: relay\r\ncontent-length: 99999999999\r\n\r\nshort body",
        mailbox_path()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;

    assert_eq!(
        status_of(&response),
        Some(413),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed, "the connection stayed open");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    normal.finish().await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_of_64_kib_gets_431() {
    let relay = TestRelay::start(limits_config()).await;
    let normal = NormalClient::start(&relay).await;

    let stream = TcpStream::connect(relay.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let reading =
        tokio::spawn(async move { read_until_closed(&mut reader, Duration::from_secs(10)).await });
    let filler = "a".repeat(64 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nhost: relay\r\nx-filler: {filler}\r\n\r\n");
    // The relay may close before it has read everything, so a write error is expected.
    let _ = writer.write_all(request.as_bytes()).await;
    let (response, closed) = reading.await.unwrap();

    assert_eq!(
        status_of(&response),
        Some(431),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed, "the connection stayed open");
    normal.finish().await;
    relay.stop().await;
}

/// Sends `request` on a new connection, checks that the relay closes it, and
/// returns the raw response.
async fn raw_exchange(relay: &TestRelay, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(relay.addr).await.unwrap();
    // The relay may close before it has read everything, so a write error is expected.
    let _ = stream.write_all(request).await;
    let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "the connection stayed open");
    response
}

/// hyper itself responds to a request head it cannot parse, before the relay sees
/// the request, with an empty body. docs/relay.md lists these responses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_heads_get_hyper_status_without_body() {
    let relay = TestRelay::start(limits_config()).await;
    let cases: [(&[u8], u16); 4] = [
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (
            b"POST /healthz HTTP/1.1\r\nhost: relay\r\ncontent-length: -1\r\n\r\n",
            400,
        ),
        (
            b"POST /healthz HTTP/1.1\r\nhost: relay\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            400,
        ),
        // hyper treats a length above its maximum body length as a head that is too large.
        (
            b"POST /healthz HTTP/1.1\r\nhost: relay\r\ncontent-length: 18446744073709551615\r\n\r\n",
            431,
        ),
    ];
    for (request, status) in cases {
        let response = raw_exchange(&relay, request).await;
        let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
        let label = String::from_utf8_lossy(request);
        assert_eq!(status_of(&response), Some(status), "{label}: {text}");
        assert!(text.contains("content-length: 0\r\n"), "{label}: {text}");
        assert!(!text.contains("application/json"), "{label}: {text}");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_header_is_cut_off() {
    let relay = TestRelay::start(limits_config()).await;
    let normal = NormalClient::start(&relay).await;

    let stream = TcpStream::connect(relay.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let reading =
        tokio::spawn(async move { read_until_closed(&mut reader, Duration::from_secs(30)).await });
    // One byte every 500 ms would take 40 s to finish this head.
    let trickle = tokio::spawn(async move {
        for byte in
            b"GET /healthz HTTP/1.1\r\nhost: relay\r\nx-slow: abcdefghijklmnopqrstuvwxyz\r\n\r\n"
        {
            if writer.write_all(&[*byte]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        true
    });
    let (response, closed) = reading.await.unwrap();
    let cut_after = started.elapsed();

    assert!(closed, "the connection stayed open");
    assert!(
        cut_after < Duration::from_millis(HEADER_TIMEOUT_MS + 2000),
        "cut off only after {cut_after:?}"
    );
    assert_ne!(
        status_of(&response),
        Some(200),
        "the trickled request was served"
    );
    assert!(!trickle.await.unwrap(), "the whole head was accepted");
    normal.finish().await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_dropped() {
    let relay = TestRelay::start(limits_config()).await;
    // One connection sends nothing, the other a partial HTTP/2 preface.
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    let mut partial = TcpStream::connect(relay.addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();

    let started = Instant::now();
    for stream in [&mut silent, &mut partial] {
        let (_, closed) = read_until_closed(stream, Duration::from_secs(10)).await;
        assert!(closed, "a connection without a request stayed open");
    }
    assert!(started.elapsed() < Duration::from_millis(HEADER_TIMEOUT_MS + 2000));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429() {
    let mut config = test_config();
    config.limits.requests_per_second_per_peer = 2;
    config.limits.burst = 3;
    let relay = TestRelay::start(config).await;
    let client = client();
    let path = relay.url(&format!("/v1/keys/{}", "cd".repeat(32)));

    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let response = client.get(&path).send().await.unwrap();
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").cloned();
        }
        statuses.push(response.status().as_u16());
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited >= 5, "{statuses:?}");
    assert_eq!(retry_after.unwrap(), "1");
    // Probes are exempt.
    assert_eq!(
        client
            .get(relay.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_counts_malformed_and_unknown_requests() {
    let mut config = test_config();
    config.limits.requests_per_second_per_peer = 1;
    config.limits.burst = 3;
    let relay = TestRelay::start(config).await;
    let client = client();

    // Requests that fail before routing completes must use up the budget too.
    let invalid = [
        relay.url("/v1/keys/abc"),
        relay.url("/v1/keys/abc"),
        relay.url("/no/such/route"),
        relay.url("/v1/keys/abc"),
        relay.url("/v1/keys/abc"),
        relay.url("/v1/keys/abc"),
    ];
    let mut statuses = Vec::new();
    for url in &invalid {
        statuses.push(client.get(url).send().await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // A valid request right after is limited as well, because the budget is shared.
    let valid = relay.url(&format!("/v1/keys/{}", "cd".repeat(32)));
    assert_eq!(client.get(&valid).send().await.unwrap().status(), 429);
    assert_eq!(
        client
            .get(relay.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_mailbox_answers_429() {
    let mut config = test_config();
    config.limits.max_messages_per_mailbox = 2;
    let relay = TestRelay::start(config).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;
    let envelope = owner.seal(b"fill");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = client
            .post(relay.url(&owner.messages_path()))
            .body(envelope.clone())
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(error_kind(response).await, "mailbox_full");
        }
    }
    assert_eq!(statuses, [201, 201, 429]);
    relay.stop().await;
}

async fn closes_at_once(addr: SocketAddr) -> bool {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: relay\r\n\r\n")
        .await;
    let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(2)).await;
    closed && response.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_closes_extra_connections() {
    let mut config = test_config();
    config.limits.max_connections = 3;
    config.limits.header_read_timeout_ms = 30_000;
    let relay = TestRelay::start(config).await;

    let held: Vec<TcpStream> = connect_many(relay.addr, 3).await;
    // Give the relay time to accept the three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        closes_at_once(relay.addr).await,
        "a fourth connection was served"
    );

    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = client().get(relay.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    relay.stop().await;
}

async fn connect_many(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..count {
        streams.push(TcpStream::connect(addr).await.unwrap());
    }
    streams
}

/// Reads one response with a `content-length` body and returns its status line.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed"
        );
        received.push(byte[0]);
    }
    let head = String::from_utf8(received).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head.lines().next().unwrap().to_owned()
}

async fn parked_connections(relay: &TestRelay) -> String {
    let text = client()
        .get(relay.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("qrnm_parked_connections "))
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_parked_and_reused() {
    let relay = TestRelay::start(test_config()).await;
    let mut stream = TcpStream::connect(relay.addr).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nhost: relay\r\n\r\n";

    stream.write_all(request).await.unwrap();
    assert_eq!(read_response(&mut stream).await, "HTTP/1.1 200 OK");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(parked_connections(&relay).await, "1");

    // The parked connection serves the next request as before.
    stream.write_all(request).await.unwrap();
    assert_eq!(read_response(&mut stream).await, "HTTP/1.1 200 OK");
    assert_eq!(parked_connections(&relay).await, "0");
    relay.stop().await;
}
