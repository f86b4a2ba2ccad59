//! Binary body of a message listing (`application/vnd.qrnm.messages`).
//!
//! Layout, integers big-endian: `count u32`, then `count` times
//! `id [16] | length u32 | envelope [length]`. Decoding rejects a truncated
//! body and trailing bytes.

/// Content type of a message listing.
pub const MESSAGE_LIST_CONTENT_TYPE: &str = "application/vnd.qrnm.messages";

/// One listed message: its 16-byte id and the envelope bytes.
pub type ListedMessage = ([u8; 16], Vec<u8>);

/// Bytes of one entry besides its envelope: the id and the length.
const ENTRY_OVERHEAD: usize = 16 + 4;

/// A message listing that cannot be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The body ends inside a field.
    #[error("message list truncated: {needed} more bytes needed at offset {offset}")]
    Truncated {
        /// Offset of the field that does not fit.
        offset: usize,
        /// Bytes missing.
        needed: usize,
    },
    /// Bytes follow the last entry.
    #[error("message list has {0} trailing bytes")]
    TrailingBytes(usize),
    /// A count or length does not fit in 32 bits.
    #[error("message list field too large to encode: {0}")]
    TooLarge(usize),
}

/// Encodes a listing of `(id, envelope)` pairs.
///
/// # Errors
///
/// [`WireError::TooLarge`] when there are more than `u32::MAX` messages or
/// an envelope is longer than `u32::MAX` bytes.
pub fn encode_message_list<'a, I>(messages: I) -> Result<Vec<u8>, WireError>
where
    I: IntoIterator<Item = (&'a [u8; 16], &'a [u8])>,
    I::IntoIter: ExactSizeIterator,
{
    let messages = messages.into_iter();
    let count = u32::try_from(messages.len()).map_err(|_| WireError::TooLarge(messages.len()))?;

    let mut body = Vec::with_capacity(4 + messages.len() * ENTRY_OVERHEAD);
    body.extend_from_slice(&count.to_be_bytes());
    for (id, envelope) in messages {
        let length =
            u32::try_from(envelope.len()).map_err(|_| WireError::TooLarge(envelope.len()))?;
        body.extend_from_slice(id);
        body.extend_from_slice(&length.to_be_bytes());
        body.extend_from_slice(envelope);
    }
    Ok(body)
}

/// Decodes a listing into `(id, envelope)` pairs in the order they were encoded.
///
/// # Errors
///
/// [`WireError::Truncated`] or [`WireError::TrailingBytes`].
pub fn decode_message_list(body: &[u8]) -> Result<Vec<ListedMessage>, WireError> {
    let mut reader = Reader { body, offset: 0 };
    let count = u32::from_be_bytes(reader.take_array()?) as usize;

    // The count is untrusted: reserve only what the remaining bytes could hold.
    let mut messages = Vec::with_capacity(count.min(reader.remaining() / ENTRY_OVERHEAD));
    for _ in 0..count {
        let id: [u8; 16] = reader.take_array()?;
        let length = u32::from_be_bytes(reader.take_array()?) as usize;
        let envelope = reader.take(length)?.to_vec();
        messages.push((id, envelope));
    }

    match reader.remaining() {
        0 => Ok(messages),
        extra => Err(WireError::TrailingBytes(extra)),
    }
}

struct Reader<'a> {
    body: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.body.len() - self.offset
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        if length > self.remaining() {
            return Err(WireError::Truncated {
                offset: self.offset,
                needed: length - self.remaining(),
            });
        }
        let field = &self.body[self.offset..self.offset + length];
        self.offset += length;
        Ok(field)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let a = [1u8; 16];
        let b = [2u8; 16];
        let items: [(&[u8; 16], &[u8]); 2] = [(&a, b"first"), (&b, b"")];
        encode_message_list(items).unwrap()
    }

    #[test]
    fn list_round_trips() {
        let decoded = decode_message_list(&sample()).unwrap();
        assert_eq!(
            decoded,
            vec![([1u8; 16], b"first".to_vec()), ([2u8; 16], Vec::new())]
        );
    }

    #[test]
    fn empty_list_is_four_zero_bytes() {
        let items: [(&[u8; 16], &[u8]); 0] = [];
        assert_eq!(encode_message_list(items).unwrap(), [0, 0, 0, 0]);
        assert_eq!(decode_message_list(&[0, 0, 0, 0]).unwrap(), vec![]);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let body = sample();
        for cut in 0..body.len() {
            assert!(
                matches!(
                    decode_message_list(&body[..cut]),
                    Err(WireError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut body = sample();
        body.push(0);
        assert_eq!(decode_message_list(&body), Err(WireError::TrailingBytes(1)));
    }

    #[test]
    fn huge_count_does_not_allocate() {
        let body = u32::MAX.to_be_bytes();
        assert!(matches!(
            decode_message_list(&body),
            Err(WireError::Truncated { .. })
        ));
    }
}
