//! In-memory store for tests and benchmarks.
//!
//! NOTE: erased envelopes are dropped, not overwritten: a `Bytes` buffer may
//! still be shared with a response in flight, so it cannot be zeroed in place.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use bytes::Bytes;

use super::{
    BundleUpdate, MailboxId, MessageId, Quota, Store, StoreError, StoreFuture, StoredMessage, Usage,
};

/// Number of independently locked mailbox shards, so that deposits to
/// different mailboxes rarely wait for each other.
const SHARDS: usize = 64;

struct Entry {
    id: MessageId,
    received_at_ms: u64,
    envelope: Bytes,
}

#[derive(Default)]
struct Mailbox {
    messages: VecDeque<Entry>,
    bytes: u64,
}

struct StoredBundle {
    created_at: u64,
    bytes: Bytes,
}

/// Mailboxes and bundles in process memory; everything is lost when the process ends.
pub struct MemoryStore {
    shards: Vec<Mutex<HashMap<MailboxId, Mailbox>>>,
    bundles: RwLock<HashMap<MailboxId, StoredBundle>>,
    messages: AtomicU64,
    bytes: AtomicU64,
    closed: AtomicBool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// Creates an empty store.
    pub fn new() -> MemoryStore {
        MemoryStore {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            bundles: RwLock::new(HashMap::new()),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(
        &self,
        mailbox: &MailboxId,
    ) -> Result<MutexGuard<'_, HashMap<MailboxId, Mailbox>>, StoreError> {
        self.ensure_open()?;
        let index = usize::from(mailbox.0[0]) % SHARDS;
        self.shards[index]
            .lock()
            .map_err(|_| StoreError::Unavailable("a memory store lock is poisoned".to_owned()))
    }

    fn ensure_open(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            Err(StoreError::Unavailable("the store is closed".to_owned()))
        } else {
            Ok(())
        }
    }

    fn removed(&self, count: u64, bytes: u64) {
        self.messages.fetch_sub(count, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    fn put_bundle_now(
        &self,
        mailbox: MailboxId,
        created_at: u64,
        bundle: Bytes,
    ) -> Result<BundleUpdate, StoreError> {
        self.ensure_open()?;
        let mut bundles = self
            .bundles
            .write()
            .map_err(|_| StoreError::Unavailable("the bundle lock is poisoned".to_owned()))?;
        let update = match bundles.get(&mailbox) {
            Some(stored) if stored.created_at >= created_at => {
                return Err(StoreError::NotNewer {
                    stored: stored.created_at,
                    offered: created_at,
                });
            }
            Some(_) => BundleUpdate::Replaced,
            None => BundleUpdate::Created,
        };
        bundles.insert(
            mailbox,
            StoredBundle {
                created_at,
                bytes: bundle,
            },
        );
        Ok(update)
    }

    fn deposit_now(
        &self,
        mailbox: MailboxId,
        envelope: Bytes,
        received_at_ms: u64,
        quota: Quota,
    ) -> Result<MessageId, StoreError> {
        let id = MessageId::random().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let size = envelope.len() as u64;
        let mut shard = self.shard(&mailbox)?;
        let entry = shard.entry(mailbox).or_default();

        let count = entry.messages.len() as u64;
        if count >= quota.max_messages || entry.bytes.saturating_add(size) > quota.max_bytes {
            return Err(StoreError::MailboxFull {
                messages: count,
                bytes: entry.bytes,
                max_messages: quota.max_messages,
                max_bytes: quota.max_bytes,
            });
        }

        entry.messages.push_back(Entry {
            id,
            received_at_ms,
            envelope,
        });
        entry.bytes += size;
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size, Ordering::Relaxed);
        Ok(id)
    }

    fn delete_now(&self, mailbox: MailboxId, id: MessageId) -> Result<bool, StoreError> {
        let mut shard = self.shard(&mailbox)?;
        let Some(entry) = shard.get_mut(&mailbox) else {
            return Ok(false);
        };
        let Some(position) = entry.messages.iter().position(|m| m.id == id) else {
            return Ok(false);
        };
        if let Some(removed) = entry.messages.remove(position) {
            let size = removed.envelope.len() as u64;
            entry.bytes -= size;
            self.removed(1, size);
        }
        if entry.messages.is_empty() {
            shard.remove(&mailbox);
        }
        Ok(true)
    }

    fn erase_now(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        self.ensure_open()?;
        let mut erased = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().map_err(|_| {
                StoreError::Unavailable("a memory store lock is poisoned".to_owned())
            })?;
            for mailbox in shard.values_mut() {
                // Messages are appended in arrival order, so the expired ones are at the front.
                while let Some(front) = mailbox.messages.front() {
                    if front.received_at_ms >= cutoff_ms {
                        break;
                    }
                    let size = front.envelope.len() as u64;
                    mailbox.messages.pop_front();
                    mailbox.bytes -= size;
                    self.removed(1, size);
                    erased += 1;
                }
            }
            shard.retain(|_, mailbox| !mailbox.messages.is_empty());
        }
        Ok(erased)
    }
}

impl Store for MemoryStore {
    fn put_bundle(
        &self,
        mailbox: MailboxId,
        created_at: u64,
        bundle: Bytes,
    ) -> StoreFuture<'_, BundleUpdate> {
        let result = self.put_bundle_now(mailbox, created_at, bundle);
        Box::pin(async move { result })
    }

    fn bundle(&self, mailbox: MailboxId) -> StoreFuture<'_, Option<Bytes>> {
        let result = self.ensure_open().and_then(|()| {
            let bundles = self
                .bundles
                .read()
                .map_err(|_| StoreError::Unavailable("the bundle lock is poisoned".to_owned()))?;
            Ok(bundles.get(&mailbox).map(|b| b.bytes.clone()))
        });
        Box::pin(async move { result })
    }

    fn deposit(
        &self,
        mailbox: MailboxId,
        envelope: Bytes,
        received_at_ms: u64,
        quota: Quota,
    ) -> StoreFuture<'_, MessageId> {
        let result = self.deposit_now(mailbox, envelope, received_at_ms, quota);
        Box::pin(async move { result })
    }

    fn fetch(&self, mailbox: MailboxId, limit: usize) -> StoreFuture<'_, Vec<StoredMessage>> {
        let result = self.shard(&mailbox).map(|shard| {
            shard
                .get(&mailbox)
                .map(|entry| {
                    entry
                        .messages
                        .iter()
                        .take(limit)
                        .map(|m| StoredMessage {
                            id: m.id,
                            envelope: m.envelope.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        Box::pin(async move { result })
    }

    fn delete(&self, mailbox: MailboxId, id: MessageId) -> StoreFuture<'_, bool> {
        let result = self.delete_now(mailbox, id);
        Box::pin(async move { result })
    }

    fn erase_older_than(&self, cutoff_ms: u64) -> StoreFuture<'_, u64> {
        let result = self.erase_now(cutoff_ms);
        Box::pin(async move { result })
    }

    fn usage(&self) -> Usage {
        Usage {
            messages: self.messages.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        let result = self.ensure_open();
        Box::pin(async move { result })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        self.closed.store(true, Ordering::Release);
        Box::pin(async { Ok(()) })
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}
