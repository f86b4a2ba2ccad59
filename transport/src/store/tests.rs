//! The same behaviour checks run against both stores.

use std::sync::Arc;

use bytes::Bytes;

use super::*;

const QUOTA: Quota = Quota {
    max_messages: 3,
    max_bytes: 100,
};

fn mailbox(n: u8) -> MailboxId {
    MailboxId([n; 32])
}

fn stores() -> Vec<(Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path()).unwrap();
    vec![
        (Arc::new(MemoryStore::new()), None),
        (Arc::new(sqlite), Some(dir)),
    ]
}

#[tokio::test]
async fn deposits_are_fetched_in_order() {
    for (store, _dir) in stores() {
        let mut ids = Vec::new();
        for body in [&b"one"[..], b"two", b"three"] {
            ids.push(
                store
                    .deposit(mailbox(1), Bytes::from(body), 10, QUOTA)
                    .await
                    .unwrap(),
            );
        }
        let fetched = store.fetch(mailbox(1), 10).await.unwrap();
        let got: Vec<_> = fetched.iter().map(|m| (m.id, m.envelope.clone())).collect();
        let expected: Vec<_> = ids
            .iter()
            .zip([&b"one"[..], b"two", b"three"])
            .map(|(id, body)| (*id, Bytes::from(body)))
            .collect();
        assert_eq!(got, expected, "{}", store.describe());

        let first_two = store.fetch(mailbox(1), 2).await.unwrap();
        assert_eq!(first_two.len(), 2, "{}", store.describe());
        assert!(store.fetch(mailbox(2), 10).await.unwrap().is_empty());
        assert_eq!(
            store.usage(),
            Usage {
                messages: 3,
                bytes: 11
            },
            "{}",
            store.describe()
        );
    }
}

#[tokio::test]
async fn message_quota_is_enforced() {
    for (store, _dir) in stores() {
        for _ in 0..3 {
            store
                .deposit(mailbox(1), Bytes::from_static(b"x"), 1, QUOTA)
                .await
                .unwrap();
        }
        let full = store
            .deposit(mailbox(1), Bytes::from_static(b"x"), 1, QUOTA)
            .await;
        assert!(
            matches!(full, Err(StoreError::MailboxFull { messages: 3, .. })),
            "{}",
            store.describe()
        );
        // Another mailbox has its own quota.
        store
            .deposit(mailbox(2), Bytes::from_static(b"x"), 1, QUOTA)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn byte_quota_is_enforced() {
    for (store, _dir) in stores() {
        store
            .deposit(mailbox(1), Bytes::from(vec![0; 60]), 1, QUOTA)
            .await
            .unwrap();
        let full = store
            .deposit(mailbox(1), Bytes::from(vec![0; 41]), 1, QUOTA)
            .await;
        assert!(
            matches!(full, Err(StoreError::MailboxFull { bytes: 60, .. })),
            "{}",
            store.describe()
        );
        store
            .deposit(mailbox(1), Bytes::from(vec![0; 40]), 1, QUOTA)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn delete_frees_quota_once() {
    for (store, _dir) in stores() {
        let id = store
            .deposit(mailbox(1), Bytes::from(vec![1; 100]), 1, QUOTA)
            .await
            .unwrap();
        assert!(
            store.delete(mailbox(1), id).await.unwrap(),
            "{}",
            store.describe()
        );
        assert!(
            !store.delete(mailbox(1), id).await.unwrap(),
            "{}",
            store.describe()
        );
        assert_eq!(store.usage(), Usage::default(), "{}", store.describe());
        store
            .deposit(mailbox(1), Bytes::from(vec![1; 100]), 1, QUOTA)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn delete_needs_the_right_mailbox() {
    for (store, _dir) in stores() {
        let id = store
            .deposit(mailbox(1), Bytes::from_static(b"m"), 1, QUOTA)
            .await
            .unwrap();
        assert!(
            !store.delete(mailbox(2), id).await.unwrap(),
            "{}",
            store.describe()
        );
        assert_eq!(store.fetch(mailbox(1), 10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn erase_removes_only_old_messages() {
    for (store, _dir) in stores() {
        store
            .deposit(mailbox(1), Bytes::from_static(b"old"), 100, QUOTA)
            .await
            .unwrap();
        let young = store
            .deposit(mailbox(1), Bytes::from_static(b"young"), 200, QUOTA)
            .await
            .unwrap();
        store
            .deposit(mailbox(2), Bytes::from_static(b"old"), 150, QUOTA)
            .await
            .unwrap();

        assert_eq!(
            store.erase_older_than(200).await.unwrap(),
            2,
            "{}",
            store.describe()
        );
        let left = store.fetch(mailbox(1), 10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, young);
        assert!(store.fetch(mailbox(2), 10).await.unwrap().is_empty());
        assert_eq!(
            store.usage(),
            Usage {
                messages: 1,
                bytes: 5
            },
            "{}",
            store.describe()
        );
    }
}

#[tokio::test]
async fn bundle_must_be_newer() {
    for (store, _dir) in stores() {
        assert_eq!(store.bundle(mailbox(1)).await.unwrap(), None);
        let created = store
            .put_bundle(mailbox(1), 10, Bytes::from_static(b"v1"))
            .await
            .unwrap();
        assert_eq!(created, BundleUpdate::Created);

        let same = store
            .put_bundle(mailbox(1), 10, Bytes::from_static(b"v1b"))
            .await;
        assert!(matches!(
            same,
            Err(StoreError::NotNewer {
                stored: 10,
                offered: 10
            })
        ));
        let older = store
            .put_bundle(mailbox(1), 9, Bytes::from_static(b"v0"))
            .await;
        assert!(matches!(older, Err(StoreError::NotNewer { .. })));

        let replaced = store
            .put_bundle(mailbox(1), 11, Bytes::from_static(b"v2"))
            .await
            .unwrap();
        assert_eq!(replaced, BundleUpdate::Replaced);
        assert_eq!(
            store.bundle(mailbox(1)).await.unwrap(),
            Some(Bytes::from_static(b"v2"))
        );
    }
}

#[tokio::test]
async fn concurrent_deposits_respect_quota() {
    for (store, _dir) in stores() {
        let quota = Quota {
            max_messages: 50,
            max_bytes: 1 << 20,
        };
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .deposit(mailbox(7), Bytes::from_static(b"c"), 1, quota)
                        .await
                })
            })
            .collect();
        let mut stored = 0;
        for task in tasks {
            if task.await.unwrap().is_ok() {
                stored += 1;
            }
        }
        assert_eq!(stored, 50, "{}", store.describe());
        assert_eq!(store.fetch(mailbox(7), 1000).await.unwrap().len(), 50);
    }
}

#[tokio::test]
async fn closed_store_rejects_calls() {
    for (store, _dir) in stores() {
        store.close().await.unwrap();
        let result = store
            .deposit(mailbox(1), Bytes::from_static(b"x"), 1, QUOTA)
            .await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{}",
            store.describe()
        );
        assert!(store.check().await.is_err(), "{}", store.describe());
    }
}

#[tokio::test]
async fn sqlite_store_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .put_bundle(mailbox(1), 5, Bytes::from_static(b"bundle"))
            .await
            .unwrap();
        let id = store
            .deposit(mailbox(1), Bytes::from_static(b"kept"), 1, QUOTA)
            .await
            .unwrap();
        store.close().await.unwrap();
        id
    };

    let store = SqliteStore::open(dir.path()).unwrap();
    let fetched = store.fetch(mailbox(1), 10).await.unwrap();
    assert_eq!(
        fetched,
        vec![StoredMessage {
            id,
            envelope: Bytes::from_static(b"kept")
        }]
    );
    assert_eq!(
        store.bundle(mailbox(1)).await.unwrap(),
        Some(Bytes::from_static(b"bundle"))
    );
    // Quota counts are rebuilt from the database.
    assert_eq!(
        store.usage(),
        Usage {
            messages: 1,
            bytes: 4
        }
    );
}
