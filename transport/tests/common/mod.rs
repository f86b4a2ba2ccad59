//! Helpers shared by the integration tests: an in-process relay on loopback,
//! mailbox owners with real keys, sealed envelopes and a real HTTP client.
#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qrnm_engine::{Engine, Identity, Mode, ModeSet, Policy, Recipient};
use qrnm_transport::config::StoreKind;
use qrnm_transport::store::Store;
use qrnm_transport::{Config, Relay, RelayError, auth};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bundle lifetime used by the tests.
pub const BUNDLE_TTL_SECS: u64 = 24 * 3600;

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Builds a configuration for tests: memory store, a free loopback port,
/// generous rate limits and a short shutdown deadline.
pub fn test_config() -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        store: StoreKind::Memory,
        shutdown_deadline_ms: 3000,
        ..Config::default()
    };
    config.limits.requests_per_second_per_peer = 100_000;
    config.limits.burst = 100_000;
    config
}

/// A relay running on a task of the test's runtime.
pub struct TestRelay {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), RelayError>>>,
}

impl TestRelay {
    pub async fn start(config: Config) -> TestRelay {
        Self::started(Relay::bind(config).await.expect("relay binds"))
    }

    pub async fn start_with_store(config: Config, store: Arc<dyn Store>) -> TestRelay {
        Self::started(
            Relay::bind_with_store(config, store)
                .await
                .expect("relay binds"),
        )
    }

    fn started(relay: Relay) -> TestRelay {
        let addr = relay.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(relay.serve(async move {
            let _ = stopped.await;
        }));
        TestRelay {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the relay and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A mailbox owner with real keys for the hybrid and pq modes.
pub struct Owner {
    pub recipient: Recipient,
    pub mailbox: String,
}

impl Owner {
    pub fn new() -> Owner {
        Self::with_modes(ModeSet::of(&[Mode::Hybrid, Mode::Pq]))
    }

    pub fn with_modes(modes: ModeSet) -> Owner {
        let recipient = Recipient::generate(&Engine::new(), modes, now(), BUNDLE_TTL_SECS).unwrap();
        let mailbox = recipient.id().to_string();
        Owner { recipient, mailbox }
    }

    pub fn identity(&self) -> &Identity {
        self.recipient.identity()
    }

    pub fn messages_path(&self) -> String {
        format!("/v1/mailboxes/{}/messages", self.mailbox)
    }

    pub fn keys_path(&self) -> String {
        format!("/v1/keys/{}", self.mailbox)
    }

    /// Publishes this owner's bundle and checks that the relay accepted it.
    pub async fn publish(&self, client: &reqwest::Client, base: &str) {
        let body = self.recipient.bundle().encode();
        let response = signed(
            client,
            self.identity(),
            "PUT",
            base,
            &self.keys_path(),
            body,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Seals `payload` to this owner from a fresh sender identity.
    pub fn seal(&self, payload: &[u8]) -> Vec<u8> {
        let engine = Engine::new();
        let sender =
            Identity::generate_with(&engine, ModeSet::of(&[Mode::Hybrid, Mode::Pq])).unwrap();
        self.seal_from(&engine, &sender, payload)
    }

    pub fn seal_from(&self, engine: &Engine, sender: &Identity, payload: &[u8]) -> Vec<u8> {
        let bundle = self.recipient.bundle().verify(engine, now()).unwrap();
        engine
            .seal(sender, &bundle, &Policy::default(), payload, now())
            .unwrap()
            .envelope
    }
}

/// Builds a request signed by `identity` for `path_and_query` on `base`.
pub fn signed(
    client: &reqwest::Client,
    identity: &Identity,
    method: &str,
    base: &str,
    path_and_query: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    signed_at(client, identity, method, base, path_and_query, body, now())
}

pub fn signed_at(
    client: &reqwest::Client,
    identity: &Identity,
    method: &str,
    base: &str,
    path_and_query: &str,
    body: Vec<u8>,
    timestamp: u64,
) -> reqwest::RequestBuilder {
    let headers = auth::sign_request(identity, method, path_and_query, &body, timestamp).unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("{base}{path_and_query}"))
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
}

/// Reads the `"error"` kind of a JSON error response.
pub async fn error_kind(response: reqwest::Response) -> String {
    json(response).await["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Reads a JSON response body.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Reads the `"id"` of a 201 deposit response.
pub async fn deposit_id(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 201);
    json(response).await["id"].as_str().unwrap().to_owned()
}

/// The built `qrnm-relay` binary, running as a child process.
pub struct RelayProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl RelayProcess {
    /// Starts the binary with `config_file` on a free loopback port and
    /// waits for its `listening on ADDR` line.
    pub fn start(config_file: &Path, data_dir: &Path) -> RelayProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qrnm-relay"))
            .arg("--config")
            .arg(config_file)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("qrnm-relay starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        RelayProcess { child, addr }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a durable-store config file into `dir` and returns its path.
pub fn write_durable_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("relay.toml");
    let text = format!(
        "store = \"durable\"\nshutdown_deadline_ms = 5000\n{extra}\n[limits]\nrequests_per_second_per_peer = 100000\nburst = 100000\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}
