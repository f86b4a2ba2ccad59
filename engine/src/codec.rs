//! Canonical binary encoding: a bounds-checked [`Reader`] and a [`Writer`].
//!
//! Integers are big-endian. Fixed-length fields (keys, ciphertexts,
//! signatures, ids) are written without a length, because the algorithm
//! identifier in front of them fixes their length. Variable-length fields
//! carry a `u32` length prefix, and every reader of such a field passes a
//! named maximum that the prefix must not exceed.
//!
//! Every read checks the remaining length before it slices, so no input can
//! make decoding panic, and [`Reader::finish`] rejects trailing bytes so that
//! each value has exactly one encoding.

use crate::error::DecodeError;

/// Cursor over an encoding being decoded.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    /// Number of bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    /// Number of bytes read so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Reads exactly `len` bytes.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if fewer than `len` bytes remain.
    pub fn bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if len > remaining {
            return Err(DecodeError::Truncated {
                what,
                needed: len,
                remaining,
            });
        }

        let start = self.position;
        self.position += len;
        Ok(&self.bytes[start..self.position])
    }

    /// Reads a fixed-size array.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if fewer than `N` bytes remain.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] at the end of the input.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian `u32`.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if fewer than 4 bytes remain.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u64`.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if fewer than 8 bytes remain.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads a field with a `u32` length prefix of at most `max` bytes.
    ///
    /// # Errors
    /// [`DecodeError::TooLong`] if the prefix exceeds `max`, checked before
    /// the length is compared with the input; [`DecodeError::Truncated`] if
    /// the input is shorter than the prefix states.
    pub fn var_bytes(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.bytes(len, what)
    }

    /// Checks the magic bytes at the current position.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] or [`DecodeError::BadMagic`].
    pub fn magic(&mut self, magic: &[u8], what: &'static str) -> Result<(), DecodeError> {
        if self.bytes(magic.len(), what)? != magic {
            return Err(DecodeError::BadMagic { what });
        }
        Ok(())
    }

    /// Reads a version byte and checks it equals `version`.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] or [`DecodeError::UnknownVersion`].
    pub fn version(&mut self, version: u8, what: &'static str) -> Result<(), DecodeError> {
        let found = self.u8(what)?;
        if found != version {
            return Err(DecodeError::UnknownVersion {
                what,
                version: found,
            });
        }
        Ok(())
    }

    /// Takes every byte that remains.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.position;
        self.position = self.bytes.len();
        &self.bytes[start..]
    }

    /// Ends decoding.
    ///
    /// # Errors
    /// [`DecodeError::TrailingBytes`] if any input is left unread.
    pub fn finish(self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }
}

/// Growable buffer that an encoding is written into.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// Starts an empty encoding with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a fixed-length field without a prefix.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(value);
        self
    }

    /// Appends a field with a `u32` length prefix.
    ///
    /// The callers pass values whose type bounds their length far below
    /// `u32::MAX` (keys, identities, signature sets), so the prefix is exact.
    pub fn var_bytes(&mut self, value: &[u8]) -> &mut Self {
        debug_assert!(u32::try_from(value.len()).is_ok());
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.u32(len).bytes(value)
    }

    /// Ends the encoding and returns its bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let mut writer = Writer::default();
        writer.u8(1).u32(0x0203_0405).u64(0x0607_0809_0a0b_0c0d);
        let bytes = writer.into_vec();
        assert_eq!(bytes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.u8("a"), Ok(1));
        assert_eq!(reader.u32("b"), Ok(0x0203_0405));
        assert_eq!(reader.u64("c"), Ok(0x0607_0809_0a0b_0c0d));
        assert_eq!(reader.finish("test"), Ok(()));
    }

    #[test]
    fn short_input_is_truncated() {
        let mut reader = Reader::new(&[0, 0, 1]);
        let err = reader.u32("length");
        assert_eq!(
            err,
            Err(DecodeError::Truncated {
                what: "length",
                needed: 4,
                remaining: 3
            })
        );
    }

    #[test]
    fn var_bytes_checks_maximum_first() {
        // A prefix of 0xffff_ffff must be rejected as too long, not sliced.
        let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1, 2]);
        assert!(matches!(
            reader.var_bytes(16, "field"),
            Err(DecodeError::TooLong { max: 16, .. })
        ));

        let mut reader = Reader::new(&[0, 0, 0, 3, 1, 2]);
        assert!(matches!(
            reader.var_bytes(16, "field"),
            Err(DecodeError::Truncated {
                needed: 3,
                remaining: 2,
                ..
            })
        ));

        let mut writer = Writer::default();
        writer.var_bytes(&[7, 8, 9]);
        let bytes = writer.into_vec();
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.var_bytes(3, "field"), Ok(&[7u8, 8, 9][..]));
    }

    #[test]
    fn finish_rejects_trailing_bytes() {
        let mut reader = Reader::new(&[1, 2]);
        assert_eq!(reader.u8("first"), Ok(1));
        assert_eq!(
            reader.finish("pair"),
            Err(DecodeError::TrailingBytes {
                what: "pair",
                count: 1
            })
        );
    }

    #[test]
    fn magic_and_version_are_checked() {
        let mut reader = Reader::new(b"QRX\x01");
        assert_eq!(
            reader.magic(b"QRB", "bundle"),
            Err(DecodeError::BadMagic { what: "bundle" })
        );

        let mut reader = Reader::new(b"QRB\x02");
        assert_eq!(reader.magic(b"QRB", "bundle"), Ok(()));
        assert_eq!(
            reader.version(1, "bundle"),
            Err(DecodeError::UnknownVersion {
                what: "bundle",
                version: 2
            })
        );
    }
}
