//! Storage of key bundles and mailboxes behind the [`Store`] trait.
//!
//! Two implementations exist: [`SqliteStore`], the durable default, and
//! [`MemoryStore`] for tests and benchmarks. Both enforce the per-mailbox
//! quotas atomically with the write, so concurrent deposits cannot overshoot
//! them.

mod memory;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

pub use crate::ids::{MailboxId, MessageId};
pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

/// The boxed future every [`Store`] method returns, so that the trait can be used as `dyn Store`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Per-mailbox quotas checked by [`Store::deposit`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Maximum stored messages in one mailbox.
    pub max_messages: u64,
    /// Maximum stored envelope bytes in one mailbox.
    pub max_bytes: u64,
}

/// A message as stored: its id and the envelope bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// The id returned by the deposit.
    pub id: MessageId,
    /// The envelope exactly as deposited.
    pub envelope: Bytes,
}

/// Result of a successful [`Store::put_bundle`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BundleUpdate {
    /// The mailbox had no bundle before.
    Created,
    /// An older bundle was replaced.
    Replaced,
}

/// Totals over all mailboxes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Stored messages.
    pub messages: u64,
    /// Stored envelope bytes.
    pub bytes: u64,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The deposit would exceed the mailbox's quota.
    #[error(
        "mailbox is full: it holds {messages} messages and {bytes} bytes (limits {max_messages} and {max_bytes})"
    )]
    MailboxFull {
        /// Messages stored now.
        messages: u64,
        /// Bytes stored now.
        bytes: u64,
        /// The message limit.
        max_messages: u64,
        /// The byte limit.
        max_bytes: u64,
    },
    /// The bundle is not newer than the stored one.
    #[error("bundle created at {offered} is not newer than the stored bundle created at {stored}")]
    NotNewer {
        /// Creation time of the stored bundle, unix seconds.
        stored: u64,
        /// Creation time of the rejected bundle, unix seconds.
        offered: u64,
    },
    /// The store is closed or its files cannot be used.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Storage of key bundles and mailboxes.
///
/// Every method may be called concurrently. A method that changes state
/// returns only after the change is as durable as the implementation
/// promises ([`SqliteStore`]: on disk and fsynced; [`MemoryStore`]: in memory).
pub trait Store: Send + Sync + 'static {
    /// Stores `bundle` for `mailbox` unless the stored bundle was created at the same time or later.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotNewer`], or [`StoreError::Unavailable`].
    fn put_bundle(
        &self,
        mailbox: MailboxId,
        created_at: u64,
        bundle: Bytes,
    ) -> StoreFuture<'_, BundleUpdate>;

    /// Returns the stored bundle of `mailbox`, if any.
    fn bundle(&self, mailbox: MailboxId) -> StoreFuture<'_, Option<Bytes>>;

    /// Appends an envelope to `mailbox` and returns its new id.
    ///
    /// `received_at_ms` (unix milliseconds) is the time retention counts from.
    ///
    /// # Errors
    ///
    /// [`StoreError::MailboxFull`] when the envelope would exceed `quota`.
    fn deposit(
        &self,
        mailbox: MailboxId,
        envelope: Bytes,
        received_at_ms: u64,
        quota: Quota,
    ) -> StoreFuture<'_, MessageId>;

    /// Returns up to `limit` messages of `mailbox`, oldest first.
    fn fetch(&self, mailbox: MailboxId, limit: usize) -> StoreFuture<'_, Vec<StoredMessage>>;

    /// Erases one message. Returns `false` when `mailbox` has no message `id`.
    fn delete(&self, mailbox: MailboxId, id: MessageId) -> StoreFuture<'_, bool>;

    /// Erases every message received before `cutoff_ms` (unix milliseconds)
    /// and returns how many were erased.
    fn erase_older_than(&self, cutoff_ms: u64) -> StoreFuture<'_, u64>;

    /// Totals over all mailboxes.
    fn usage(&self) -> Usage;

    /// Checks that the store can serve reads.
    fn check(&self) -> StoreFuture<'_, ()>;

    /// Finishes pending writes and releases the files. Later calls fail with
    /// [`StoreError::Unavailable`].
    fn close(&self) -> StoreFuture<'_, ()>;

    /// Short description for logs, such as `sqlite data/qrnm-relay.sqlite3`.
    fn describe(&self) -> String;
}

#[cfg(test)]
mod tests;
