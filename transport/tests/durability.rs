//! The durable store under crashes, shutdown and retention: the real
//! `qrnm-relay` binary is killed, stopped with SIGTERM and restarted.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use qrnm_engine::{Engine, Identity, Mode, ModeSet};
use qrnm_transport::config::StoreKind;
use qrnm_transport::wire::decode_message_list;

/// Fetches up to 1000 messages of `owner` as `id hex -> envelope`.
async fn fetch_all(
    client: &reqwest::Client,
    base: &str,
    owner: &Owner,
) -> HashMap<String, Vec<u8>> {
    let path = format!("{}?limit=1000", owner.messages_path());
    let response = signed(client, owner.identity(), "GET", base, &path, Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    decode_message_list(&response.bytes().await.unwrap())
        .unwrap()
        .into_iter()
        .map(|(id, envelope)| (hex::encode(id), envelope))
        .collect()
}

async fn deposit(
    client: &reqwest::Client,
    base: &str,
    owner: &Owner,
    envelope: Vec<u8>,
) -> Result<String, String> {
    let response = client
        .post(format!("{base}{}", owner.messages_path()))
        .body(envelope)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 201 {
        return Err(format!("status {}", response.status()));
    }
    Ok(json(response).await["id"].as_str().unwrap().to_owned())
}

fn seal_many(owner: &Owner, count: usize) -> Vec<Vec<u8>> {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::of(&[Mode::Hybrid, Mode::Pq])).unwrap();
    (0..count)
        .map(|i| owner.seal_from(&engine, &sender, format!("envelope number {i}").as_bytes()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_deposits_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_durable_config(dir.path(), "");
    let data = dir.path().join("data");
    let client = client();
    let owner = Owner::new();
    let envelopes = seal_many(&owner, 1000);

    let mut relay = RelayProcess::start(&config, &data);
    let base = relay.base();
    owner.publish(&client, &base).await;

    let mut deposited = HashMap::new();
    for batch in envelopes.chunks(50) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|envelope| {
                let (client, base, envelope) = (client.clone(), base.clone(), envelope.clone());
                let path = owner.messages_path();
                tokio::spawn(async move {
                    let response = client
                        .post(format!("{base}{path}"))
                        .body(envelope.clone())
                        .send()
                        .await
                        .unwrap();
                    (deposit_id(response).await, envelope)
                })
            })
            .collect();
        for task in tasks {
            let (id, envelope) = task.await.unwrap();
            deposited.insert(id, envelope);
        }
    }
    assert_eq!(deposited.len(), 1000);

    // SIGKILL: no shutdown code runs.
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
    drop(relay);

    let relay = RelayProcess::start(&config, &data);
    let fetched = fetch_all(&client, &relay.base(), &owner).await;
    assert_eq!(fetched.len(), 1000);
    assert!(
        fetched == deposited,
        "fetched envelopes differ from the deposited ones"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_deposits_keeps_every_201() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_durable_config(dir.path(), "");
    let data = dir.path().join("data");
    let client = client();
    let owner = Arc::new(Owner::new());
    let envelope = owner.seal(b"in flight at SIGTERM");

    let mut relay = RelayProcess::start(&config, &data);
    let base = relay.base();
    owner.publish(&client, &base).await;

    // 64 concurrent depositors, 15 deposits each at most, so one listing of
    // 1000 shows everything afterwards.
    let answered = Arc::new(AtomicU64::new(0));
    let depositors: Vec<_> = (0..64)
        .map(|_| {
            let (client, base, owner, envelope) = (
                client.clone(),
                base.clone(),
                owner.clone(),
                envelope.clone(),
            );
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut stored = Vec::new();
                for _ in 0..15 {
                    match deposit(&client, &base, &owner, envelope.clone()).await {
                        Ok(id) => stored.push(id),
                        Err(_) => break,
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                stored
            })
        })
        .collect();

    while answered.load(Ordering::Relaxed) < 64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(relay.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());

    let mut acknowledged = Vec::new();
    for depositor in depositors {
        let stored = tokio::time::timeout(Duration::from_secs(30), depositor)
            .await
            .expect("a deposit hung after SIGTERM")
            .unwrap();
        acknowledged.extend(stored);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = relay.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(exit.code(), Some(0));
    assert!(
        acknowledged.len() < 64 * 15,
        "SIGTERM came after every deposit finished"
    );
    drop(relay);

    let relay = RelayProcess::start(&config, &data);
    let fetched = fetch_all(&client, &relay.base(), &owner).await;
    for id in &acknowledged {
        assert!(
            fetched.contains_key(id),
            "acknowledged deposit {id} was lost"
        );
    }
}

/// Returns how many of `needles` occur in some file under `dir`.
fn occurrences(dir: &Path, needles: &[Vec<u8>]) -> usize {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push(std::fs::read(&path).unwrap());
        }
    }
    needles
        .iter()
        .filter(|needle| {
            files
                .iter()
                .any(|file| file.windows(needle.len()).any(|w| w == &needle[..]))
        })
        .count()
}

/// Distinct 32-byte pieces of an envelope's ciphertext, which no other data repeats.
fn pieces(envelope: &[u8]) -> Vec<Vec<u8>> {
    envelope[envelope.len() / 2..]
        .chunks_exact(32)
        .step_by(8)
        .map(<[u8]>::to_vec)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erased_bytes_leave_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.store = StoreKind::Durable;
    config.data_dir = dir.path().to_owned();
    config.retention_secs = 2;
    config.retention_sweep_interval_ms = 200;
    let relay = TestRelay::start(config).await;
    let client = client();
    let base = relay.url("");
    let owner = Owner::new();
    owner.publish(&client, &base).await;

    let expiring = owner.seal(b"kept until retention erases it");
    let acknowledged = owner.seal(b"erased by its acknowledgement");
    let (expiring_pieces, acknowledged_pieces) = (pieces(&expiring), pieces(&acknowledged));
    let deposited_at = Instant::now();
    deposit(&client, &base, &owner, expiring).await.unwrap();
    let id = deposit(&client, &base, &owner, acknowledged).await.unwrap();
    assert_eq!(
        occurrences(dir.path(), &acknowledged_pieces),
        acknowledged_pieces.len()
    );

    let ack_path = format!("{}/{id}", owner.messages_path());
    let response = signed(
        &client,
        owner.identity(),
        "DELETE",
        &base,
        &ack_path,
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 204);

    // After one sweep the acknowledged bytes are gone, the young message stays.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        deposited_at.elapsed() < Duration::from_secs(2),
        "the machine is too slow for this test"
    );
    assert_eq!(occurrences(dir.path(), &acknowledged_pieces), 0);
    assert_eq!(
        occurrences(dir.path(), &expiring_pieces),
        expiring_pieces.len()
    );

    // Past the retention the other message is erased too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fetch_all(&client, &base, &owner).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "retention did not erase the message"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(occurrences(dir.path(), &expiring_pieces), 0);
    relay.stop().await;
}
