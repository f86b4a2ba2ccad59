//! Every route over real HTTP on loopback: successes, and failures that must change nothing.

mod common;

use std::time::{Duration, Instant};

use common::*;
use qrnm_engine::{Engine, Mode, ModeSet};
use qrnm_transport::wire::{MESSAGE_LIST_CONTENT_TYPE, decode_message_list};

/// Lists the mailbox as its owner and returns `(id hex, envelope)` pairs.
async fn list(
    client: &reqwest::Client,
    relay: &TestRelay,
    owner: &Owner,
) -> Vec<(String, Vec<u8>)> {
    let response = signed(
        client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &owner.messages_path(),
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    decode_message_list(&body)
        .unwrap()
        .into_iter()
        .map(|(id, envelope)| (hex::encode(id), envelope))
        .collect()
}

async fn deposit(
    client: &reqwest::Client,
    relay: &TestRelay,
    owner: &Owner,
    envelope: Vec<u8>,
) -> String {
    let response = client
        .post(relay.url(&owner.messages_path()))
        .body(envelope)
        .send()
        .await
        .unwrap();
    deposit_id(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_publish_fetch_and_replace() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let base = relay.url("");
    let mut owner = Owner::new();

    let missing = client
        .get(relay.url(&owner.keys_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    owner.publish(&client, &base).await;
    let fetched = client
        .get(relay.url(&owner.keys_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        fetched.bytes().await.unwrap(),
        owner.recipient.bundle().encode()
    );

    // The same bundle again is not newer.
    let body = owner.recipient.bundle().encode();
    let again = signed(
        &client,
        owner.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        body,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(error_kind(again).await, "bundle_not_newer");

    // A renewed bundle (created one second later) replaces it.
    owner
        .recipient
        .renew_bundle(&Engine::new(), now() + 1, BUNDLE_TTL_SECS)
        .unwrap();
    let body = owner.recipient.bundle().encode();
    let renewed = signed(
        &client,
        owner.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        body.clone(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(renewed.status(), 204);
    let fetched = client
        .get(relay.url(&owner.keys_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.bytes().await.unwrap(), body);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_publish_rejections_change_nothing() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let base = relay.url("");
    let owner = Owner::new();
    let intruder = Owner::new();
    let bundle = owner.recipient.bundle().encode();

    let unsigned = client
        .put(relay.url(&owner.keys_path()))
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(error_kind(unsigned).await, "auth_missing");

    let wrong_key = signed(
        &client,
        intruder.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        bundle.clone(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(wrong_key.status(), 401);
    assert_eq!(error_kind(wrong_key).await, "auth_signature");

    // Another owner's bundle under this mailbox, signed by that owner.
    let foreign = intruder.recipient.bundle().encode();
    let mismatch = signed(
        &client,
        intruder.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        foreign,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(mismatch.status(), 403);

    let garbage = signed(
        &client,
        owner.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        b"not a bundle".to_vec(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(error_kind(garbage).await, "bad_bundle");

    // A bundle stripped of its post-quantum keys no longer matches its
    // mailbox, and under its own new id it no longer verifies.
    let full = Owner::with_modes(ModeSet::ALL);
    let stripped = full.recipient.bundle().strip_post_quantum();
    let response = signed(
        &client,
        full.identity(),
        "PUT",
        &base,
        &full.keys_path(),
        stripped.encode(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 403, "{}", response.text().await.unwrap());
    let stripped_mailbox = format!("/v1/keys/{}", stripped.owner());
    let response = signed(
        &client,
        full.identity(),
        "PUT",
        &base,
        &stripped_mailbox,
        stripped.encode(),
    )
    .send()
    .await
    .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());

    let stale = signed_at(
        &client,
        owner.identity(),
        "PUT",
        &base,
        &owner.keys_path(),
        bundle,
        now() - 3600,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(stale.status(), 401);
    assert_eq!(error_kind(stale).await, "auth_stale");

    for path in [owner.keys_path(), full.keys_path(), stripped_mailbox] {
        let response = client.get(relay.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path} must still have no bundle");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_bundle_is_rejected() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let recipient = qrnm_engine::Recipient::generate(
        &Engine::new(),
        ModeSet::of(&[Mode::Hybrid]),
        now() - 7200,
        3600,
    )
    .unwrap();
    let path = format!("/v1/keys/{}", recipient.id());
    let response = signed(
        &client,
        recipient.identity(),
        "PUT",
        &relay.url(""),
        &path,
        recipient.bundle().encode(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_fetch_and_acknowledge() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;

    let envelopes: Vec<Vec<u8>> = (0..3)
        .map(|i| owner.seal(format!("message {i}").as_bytes()))
        .collect();
    let mut ids = Vec::new();
    for envelope in &envelopes {
        let id = deposit(&client, &relay, &owner, envelope.clone()).await;
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        ids.push(id);
    }

    let response = signed(
        &client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &owner.messages_path(),
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        MESSAGE_LIST_CONTENT_TYPE
    );
    let listed = list(&client, &relay, &owner).await;
    let expected: Vec<(String, Vec<u8>)> = ids.iter().cloned().zip(envelopes.clone()).collect();
    assert_eq!(listed, expected);

    let limited = format!("{}?limit=2", owner.messages_path());
    let response = signed(
        &client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &limited,
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    let body = response.bytes().await.unwrap();
    assert_eq!(decode_message_list(&body).unwrap().len(), 2);

    let ack_path = format!("{}/{}", owner.messages_path(), ids[0]);
    let acked = signed(
        &client,
        owner.identity(),
        "DELETE",
        &relay.url(""),
        &ack_path,
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(acked.status(), 204);
    let again = signed(
        &client,
        owner.identity(),
        "DELETE",
        &relay.url(""),
        &ack_path,
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(list(&client, &relay, &owner).await, expected[1..].to_vec());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_rejections() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    let other = Owner::new();
    owner.publish(&client, &relay.url("")).await;

    let garbage = client
        .post(relay.url(&owner.messages_path()))
        .body(&b"QRE but not an envelope"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(error_kind(garbage).await, "bad_envelope");

    // An envelope for `other` cannot be dropped into `owner`'s mailbox.
    let misaddressed = client
        .post(relay.url(&owner.messages_path()))
        .body(other.seal(b"for other"))
        .send()
        .await
        .unwrap();
    assert_eq!(misaddressed.status(), 400);

    // `other` has published no bundle, so its mailbox takes no deposits.
    let unpublished = client
        .post(relay.url(&other.messages_path()))
        .body(other.seal(b"for other"))
        .send()
        .await
        .unwrap();
    assert_eq!(unpublished.status(), 404);

    assert!(list(&client, &relay, &owner).await.is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_requests_need_valid_signatures() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let base = relay.url("");
    let owner = Owner::new();
    let intruder = Owner::new();
    owner.publish(&client, &base).await;
    intruder.publish(&client, &base).await;
    let id = deposit(&client, &relay, &owner, owner.seal(b"secret")).await;
    let ack_path = format!("{}/{id}", owner.messages_path());
    let list_path = owner.messages_path();

    for (method, path) in [("GET", &list_path), ("DELETE", &ack_path)] {
        let reqwest_method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let unsigned = client
            .request(reqwest_method, relay.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 401, "unsigned {method}");

        // A valid signature by another identity does not open this mailbox.
        let foreign = signed(
            &client,
            intruder.identity(),
            method,
            &base,
            path,
            Vec::new(),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(foreign.status(), 401, "{method} by another identity");
        assert_eq!(error_kind(foreign).await, "auth_signature");

        let stale = signed_at(
            &client,
            owner.identity(),
            method,
            &base,
            path,
            Vec::new(),
            now() - 600,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(stale.status(), 401, "stale {method}");
        let future = signed_at(
            &client,
            owner.identity(),
            method,
            &base,
            path,
            Vec::new(),
            now() + 600,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(future.status(), 401, "future {method}");
    }

    // A signature over a different path does not transfer.
    let headers =
        qrnm_transport::auth::sign_request(owner.identity(), "GET", "/other", b"", now()).unwrap();
    let mut request = client.get(relay.url(&list_path));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 401);

    // Nothing was read or erased: the owner still sees the message.
    let listed = list(&client, &relay, &owner).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, id);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_request_is_rejected() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;
    deposit(&client, &relay, &owner, owner.seal(b"one")).await;

    let request = signed(
        &client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &owner.messages_path(),
        Vec::new(),
    )
    .build()
    .unwrap();
    let replay = request.try_clone().unwrap();
    assert_eq!(client.execute(request).await.unwrap().status(), 200);
    let replayed = client.execute(replay).await.unwrap();
    assert_eq!(replayed.status(), 401);
    assert_eq!(error_kind(replayed).await, "auth_replay");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_copies_act_once() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;
    let first = deposit(&client, &relay, &owner, owner.seal(b"first")).await;
    let second = deposit(&client, &relay, &owner, owner.seal(b"second")).await;

    let ack_path = format!("{}/{first}", owner.messages_path());
    let template = signed(
        &client,
        owner.identity(),
        "DELETE",
        &relay.url(""),
        &ack_path,
        Vec::new(),
    )
    .build()
    .unwrap();
    let copies: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            let request = template.try_clone().unwrap();
            tokio::spawn(async move { client.execute(request).await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for copy in copies {
        statuses.push(copy.await.unwrap());
    }

    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        49,
        "{statuses:?}"
    );
    let listed = list(&client, &relay, &owner).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, second);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_returns_on_deposit() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;

    let path = format!("{}?wait_ms=10000", owner.messages_path());
    let poll = signed(
        &client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &path,
        Vec::new(),
    )
    .send();
    let started = Instant::now();
    let poll = tokio::spawn(poll);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = deposit(&client, &relay, &owner, owner.seal(b"wake up")).await;

    let response = poll.await.unwrap().unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), 200);
    let listed = decode_message_list(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(hex::encode(listed[0].0), id);
    assert!(waited < Duration::from_secs(5), "long poll took {waited:?}");

    // With nothing to deliver, the poll ends at its wait time with an empty list.
    let path = format!("{}?wait_ms=300&limit=1", owner.messages_path());
    let started = Instant::now();
    let response = signed(
        &client,
        owner.identity(),
        "GET",
        &relay.url(""),
        &path,
        Vec::new(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        decode_message_list(&response.bytes().await.unwrap())
            .unwrap()
            .len(),
        1
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_routes() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;
    deposit(&client, &relay, &owner, owner.seal(b"counted")).await;

    let health = client.get(relay.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(relay.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let metrics = client.get(relay.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    for line in [
        "qrnm_http_requests_total{route=\"deposit\",status=\"201\"} 1",
        "qrnm_http_requests_total{route=\"put_key\",status=\"201\"} 1",
        "qrnm_stored_messages 1",
        "qrnm_deposits_total{mode=\"pq\"} 1",
        "qrnm_open_connections ",
        "qrnm_http_request_duration_seconds_bucket{route=\"deposit\"",
        "qrnm_rejections_total{reason=\"auth_replay\"} 0",
    ] {
        assert!(text.contains(line), "metrics lack {line:?}:\n{text}");
    }

    let unknown = client.get(relay.url("/v1/nothing")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_kind(unknown).await, "not_found");
    let wrong_method = client.post(relay.url("/healthz")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["allow"], "GET");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_served_on_the_same_port() {
    let relay = TestRelay::start(test_config()).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let owner = Owner::new();
    owner.publish(&client, &relay.url("")).await;

    let response = client
        .post(relay.url(&owner.messages_path()))
        .body(owner.seal(b"over h2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 201);
    let listed = list(&client, &relay, &owner).await;
    assert_eq!(listed.len(), 1);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_deposits_are_counted() {
    let relay = TestRelay::start(test_config()).await;
    let client = client();
    let owner = Owner::with_modes(ModeSet::of(&[Mode::Classical, Mode::Hybrid]));
    owner.publish(&client, &relay.url("")).await;

    // A sender whose policy allows only classical picks a mode weaker than
    // the recipient's strongest (hybrid).
    let engine = Engine::new();
    let sender =
        qrnm_engine::Identity::generate_with(&engine, ModeSet::of(&[Mode::Classical])).unwrap();
    let policy =
        qrnm_engine::Policy::new(ModeSet::of(&[Mode::Classical]), Mode::Classical).unwrap();
    let bundle = owner.recipient.bundle().verify(&engine, now()).unwrap();
    let sealed = engine
        .seal(&sender, &bundle, &policy, b"legacy", now())
        .unwrap();
    assert_eq!(sealed.mode, Mode::Classical);
    deposit(&client, &relay, &owner, sealed.envelope).await;

    let text = client
        .get(relay.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("qrnm_deposit_fallbacks_total 1"), "{text}");
    assert!(
        text.contains("qrnm_deposits_total{mode=\"classical\"} 1"),
        "{text}"
    );
    relay.stop().await;
}
