//! An open-loop run against a server that stalls must report the stall in its latency
//! percentiles instead of hiding it (coordinated omission).

use std::convert::Infallible;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use qrnm_harness::net::{Endpoint, Pool};
use qrnm_harness::schedule::{Flow, LoadModel, run_schedule};
use qrnm_harness::stats::LatencyHistogram;
use tokio::net::TcpListener;

const RATE: f64 = 1000.0;
const RUN: Duration = Duration::from_secs(5);
const STALL_START: Duration = Duration::from_millis(1500);
const STALL: Duration = Duration::from_secs(2);
const LANES: usize = 50;

/// Starts a server that responds with 201 immediately, except that every request arriving between
/// `STALL_START` and `STALL_START + STALL` after the first request waits until the stall ends.
async fn start_stalling_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first_request: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let first_request = Arc::clone(&first_request);
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let first_request = Arc::clone(&first_request);
                    async move {
                        let start = *first_request.get_or_init(Instant::now);
                        let (stall_from, stall_until) =
                            (start + STALL_START, start + STALL_START + STALL);
                        let now = Instant::now();
                        if now >= stall_from && now < stall_until {
                            tokio::time::sleep_until(stall_until.into()).await;
                        }
                        let mut response = Response::new(Full::new(Bytes::from_static(
                            br#"{"id":"000102030405060708090a0b0c0d0e0f"}"#,
                        )));
                        *response.status_mut() = StatusCode::CREATED;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_shows_in_open_loop_p99() {
    let addr = start_stalling_server().await;
    let pool = Pool::new(Endpoint::new(addr), LANES);
    let outcome = pool
        .connect_all(LANES, &Arc::new(AtomicUsize::new(0)))
        .await;
    assert_eq!(outcome.held, LANES);

    let histogram = Arc::new(Mutex::new(LatencyHistogram::new()));
    let recorded = Arc::clone(&histogram);
    let schedule = run_schedule(
        LoadModel::Open { rate: RATE },
        pool.lanes(),
        RUN,
        Duration::from_secs(20),
        move |lane, ticket| {
            let recorded = Arc::clone(&recorded);
            async move {
                let response = lane
                    .send(
                        Method::POST,
                        "/v1/mailboxes/x/messages",
                        &[],
                        Bytes::from_static(b"envelope"),
                        Duration::from_secs(10),
                    )
                    .await
                    .expect("the test server responds to every request");
                assert_eq!(response.status(), StatusCode::CREATED);
                recorded.lock().unwrap().record(ticket.intended.elapsed());
                Flow::Continue
            }
        },
    )
    .await;

    assert_eq!(schedule.issued, 5000);
    assert_eq!(schedule.abandoned, 0);
    let summary = histogram.lock().unwrap().summary();
    assert_eq!(summary.count, 5000);
    // 40 % of the messages were due during the stall, with latencies spread from 2 s down
    // to 0; the top 1 % were due in its first 50 ms, so p99 is close to 2 s.
    assert!(
        summary.p99 >= 1600.0,
        "p99 {} ms hides the 2 s stall",
        summary.p99
    );
    assert!(
        summary.p99 <= 3000.0,
        "p99 {} ms is far above the 2 s stall",
        summary.p99
    );
    assert!(summary.max >= 1900.0, "max {} ms", summary.max);
}
