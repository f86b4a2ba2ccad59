//! The ledger of every sealed message: what was sent, whether the relay acknowledged it,
//! and whether a receiver verified it. Receivers check each opened envelope against it;
//! at the end it names every acknowledged message that never arrived.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use qrnm_engine::{IdentityId, Mode};

use crate::report::Failure;

/// Record the sender keeps of a sealed message.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// Index of the scenario that sent it.
    pub scenario: usize,
    /// Index of the receiving user.
    pub recipient: u32,
    /// Identity id of the sender.
    pub sender_id: IdentityId,
    /// Mode the engine sealed it in.
    pub mode: Mode,
    /// BLAKE3 hash of the payload.
    pub payload_hash: [u8; 32],
}

#[derive(Debug, Clone)]
struct Entry {
    sent: SentMessage,
    relay_id: Option<[u8; 16]>,
    send_start: Option<Instant>,
    acknowledged: bool,
    verified: bool,
    delete_confirmed: bool,
}

/// Result of checking a fetched envelope against the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// First delivery, equal to what was sent.
    Verified {
        /// Index of the scenario that sent the message.
        scenario: usize,
        /// Start of the send, when the sender got that far.
        send_start: Option<Instant>,
    },
    /// Fetched again after a delete that was not confirmed: the relay may deliver it again,
    /// and the receiver deletes it again.
    Redelivered,
    /// A failed check, with the index of the scenario that sent the message when known.
    Failed(Option<usize>, Failure),
}

/// Contents of one opened envelope, as a receiver found them.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// Relay's message id.
    pub relay_id: [u8; 16],
    /// Index of the receiving user.
    pub recipient: u32,
    /// Sequence number from the payload header.
    pub seq: u64,
    /// Sender id that the engine verified.
    pub sender_id: IdentityId,
    /// Mode of the envelope.
    pub mode: Mode,
    /// The decrypted payload.
    pub payload: &'a [u8],
}

/// Counts per scenario, computed by [`Ledger::totals`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Messages the relay acknowledged with 201.
    pub acknowledged: u64,
    /// Messages verified by their receiver.
    pub verified: u64,
    /// Acknowledged messages not verified.
    pub lost: u64,
    /// Messages delivered and verified although their post got no 201 (the relay stored them
    /// but the response was lost, as when it is killed).
    pub delivered_unacknowledged: u64,
}

/// Every message of a run, indexed by sequence number.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Mutex<Vec<Option<Entry>>>,
}

impl Ledger {
    /// Creates an empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<Entry>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves `count` sequence numbers and returns the first.
    pub fn reserve(&self, count: usize) -> u64 {
        let mut entries = self.lock();
        let first = entries.len();
        entries.resize_with(first + count, || None);
        first as u64
    }

    /// Records a sealed message under its reserved sequence number.
    pub fn record_sealed(&self, seq: u64, sent: SentMessage) {
        if let Some(slot) = self.lock().get_mut(seq as usize) {
            *slot = Some(Entry {
                sent,
                relay_id: None,
                send_start: None,
                acknowledged: false,
                verified: false,
                delete_confirmed: false,
            });
        }
    }

    /// Records the relay's 201 for a message.
    ///
    /// Returns a failure when the message was already delivered under another id.
    pub fn record_acknowledged(&self, seq: u64, relay_id: [u8; 16]) -> Option<Failure> {
        let mut entries = self.lock();
        let entry = entries.get_mut(seq as usize)?.as_mut()?;
        entry.acknowledged = true;
        match entry.relay_id {
            Some(fetched) if fetched != relay_id => Some(Failure {
                scenario: String::new(),
                kind: "wrong_message_id".to_owned(),
                message_id: Some(hex::encode(relay_id)),
                seq: Some(seq),
                detail: format!(
                    "the relay acknowledged id {} but delivered id {}",
                    hex::encode(relay_id),
                    hex::encode(fetched)
                ),
            }),
            _ => {
                entry.relay_id = Some(relay_id);
                None
            }
        }
    }

    /// Records the time a message's send started, from which its delivery latency counts.
    pub fn record_send_start(&self, seq: u64, send_start: Instant) {
        if let Some(Some(entry)) = self.lock().get_mut(seq as usize) {
            entry.send_start = Some(send_start);
        }
    }

    /// Checks a fetched and opened envelope against what was sent.
    pub fn check_received(&self, received: &Received<'_>) -> Verdict {
        let mut entries = self.lock();
        let relay_hex = hex::encode(received.relay_id);
        let scenario = entries
            .get(received.seq as usize)
            .and_then(Option::as_ref)
            .map(|e| e.sent.scenario);
        let fail = |kind: &str, detail: String| {
            Verdict::Failed(
                scenario,
                Failure {
                    scenario: String::new(),
                    kind: kind.to_owned(),
                    message_id: Some(relay_hex.clone()),
                    seq: Some(received.seq),
                    detail,
                },
            )
        };
        let Some(Some(entry)) = entries.get_mut(received.seq as usize) else {
            return fail(
                "unknown_message",
                "no message with this sequence number was sealed".to_owned(),
            );
        };

        if entry.sent.recipient != received.recipient {
            return fail(
                "wrong_recipient",
                format!(
                    "sent to user {}, fetched from the mailbox of user {}",
                    entry.sent.recipient, received.recipient
                ),
            );
        }
        if entry.sent.sender_id != received.sender_id {
            return fail(
                "wrong_sender",
                format!(
                    "sent by {}, opened as from {}",
                    entry.sent.sender_id, received.sender_id
                ),
            );
        }
        if entry.sent.mode != received.mode {
            return fail(
                "wrong_mode",
                format!("sealed in {}, opened in {}", entry.sent.mode, received.mode),
            );
        }
        if *blake3::hash(received.payload).as_bytes() != entry.sent.payload_hash {
            return fail(
                "wrong_content",
                "the payload's BLAKE3 hash differs from the sent one".to_owned(),
            );
        }
        if let Some(known) = entry.relay_id {
            if known != received.relay_id {
                let kind = if entry.verified {
                    "duplicate"
                } else {
                    "wrong_message_id"
                };
                return fail(
                    kind,
                    format!("already known under relay id {}", hex::encode(known)),
                );
            }
        }

        if entry.verified {
            if entry.delete_confirmed {
                return fail(
                    "duplicate",
                    "delivered again after its delete was confirmed with 204".to_owned(),
                );
            }
            return Verdict::Redelivered;
        }
        entry.verified = true;
        entry.relay_id = Some(received.relay_id);
        Verdict::Verified {
            scenario: entry.sent.scenario,
            send_start: entry.send_start,
        }
    }

    /// Records that the relay confirmed the delete of a verified message.
    pub fn record_deleted(&self, seq: u64) {
        if let Some(Some(entry)) = self.lock().get_mut(seq as usize) {
            entry.delete_confirmed = true;
        }
    }

    /// Returns the number of acknowledged messages of `scenario` not verified yet.
    pub fn outstanding(&self, scenario: usize) -> u64 {
        self.lock()
            .iter()
            .flatten()
            .filter(|e| e.sent.scenario == scenario && e.acknowledged && !e.verified)
            .count() as u64
    }

    /// Returns the counts of `scenario`.
    pub fn totals(&self, scenario: usize) -> Totals {
        let mut totals = Totals::default();
        for entry in self
            .lock()
            .iter()
            .flatten()
            .filter(|e| e.sent.scenario == scenario)
        {
            totals.acknowledged += u64::from(entry.acknowledged);
            totals.verified += u64::from(entry.verified);
            totals.lost += u64::from(entry.acknowledged && !entry.verified);
            totals.delivered_unacknowledged += u64::from(entry.verified && !entry.acknowledged);
        }
        totals
    }

    /// Returns a failure for every acknowledged message of `scenario` that was never verified.
    pub fn lost_messages(&self, scenario: usize) -> Vec<Failure> {
        self.lock()
            .iter()
            .enumerate()
            .filter_map(|(seq, entry)| entry.as_ref().map(|e| (seq, e)))
            .filter(|(_, e)| e.sent.scenario == scenario && e.acknowledged && !e.verified)
            .map(|(seq, e)| Failure {
                scenario: String::new(),
                kind: "lost".to_owned(),
                message_id: e.relay_id.map(hex::encode),
                seq: Some(seq as u64),
                detail: format!(
                    "acknowledged with 201 for user {} but never delivered",
                    e.sent.recipient
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(recipient: u32, payload: &[u8]) -> SentMessage {
        SentMessage {
            scenario: 0,
            recipient,
            sender_id: IdentityId::from_bytes([7; 32]),
            mode: Mode::Hybrid,
            payload_hash: *blake3::hash(payload).as_bytes(),
        }
    }

    fn received<'a>(seq: u64, relay_id: [u8; 16], payload: &'a [u8]) -> Received<'a> {
        Received {
            relay_id,
            recipient: 1,
            seq,
            sender_id: IdentityId::from_bytes([7; 32]),
            mode: Mode::Hybrid,
            payload,
        }
    }

    #[test]
    fn verified_once_then_duplicate() {
        let ledger = Ledger::new();
        let seq = ledger.reserve(1);
        ledger.record_sealed(seq, sent(1, b"hello"));
        ledger.record_send_start(seq, Instant::now());
        assert_eq!(ledger.record_acknowledged(seq, [1; 16]), None);
        assert_eq!(ledger.outstanding(0), 1);

        assert!(matches!(
            ledger.check_received(&received(seq, [1; 16], b"hello")),
            Verdict::Verified {
                scenario: 0,
                send_start: Some(_)
            }
        ));
        assert_eq!(ledger.outstanding(0), 0);
        assert_eq!(
            ledger.check_received(&received(seq, [1; 16], b"hello")),
            Verdict::Redelivered
        );

        ledger.record_deleted(seq);
        let Verdict::Failed(_, failure) = ledger.check_received(&received(seq, [1; 16], b"hello"))
        else {
            panic!("a delivery after a confirmed delete must fail");
        };
        assert_eq!(failure.kind, "duplicate");
        assert_eq!(
            failure.message_id.as_deref(),
            Some("01010101010101010101010101010101")
        );
    }

    #[test]
    fn mismatches_are_failures() {
        let ledger = Ledger::new();
        let seq = ledger.reserve(1);
        ledger.record_sealed(seq, sent(1, b"hello"));

        let cases: [(Received<'_>, &str); 5] = [
            (received(seq, [1; 16], b"hellO"), "wrong_content"),
            (
                Received {
                    mode: Mode::Classical,
                    ..received(seq, [1; 16], b"hello")
                },
                "wrong_mode",
            ),
            (
                Received {
                    recipient: 2,
                    ..received(seq, [1; 16], b"hello")
                },
                "wrong_recipient",
            ),
            (
                Received {
                    sender_id: IdentityId::from_bytes([8; 32]),
                    ..received(seq, [1; 16], b"hello")
                },
                "wrong_sender",
            ),
            (received(seq + 5, [1; 16], b"hello"), "unknown_message"),
        ];
        for (case, kind) in cases {
            match ledger.check_received(&case) {
                Verdict::Failed(_, failure) => assert_eq!(failure.kind, kind),
                other => panic!("expected {kind}, got {other:?}"),
            }
        }
    }

    #[test]
    fn unverified_acknowledged_messages_are_lost() {
        let ledger = Ledger::new();
        let first = ledger.reserve(3);
        for seq in first..first + 3 {
            ledger.record_sealed(seq, sent(1, b"x"));
        }
        ledger.record_acknowledged(first, [1; 16]);
        ledger.record_acknowledged(first + 1, [2; 16]);
        ledger.check_received(&received(first, [1; 16], b"x"));
        // The third was delivered without a 201, as when the relay dies after storing it.
        ledger.check_received(&received(first + 2, [3; 16], b"x"));

        let totals = ledger.totals(0);
        assert_eq!(
            totals,
            Totals {
                acknowledged: 2,
                verified: 2,
                lost: 1,
                delivered_unacknowledged: 1
            }
        );
        let lost = ledger.lost_messages(0);
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].seq, Some(first + 1));
        assert_eq!(
            lost[0].message_id.as_deref(),
            Some("02020202020202020202020202020202")
        );
    }
}
