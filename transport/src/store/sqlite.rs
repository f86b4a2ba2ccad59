//! Durable store: one SQLite database in WAL mode, written by one thread with group commit.
//!
//! # Durability
//!
//! `synchronous=FULL` makes every commit fsync the write-ahead log, and a
//! deposit returns only after the commit that contains it returned. To
//! keep fsyncs from bounding throughput, one writer thread drains every
//! pending write from its queue (up to [`MAX_BATCH`]), applies them in one
//! transaction and commits once, so concurrent deposits share one fsync.
//!
//! # Erasure
//!
//! `secure_delete=ON` makes SQLite overwrite deleted rows and freed pages
//! with zeros. Under WAL the old page images also stay in the log file until
//! it is reset, so every retention run ends with `wal_checkpoint(TRUNCATE)`,
//! which copies the zeroed pages into the database and truncates the log to
//! zero bytes. An acknowledged message therefore leaves every file of the
//! data directory within one retention sweep interval.
//!
//! # Reads
//!
//! Reads run on a small pool of separate connections on the blocking thread
//! pool; WAL lets them proceed while the writer commits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{Semaphore, oneshot};

use super::{
    BundleUpdate, MailboxId, MessageId, Quota, Store, StoreError, StoreFuture, StoredMessage, Usage,
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "qrnm-relay.sqlite3";

/// Maximum writes applied in one transaction (and so sharing one fsync).
pub const MAX_BATCH: usize = 1024;

/// Number of read connections.
const READERS: usize = 4;

/// How long a connection waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest size in bytes that the write-ahead log keeps after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bundles (
    mailbox    BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL,
    bundle     BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox        BLOB NOT NULL,
    id             BLOB NOT NULL UNIQUE,
    received_at_ms INTEGER NOT NULL,
    envelope       BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_mailbox ON messages (mailbox, seq);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (received_at_ms);
";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Command {
    PutBundle {
        mailbox: MailboxId,
        created_at: u64,
        bundle: Bytes,
        reply: Reply<BundleUpdate>,
    },
    Deposit {
        mailbox: MailboxId,
        id: MessageId,
        envelope: Bytes,
        received_at_ms: u64,
        quota: Quota,
        reply: Reply<MessageId>,
    },
    Delete {
        mailbox: MailboxId,
        id: MessageId,
        reply: Reply<bool>,
    },
    Erase {
        cutoff_ms: u64,
        reply: Reply<u64>,
    },
    Close {
        reply: Reply<()>,
    },
}

/// Result of a command, held until the transaction that contains it has committed.
enum Pending {
    Bundle(Reply<BundleUpdate>, Result<BundleUpdate, StoreError>),
    Deposit(Reply<MessageId>, Result<MessageId, StoreError>),
    Delete(Reply<bool>, bool),
    Erase(Reply<u64>, u64),
    Close(Reply<()>),
}

#[derive(Default)]
struct SharedUsage {
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// SQLite-backed store in one data directory; see the module documentation.
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<Command>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
    usage: Arc<SharedUsage>,
    closed: AtomicBool,
}

impl SqliteStore {
    /// Opens or creates the database in `dir` (creating `dir` too) and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the directory or database cannot be
    /// created, opened or read.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(DATABASE_FILE);

        let conn = open_connection(&path)?;
        conn.execute_batch(SCHEMA)?;
        let mailboxes = load_mailbox_usage(&conn)?;

        let usage = Arc::new(SharedUsage::default());
        let (messages, bytes) = mailboxes
            .values()
            .fold((0, 0), |(m, b), (count, size)| (m + count, b + size));
        usage.messages.store(messages, Ordering::Relaxed);
        usage.bytes.store(bytes, Ordering::Relaxed);

        let (sender, receiver) = mpsc::channel();
        let writer = Writer {
            conn,
            mailboxes,
            usage: usage.clone(),
        };
        std::thread::Builder::new()
            .name("qrnm-store-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteStore {
            path,
            writer: sender,
            readers: Mutex::new(Vec::new()),
            reader_slots: Semaphore::new(READERS),
            usage,
            closed: AtomicBool::new(false),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send<T: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<T>) -> Command,
    ) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let sent = if self.closed.load(Ordering::Acquire) {
            false
        } else {
            self.writer.send(make(reply)).is_ok()
        };
        Box::pin(async move {
            if !sent {
                return Err(closed());
            }
            answer.await.map_err(|_| closed())?
        })
    }

    /// Runs `query` on a pooled read connection on the blocking thread pool.
    fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        Box::pin(async move {
            if self.closed.load(Ordering::Acquire) {
                return Err(closed());
            }
            let _slot = self.reader_slots.acquire().await.map_err(|_| closed())?;
            let pooled = self
                .readers
                .lock()
                .map_err(|_| {
                    StoreError::Unavailable("the reader pool lock is poisoned".to_owned())
                })?
                .pop();
            let path = self.path.clone();

            let (conn, result) = tokio::task::spawn_blocking(move || {
                let conn = match pooled {
                    Some(conn) => conn,
                    None => open_connection(&path)?,
                };
                let result = query(&conn);
                Ok::<_, StoreError>((conn, result))
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("a read task failed: {e}")))??;

            if let Ok(mut readers) = self.readers.lock() {
                readers.push(conn);
            }
            Ok(result?)
        })
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".to_owned())
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| {
        StoreError::Unavailable(format!("cannot open database {}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "database {} cannot use WAL mode (journal_mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    Ok(conn)
}

fn load_mailbox_usage(conn: &Connection) -> Result<HashMap<MailboxId, (u64, u64)>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT mailbox, count(*), coalesce(sum(length(envelope)), 0) FROM messages GROUP BY mailbox",
    )?;
    let rows = statement.query_map([], |row| {
        let mailbox: Vec<u8> = row.get(0)?;
        let count: i64 = row.get(1)?;
        let bytes: i64 = row.get(2)?;
        Ok((mailbox, count, bytes))
    })?;

    let mut usage = HashMap::new();
    for row in rows {
        let (mailbox, count, bytes) = row?;
        let mailbox = mailbox_from_blob(&mailbox)?;
        usage.insert(mailbox, (count.unsigned_abs(), bytes.unsigned_abs()));
    }
    Ok(usage)
}

fn mailbox_from_blob(blob: &[u8]) -> Result<MailboxId, StoreError> {
    <[u8; 32]>::try_from(blob)
        .map(MailboxId)
        .map_err(|_| StoreError::Unavailable("a stored mailbox id is not 32 bytes".to_owned()))
}

fn to_sql_int(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| {
        StoreError::Unavailable(format!("{what} {value} does not fit in an SQLite integer"))
    })
}

/// The writer thread's state: the only connection that writes.
struct Writer {
    conn: Connection,
    /// Message count and bytes per non-empty mailbox, for quota checks.
    mailboxes: HashMap<MailboxId, (u64, u64)>,
    usage: Arc<SharedUsage>,
}

impl Writer {
    fn run(mut self, commands: mpsc::Receiver<Command>) {
        while let Ok(first) = commands.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match commands.try_recv() {
                    Ok(command) => batch.push(command),
                    Err(_) => break,
                }
            }
            if self.run_batch(batch) {
                break;
            }
        }
        tracing::debug!("store writer stopped");
    }

    /// Applies a batch in one transaction and replies to every command after the
    /// commit. Returns true when the batch contained a close command.
    fn run_batch(&mut self, batch: Vec<Command>) -> bool {
        let erases = batch.iter().any(|c| matches!(c, Command::Erase { .. }));
        let closing = batch.iter().any(|c| matches!(c, Command::Close { .. }));
        let size = batch.len();

        let outcome = self.apply_in_transaction(batch);
        let pending = match outcome {
            Ok(pending) => pending,
            Err((pending, error)) => {
                tracing::error!(%error, writes = size, "store commit failed; the batch was rolled back");
                if let Err(reload) = load_mailbox_usage(&self.conn).map(|m| self.mailboxes = m) {
                    tracing::error!(error = %reload, "cannot reload mailbox usage after a failed commit");
                }
                fail_all(pending, &error);
                self.publish_usage();
                return closing;
            }
        };
        self.publish_usage();

        let mut checkpoint_result = Ok(());
        if erases || closing {
            checkpoint_result = checkpoint_truncate(&self.conn);
            if let Err(error) = &checkpoint_result {
                tracing::error!(%error, "WAL checkpoint failed; erased bytes may remain in the log file");
            }
        }
        answer_all(pending, checkpoint_result);
        closing
    }

    /// Applies the batch in one transaction. On failure the transaction is
    /// rolled back and the error returned with every command's reply.
    fn apply_in_transaction(
        &mut self,
        batch: Vec<Command>,
    ) -> Result<Vec<Pending>, (Vec<Pending>, StoreError)> {
        let mut pending = Vec::with_capacity(batch.len());
        let mut failure: Option<StoreError> = None;
        let Writer {
            conn, mailboxes, ..
        } = self;

        let transaction = match conn.transaction() {
            Ok(t) => Some(t),
            Err(e) => {
                failure = Some(e.into());
                None
            }
        };

        for command in batch {
            match (&transaction, &failure) {
                (Some(tx), None) => {
                    if let Err(e) = apply(tx, mailboxes, command, &mut pending) {
                        failure = Some(e);
                    }
                }
                _ => park(command, &mut pending),
            }
        }

        if let (Some(tx), None) = (transaction, &failure) {
            match tx.commit() {
                Ok(()) => return Ok(pending),
                Err(e) => failure = Some(e.into()),
            }
        }
        // The in-memory counts may include writes that were rolled back; the
        // caller reloads them from the database.
        Err((pending, failure.unwrap_or_else(closed)))
    }

    fn publish_usage(&self) {
        let (messages, bytes) = self
            .mailboxes
            .values()
            .fold((0, 0), |(m, b), (count, size)| (m + count, b + size));
        self.usage.messages.store(messages, Ordering::Relaxed);
        self.usage.bytes.store(bytes, Ordering::Relaxed);
    }
}

/// Applies one command inside the open transaction and queues its reply.
///
/// An `Err` is an SQLite failure that aborts the whole batch. Quota and
/// ordering rejections are replies, not failures.
fn apply(
    tx: &Transaction<'_>,
    mailboxes: &mut HashMap<MailboxId, (u64, u64)>,
    command: Command,
    pending: &mut Vec<Pending>,
) -> Result<(), StoreError> {
    match command {
        Command::PutBundle {
            mailbox,
            created_at,
            bundle,
            reply,
        } => {
            let outcome = put_bundle(tx, mailbox, created_at, &bundle);
            pending.push(Pending::Bundle(reply, Ok(BundleUpdate::Created)));
            let answer = outcome?;
            set_last_bundle(pending, answer);
        }
        Command::Deposit {
            mailbox,
            id,
            envelope,
            received_at_ms,
            quota,
            reply,
        } => {
            let outcome = deposit(tx, mailboxes, mailbox, id, &envelope, received_at_ms, quota);
            pending.push(Pending::Deposit(reply, Ok(id)));
            let answer = outcome?;
            if let Some(Pending::Deposit(_, slot)) = pending.last_mut() {
                *slot = answer;
            }
        }
        Command::Delete { mailbox, id, reply } => {
            let outcome = delete(tx, mailboxes, mailbox, id);
            pending.push(Pending::Delete(reply, false));
            let found = outcome?;
            if let Some(Pending::Delete(_, slot)) = pending.last_mut() {
                *slot = found;
            }
        }
        Command::Erase { cutoff_ms, reply } => {
            let outcome = erase(tx, mailboxes, cutoff_ms);
            pending.push(Pending::Erase(reply, 0));
            let erased = outcome?;
            if let Some(Pending::Erase(_, slot)) = pending.last_mut() {
                *slot = erased;
            }
        }
        Command::Close { reply } => pending.push(Pending::Close(reply)),
    }
    Ok(())
}

fn set_last_bundle(pending: &mut [Pending], answer: Result<BundleUpdate, StoreError>) {
    if let Some(Pending::Bundle(_, slot)) = pending.last_mut() {
        *slot = answer;
    }
}

/// Queues a command that was not applied because the batch already failed.
fn park(command: Command, pending: &mut Vec<Pending>) {
    pending.push(match command {
        Command::PutBundle { reply, .. } => Pending::Bundle(reply, Ok(BundleUpdate::Created)),
        Command::Deposit { id, reply, .. } => Pending::Deposit(reply, Ok(id)),
        Command::Delete { reply, .. } => Pending::Delete(reply, false),
        Command::Erase { reply, .. } => Pending::Erase(reply, 0),
        Command::Close { reply } => Pending::Close(reply),
    });
}

/// Replies `error` to every queued command, because nothing of the batch was stored.
fn fail_all(pending: Vec<Pending>, error: &StoreError) {
    let message = error.to_string();
    let failed = || StoreError::Unavailable(message.clone());
    // A send fails only when the caller stopped waiting, which needs no reply.
    for item in pending {
        match item {
            Pending::Bundle(reply, _) => drop(reply.send(Err(failed()))),
            Pending::Deposit(reply, _) => drop(reply.send(Err(failed()))),
            Pending::Delete(reply, _) => drop(reply.send(Err(failed()))),
            Pending::Erase(reply, _) => drop(reply.send(Err(failed()))),
            Pending::Close(reply) => drop(reply.send(Err(failed()))),
        }
    }
}

/// Answers every queued command after a successful commit.
fn answer_all(pending: Vec<Pending>, checkpoint: Result<(), StoreError>) {
    let mut checkpoint = Some(checkpoint);
    for item in pending {
        match item {
            Pending::Bundle(reply, result) => drop(reply.send(result)),
            Pending::Deposit(reply, result) => drop(reply.send(result)),
            Pending::Delete(reply, found) => drop(reply.send(Ok(found))),
            Pending::Erase(reply, erased) => drop(reply.send(Ok(erased))),
            Pending::Close(reply) => {
                let result = checkpoint.take().unwrap_or(Ok(()));
                drop(reply.send(result));
            }
        }
    }
}

/// Inner `Err` is a rejection answered to the caller; outer `Err` aborts the batch.
fn put_bundle(
    tx: &Transaction<'_>,
    mailbox: MailboxId,
    created_at: u64,
    bundle: &[u8],
) -> Result<Result<BundleUpdate, StoreError>, StoreError> {
    let created = to_sql_int(created_at, "bundle creation time")?;
    let stored: Option<i64> = tx
        .prepare_cached("SELECT created_at FROM bundles WHERE mailbox = ?1")?
        .query_row(params![&mailbox.0[..]], |row| row.get(0))
        .optional()?;

    let update = match stored {
        Some(stored) if stored >= created => {
            return Ok(Err(StoreError::NotNewer {
                stored: stored.unsigned_abs(),
                offered: created_at,
            }));
        }
        Some(_) => BundleUpdate::Replaced,
        None => BundleUpdate::Created,
    };
    tx.prepare_cached(
        "INSERT INTO bundles (mailbox, created_at, bundle) VALUES (?1, ?2, ?3)
         ON CONFLICT (mailbox) DO UPDATE SET created_at = excluded.created_at, bundle = excluded.bundle",
    )?
    .execute(params![&mailbox.0[..], created, bundle])?;
    Ok(Ok(update))
}

/// Inner `Err` is a quota rejection; outer `Err` aborts the batch.
fn deposit(
    tx: &Transaction<'_>,
    mailboxes: &mut HashMap<MailboxId, (u64, u64)>,
    mailbox: MailboxId,
    id: MessageId,
    envelope: &[u8],
    received_at_ms: u64,
    quota: Quota,
) -> Result<Result<MessageId, StoreError>, StoreError> {
    let size = envelope.len() as u64;
    let (count, bytes) = mailboxes.get(&mailbox).copied().unwrap_or((0, 0));
    if count >= quota.max_messages || bytes.saturating_add(size) > quota.max_bytes {
        return Ok(Err(StoreError::MailboxFull {
            messages: count,
            bytes,
            max_messages: quota.max_messages,
            max_bytes: quota.max_bytes,
        }));
    }

    let received = to_sql_int(received_at_ms, "receive time")?;
    tx.prepare_cached(
        "INSERT INTO messages (mailbox, id, received_at_ms, envelope) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&mailbox.0[..], &id.0[..], received, envelope])?;

    let entry = mailboxes.entry(mailbox).or_insert((0, 0));
    entry.0 += 1;
    entry.1 += size;
    Ok(Ok(id))
}

fn delete(
    tx: &Transaction<'_>,
    mailboxes: &mut HashMap<MailboxId, (u64, u64)>,
    mailbox: MailboxId,
    id: MessageId,
) -> Result<bool, StoreError> {
    let size: Option<i64> = tx
        .prepare_cached(
            "DELETE FROM messages WHERE mailbox = ?1 AND id = ?2 RETURNING length(envelope)",
        )?
        .query_row(params![&mailbox.0[..], &id.0[..]], |row| row.get(0))
        .optional()?;
    match size {
        Some(size) => {
            subtract(mailboxes, mailbox, size.unsigned_abs());
            Ok(true)
        }
        None => Ok(false),
    }
}

fn erase(
    tx: &Transaction<'_>,
    mailboxes: &mut HashMap<MailboxId, (u64, u64)>,
    cutoff_ms: u64,
) -> Result<u64, StoreError> {
    let cutoff = i64::try_from(cutoff_ms).unwrap_or(i64::MAX);
    let mut statement = tx.prepare_cached(
        "DELETE FROM messages WHERE received_at_ms < ?1 RETURNING mailbox, length(envelope)",
    )?;
    let mut rows = statement.query(params![cutoff])?;

    let mut erased = 0;
    while let Some(row) = rows.next()? {
        let mailbox: Vec<u8> = row.get(0)?;
        let size: i64 = row.get(1)?;
        subtract(mailboxes, mailbox_from_blob(&mailbox)?, size.unsigned_abs());
        erased += 1;
    }
    Ok(erased)
}

fn subtract(mailboxes: &mut HashMap<MailboxId, (u64, u64)>, mailbox: MailboxId, size: u64) {
    if let Some(entry) = mailboxes.get_mut(&mailbox) {
        entry.0 = entry.0.saturating_sub(1);
        entry.1 = entry.1.saturating_sub(size);
        if entry.0 == 0 {
            mailboxes.remove(&mailbox);
        }
    }
}

/// Copies every WAL frame into the database and truncates the WAL to zero
/// bytes, retrying while readers hold old snapshots.
fn checkpoint_truncate(conn: &Connection) -> Result<(), StoreError> {
    const ATTEMPTS: u32 = 50;
    for _ in 0..ATTEMPTS {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(StoreError::Unavailable(
        "the write-ahead log stayed busy; it will be truncated at the next retention run"
            .to_owned(),
    ))
}

impl Store for SqliteStore {
    fn put_bundle(
        &self,
        mailbox: MailboxId,
        created_at: u64,
        bundle: Bytes,
    ) -> StoreFuture<'_, BundleUpdate> {
        self.send(|reply| Command::PutBundle {
            mailbox,
            created_at,
            bundle,
            reply,
        })
    }

    fn bundle(&self, mailbox: MailboxId) -> StoreFuture<'_, Option<Bytes>> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT bundle FROM bundles WHERE mailbox = ?1")?
                .query_row(params![&mailbox.0[..]], |row| row.get::<_, Vec<u8>>(0))
                .optional()
                .map(|bundle| bundle.map(Bytes::from))
        })
    }

    fn deposit(
        &self,
        mailbox: MailboxId,
        envelope: Bytes,
        received_at_ms: u64,
        quota: Quota,
    ) -> StoreFuture<'_, MessageId> {
        let id = match MessageId::random() {
            Ok(id) => id,
            Err(e) => {
                let error = StoreError::Unavailable(format!("no randomness for a message id: {e}"));
                return Box::pin(async move { Err(error) });
            }
        };
        self.send(|reply| Command::Deposit {
            mailbox,
            id,
            envelope,
            received_at_ms,
            quota,
            reply,
        })
    }

    fn fetch(&self, mailbox: MailboxId, limit: usize) -> StoreFuture<'_, Vec<StoredMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, envelope FROM messages WHERE mailbox = ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = statement.query_map(params![&mailbox.0[..], limit], |row| {
                let id: Vec<u8> = row.get(0)?;
                let envelope: Vec<u8> = row.get(1)?;
                Ok((id, envelope))
            })?;

            let mut messages = Vec::new();
            for row in rows {
                let (id, envelope) = row?;
                // A malformed id cannot be acknowledged, so it is skipped rather than served.
                let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else {
                    tracing::error!(%mailbox, "stored message id is not 16 bytes; skipped");
                    continue;
                };
                messages.push(StoredMessage {
                    id: MessageId(id),
                    envelope: Bytes::from(envelope),
                });
            }
            Ok(messages)
        })
    }

    fn delete(&self, mailbox: MailboxId, id: MessageId) -> StoreFuture<'_, bool> {
        self.send(|reply| Command::Delete { mailbox, id, reply })
    }

    fn erase_older_than(&self, cutoff_ms: u64) -> StoreFuture<'_, u64> {
        self.send(|reply| Command::Erase { cutoff_ms, reply })
    }

    fn usage(&self) -> Usage {
        Usage {
            messages: self.usage.messages.load(Ordering::Relaxed),
            bytes: self.usage.bytes.load(Ordering::Relaxed),
        }
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        self.read(|conn| conn.query_row("SELECT count(*) FROM bundles", [], |_| Ok(())))
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        let finished = self.send(|reply| Command::Close { reply });
        Box::pin(async move {
            let result = finished.await;
            self.closed.store(true, Ordering::Release);
            if let Ok(mut readers) = self.readers.lock() {
                readers.clear();
            }
            result
        })
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }
}
