//! The plaintext of a load-test message: a fixed header that identifies the message,
//! followed by filler up to the requested size.
//!
//! Layout (integers big-endian): `magic "QLD1" | run id u64 | sender u32 | recipient u32 |
//! sequence number u64 | filler`. The sequence number is unique within a run, so the
//! receiver finds what was sent for it in the ledger and detects duplicates and losses.

/// Length of the header in bytes.
pub const HEADER_LEN: usize = 4 + 8 + 4 + 4 + 8;

const MAGIC: &[u8; 4] = b"QLD1";

/// The identifying fields of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Random id of the run, so that messages from an earlier run on the same relay can be distinguished.
    pub run_id: u64,
    /// Index of the sending user.
    pub sender: u32,
    /// Index of the receiving user.
    pub recipient: u32,
    /// Sequence number, unique within the run.
    pub seq: u64,
}

/// Why a plaintext is not a load-test message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Fewer bytes than the header.
    #[error("payload of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    TooShort(usize),
    /// The first four bytes are not the magic.
    #[error("payload does not start with the load-test magic")]
    BadMagic,
}

impl MessageHeader {
    /// Builds the payload: this header, then filler derived from the run id and
    /// sequence number, `size` bytes in all (at least the header).
    pub fn build_payload(&self, size: usize) -> Vec<u8> {
        let mut payload = Vec::with_capacity(size.max(HEADER_LEN));
        payload.extend_from_slice(MAGIC);
        payload.extend_from_slice(&self.run_id.to_be_bytes());
        payload.extend_from_slice(&self.sender.to_be_bytes());
        payload.extend_from_slice(&self.recipient.to_be_bytes());
        payload.extend_from_slice(&self.seq.to_be_bytes());

        let mut filler = vec![0u8; size.saturating_sub(HEADER_LEN)];
        let mut hasher = blake3::Hasher::new();
        hasher.update(&payload);
        hasher.finalize_xof().fill(&mut filler);
        payload.extend_from_slice(&filler);
        payload
    }

    /// Reads the header at the start of `payload`.
    ///
    /// # Errors
    ///
    /// Returns [`PayloadError`] when the payload is too short or lacks the magic.
    pub fn parse(payload: &[u8]) -> Result<MessageHeader, PayloadError> {
        let header = payload
            .get(..HEADER_LEN)
            .ok_or(PayloadError::TooShort(payload.len()))?;
        if &header[..4] != MAGIC {
            return Err(PayloadError::BadMagic);
        }
        let u64_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[at..at + 8]);
            u64::from_be_bytes(bytes)
        };
        let u32_at = |at: usize| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&header[at..at + 4]);
            u32::from_be_bytes(bytes)
        };
        Ok(MessageHeader {
            run_id: u64_at(4),
            sender: u32_at(12),
            recipient: u32_at(16),
            seq: u64_at(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let header = MessageHeader {
            run_id: 7,
            sender: 3,
            recipient: 9,
            seq: 1 << 40,
        };
        let payload = header.build_payload(256);
        assert_eq!(payload.len(), 256);
        assert_eq!(MessageHeader::parse(&payload), Ok(header));
    }

    #[test]
    fn filler_depends_on_sequence() {
        let a = MessageHeader {
            run_id: 1,
            sender: 0,
            recipient: 1,
            seq: 1,
        }
        .build_payload(64);
        let b = MessageHeader {
            run_id: 1,
            sender: 0,
            recipient: 1,
            seq: 2,
        }
        .build_payload(64);
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert_eq!(
            MessageHeader::parse(b"QLD1"),
            Err(PayloadError::TooShort(4))
        );
        assert_eq!(
            MessageHeader::parse(&[0u8; HEADER_LEN]),
            Err(PayloadError::BadMagic)
        );
    }
}
