//! Mailbox and message identifiers as they appear in paths and JSON.

use std::fmt;
use std::str::FromStr;

/// A mailbox: the 32-byte id of its owner's identity, written as 64 lowercase hex digits.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId(pub [u8; 32]);

/// A stored message: 16 random bytes, written as 32 lowercase hex digits.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 16]);

/// A path segment that is not a valid id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} lowercase hex digits")]
pub struct InvalidId {
    expected: usize,
}

fn parse_lower_hex<const N: usize>(text: &str) -> Result<[u8; N], InvalidId> {
    let invalid = InvalidId { expected: 2 * N };
    // Uppercase hex would give a second spelling of the same id in paths and
    // signed request lines, so only lowercase is accepted.
    if text.len() != 2 * N || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(invalid);
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(text, &mut bytes).map_err(|_| invalid)?;
    Ok(bytes)
}

impl MessageId {
    /// Draws a fresh id from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// Fails only when the operating system cannot provide randomness.
    pub fn random() -> Result<MessageId, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(MessageId(bytes))
    }
}

impl FromStr for MailboxId {
    type Err = InvalidId;
    fn from_str(text: &str) -> Result<Self, InvalidId> {
        parse_lower_hex(text).map(MailboxId)
    }
}

impl FromStr for MessageId {
    type Err = InvalidId;
    fn from_str(text: &str) -> Result<Self, InvalidId> {
        parse_lower_hex(text).map(MessageId)
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailboxId({self})")
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_id_round_trips() {
        let text = "00ff".repeat(16);
        let id: MailboxId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn ids_reject_bad_text() {
        for text in [
            "",
            "abc",
            &"AB".repeat(16),
            &"zz".repeat(16),
            &"ab".repeat(17),
        ] {
            assert!(text.parse::<MessageId>().is_err(), "{text}");
        }
        assert!("ab".repeat(16).parse::<MessageId>().is_ok());
        assert!("ab".repeat(16).parse::<MailboxId>().is_err());
    }
}
