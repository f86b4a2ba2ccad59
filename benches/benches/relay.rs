//! Relay throughput on loopback, beside a bare hyper server in the same run.
//!
//! The bare server uses the same hyper connection settings and responds to
//! the same requests with the same status and body shapes, but checks and stores
//! nothing: its throughput is the ceiling that HTTP handling on this machine
//! allows, and the ratio of the relay's throughput to it is the cost of the
//! relay's own work (envelope header parsing, auth, storage, metrics).
//!
//! Timing model: one criterion iteration is one deposit (group `deposit`) or
//! one deposit, fetch and acknowledge cycle (group `cycle`). `CONNECTIONS`
//! keep-alive HTTP/1.1 connections each send requests back to back until
//! the iteration count is reached, and criterion divides the elapsed time by
//! the count. The clients, the server under test and the relay's store all
//! run on one two-worker tokio runtime, so both servers share the CPU with
//! the same client work. Stored messages are erased between samples,
//! outside the timed region.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use qrnm_engine::{Engine, Identity, Mode, ModeSet, Policy, Recipient};
use qrnm_transport::config::StoreKind;
use qrnm_transport::store::{MemoryStore, SqliteStore, Store};
use qrnm_transport::wire::{decode_message_list, encode_message_list};
use qrnm_transport::{Config, Relay, auth};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// Concurrent keep-alive connections of the load.
const CONNECTIONS: usize = 64;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A server under test: its address, its store (none for the bare server)
/// and the sender that stops it.
struct Server {
    addr: SocketAddr,
    store: Option<Arc<dyn Store>>,
    _stop: oneshot::Sender<()>,
}

fn bench_config() -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        store: StoreKind::Memory,
        ..Config::default()
    };
    config.limits.max_connections = 1000;
    config.limits.requests_per_second_per_peer = 10_000_000;
    config.limits.burst = 10_000_000;
    config.limits.max_messages_per_mailbox = 100_000_000;
    config.limits.max_bytes_per_mailbox = 1 << 40;
    config
}

async fn start_relay(store: Arc<dyn Store>) -> Server {
    let relay = Relay::bind_with_store(bench_config(), store.clone())
        .await
        .expect("relay binds");
    let addr = relay.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(relay.serve(async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        store: Some(store),
        _stop: stop,
    }
}

/// Reads each body, then responds to a deposit with a fresh-looking id, to a
/// listing with one fixed message and to an acknowledgement with 204.
async fn bare_answer(
    listing: Bytes,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, answer) = match method {
        Method::POST => {
            let id = blake3::hash(&body[..body.len().min(64)]).to_hex();
            let json = format!("{{\"id\":\"{}\"}}", &id[..32]);
            (StatusCode::CREATED, Bytes::from(json))
        }
        Method::GET => (StatusCode::OK, listing),
        _ => (StatusCode::NO_CONTENT, Bytes::new()),
    };
    let mut response = Response::new(Full::new(answer));
    *response.status_mut() = status;
    Ok(response)
}

async fn start_bare(listing: Bytes) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, mut stopped) = oneshot::channel::<()>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let _ = stream.set_nodelay(true);
            let (builder, listing) = (builder.clone(), listing.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| bare_answer(listing.clone(), r));
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server {
        addr,
        store: None,
        _stop: stop,
    }
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
    expected: StatusCode,
) -> Bytes {
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), expected);
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

/// A mailbox owner with its bundle published, and an envelope sealed to it.
struct Mailbox {
    recipient: Recipient,
    envelope: Bytes,
}

impl Mailbox {
    fn new(engine: &Engine, sender: &Identity) -> Mailbox {
        let recipient = Recipient::generate(engine, ModeSet::of(&[Mode::Hybrid]), now(), 24 * 3600)
            .expect("recipient");
        let bundle = recipient.bundle().verify(engine, now()).expect("bundle");
        let sealed = engine
            .seal(sender, &bundle, &Policy::default(), &[7u8; 256], now())
            .expect("seal");
        Mailbox {
            recipient,
            envelope: Bytes::from(sealed.envelope),
        }
    }

    fn messages_path(&self) -> String {
        format!("/v1/mailboxes/{}/messages", self.recipient.id())
    }

    fn signed(&self, method: Method, path: &str) -> Request<Full<Bytes>> {
        let headers =
            auth::sign_request(self.recipient.identity(), method.as_str(), path, b"", now())
                .expect("sign");
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "relay");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.body(Full::new(Bytes::new())).expect("request")
    }

    async fn publish(&self, addr: SocketAddr) {
        let path = format!("/v1/keys/{}", self.recipient.id());
        let body = self.recipient.bundle().encode();
        let headers = auth::sign_request(self.recipient.identity(), "PUT", &path, &body, now())
            .expect("sign");
        let mut builder = Request::put(&path).header("host", "relay");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Full::new(Bytes::from(body))).expect("request");
        let mut sender = connect(addr).await;
        send(&mut sender, request, StatusCode::CREATED).await;
    }

    fn deposit(&self) -> Request<Full<Bytes>> {
        Request::post(self.messages_path())
            .header("host", "relay")
            .body(Full::new(self.envelope.clone()))
            .expect("request")
    }
}

/// Deposits one envelope, then lists one message and acknowledges it.
async fn cycle(sender: &mut SendRequest<Full<Bytes>>, mailbox: &Mailbox) {
    send(sender, mailbox.deposit(), StatusCode::CREATED).await;
    let list_path = format!("{}?limit=1", mailbox.messages_path());
    let listing = send(
        sender,
        mailbox.signed(Method::GET, &list_path),
        StatusCode::OK,
    )
    .await;
    let messages = decode_message_list(&listing).expect("listing");
    let (id, _) = messages.first().expect("one message");
    let ack_path = format!("{}/{}", mailbox.messages_path(), hex_id(id));
    send(
        sender,
        mailbox.signed(Method::DELETE, &ack_path),
        StatusCode::NO_CONTENT,
    )
    .await;
}

fn hex_id(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `iterations` operations spread over `CONNECTIONS` connections and returns the elapsed time.
async fn run_load(
    addr: SocketAddr,
    mailboxes: &Arc<Vec<Mailbox>>,
    iterations: u64,
    full_cycle: bool,
) -> Duration {
    let mut senders = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        senders.push(connect(addr).await);
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(worker, mut sender)| {
            let (next, mailboxes) = (next.clone(), mailboxes.clone());
            tokio::spawn(async move {
                let mailbox = &mailboxes[worker % mailboxes.len()];
                while next.fetch_add(1, Ordering::Relaxed) < iterations {
                    if full_cycle {
                        cycle(&mut sender, mailbox).await;
                    } else {
                        send(&mut sender, mailbox.deposit(), StatusCode::CREATED).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    started.elapsed()
}

/// The servers under test with everything their load needs.
struct Setup {
    runtime: Runtime,
    mailboxes: Arc<Vec<Mailbox>>,
    servers: Vec<(&'static str, Server)>,
    _data_dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let runtime = runtime();
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::of(&[Mode::Hybrid])).expect("sender");
    // One mailbox per connection, so that each cycle acknowledges its own message.
    let mailboxes: Arc<Vec<Mailbox>> = Arc::new(
        (0..CONNECTIONS)
            .map(|_| Mailbox::new(&engine, &sender))
            .collect(),
    );
    let listing = {
        let id = [1u8; 16];
        Bytes::from(encode_message_list([(&id, &mailboxes[0].envelope[..])]).expect("listing"))
    };
    let data_dir = tempfile::tempdir().expect("temp dir");

    let servers = runtime.block_on(async {
        let memory = start_relay(Arc::new(MemoryStore::new())).await;
        let durable =
            start_relay(Arc::new(SqliteStore::open(data_dir.path()).expect("store"))).await;
        for server in [&memory, &durable] {
            for mailbox in mailboxes.iter() {
                mailbox.publish(server.addr).await;
            }
        }
        vec![
            ("bare_hyper", start_bare(listing).await),
            ("relay_memory", memory),
            ("relay_durable", durable),
        ]
    });
    Setup {
        runtime,
        mailboxes,
        servers,
        _data_dir: data_dir,
    }
}

/// Runs `iterations` operations against `server` and erases what it stored (untimed).
fn timed_load(setup: &Setup, server: &Server, iterations: u64, full_cycle: bool) -> Duration {
    let elapsed = setup.runtime.block_on(run_load(
        server.addr,
        &setup.mailboxes,
        iterations,
        full_cycle,
    ));
    if let Some(store) = &server.store {
        // Keeps memory and the database small across samples.
        setup
            .runtime
            .block_on(store.erase_older_than(u64::MAX))
            .expect("erase");
    }
    elapsed
}

fn bench_relay(c: &mut Criterion, setup: &Setup) {
    for (group_name, full_cycle) in [("deposit", false), ("cycle", true)] {
        let mut group = c.benchmark_group(format!("relay/{group_name}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(2));
        group.measurement_time(Duration::from_secs(6));
        for (name, server) in &setup.servers {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iterations| timed_load(setup, server, iterations, full_cycle));
            });
        }
        group.finish();
    }
}

/// Rounds of the paired deposit comparison.
const PAIRED_ROUNDS: usize = 31;
/// Deposits per server and round.
const PAIRED_DEPOSITS: u64 = 6000;

/// Measures deposit throughput of the three servers back to back in each of
/// `PAIRED_ROUNDS` rounds, rotating the order, and prints the median ratio
/// of each relay to the bare server. Other processes on the machine slow
/// down both sides of a pair alike, which the separate criterion groups,
/// minutes apart, cannot promise.
fn paired_ratios(setup: &Setup) {
    let count = setup.servers.len();
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); count];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); count];
    for round in 0..PAIRED_ROUNDS {
        let mut round_rates = vec![0.0; count];
        for offset in 0..count {
            let index = (round + offset) % count;
            let elapsed = timed_load(setup, &setup.servers[index].1, PAIRED_DEPOSITS, false);
            round_rates[index] = PAIRED_DEPOSITS as f64 / elapsed.as_secs_f64();
        }
        for index in 0..count {
            rates[index].push(round_rates[index]);
            ratios[index].push(round_rates[index] / round_rates[0]);
        }
    }

    println!(
        "relay/paired: {PAIRED_ROUNDS} rounds of {PAIRED_DEPOSITS} deposits per server; medians, with quartiles"
    );
    for (index, (name, _)) in setup.servers.iter().enumerate() {
        let rate = quartiles(&mut rates[index]);
        let ratio = quartiles(&mut ratios[index]);
        println!(
            "relay/paired/{name}: {:.0} deposits/s ({:.0} to {:.0}), ratio to bare_hyper {:.2} ({:.2} to {:.2})",
            rate[1], rate[0], rate[2], ratio[1], ratio[0], ratio[2],
        );
    }
}

/// Returns the first quartile, the median and the third quartile.
fn quartiles(values: &mut [f64]) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let at = |fraction: usize| values[(values.len() - 1) * fraction / 4];
    [at(1), at(2), at(3)]
}

fn main() {
    let setup = setup();
    let mut criterion = Criterion::default().configure_from_args();
    bench_relay(&mut criterion, &setup);
    criterion.final_summary();
    paired_ratios(&setup);
}
