//! Key derivation and hashing with BLAKE3 `derive_key`.
//!
//! Each purpose has its own context string, and each string carries the
//! protocol version, so that no output of one purpose can be replayed as the
//! output of another or of a later protocol version.

use zeroize::{Zeroize, Zeroizing};

use crate::mode::{AeadAlg, KemAlg, Mode};
use crate::primitives::SharedSecret;

/// Context for an identity id: the hash of a public identity's encoding.
pub const IDENTITY_ID_CONTEXT: &str = "qrnm v1 identity id";
/// Context for the hash of a KEM public key, bound into envelope keys.
pub const KEM_PUBLIC_KEY_CONTEXT: &str = "qrnm v1 kem public key hash";
/// Context for an envelope's AEAD key.
pub const ENVELOPE_KEY_CONTEXT: &str = "qrnm v1 envelope aead key";
/// Context for an envelope's AEAD nonce.
pub const ENVELOPE_NONCE_CONTEXT: &str = "qrnm v1 envelope nonce";
/// Context for the payload hash that envelope signatures cover.
pub const PAYLOAD_HASH_CONTEXT: &str = "qrnm v1 envelope payload hash";

/// Hashes a public identity's canonical encoding into its id.
pub fn identity_id(encoding: &[u8]) -> [u8; 32] {
    blake3::derive_key(IDENTITY_ID_CONTEXT, encoding)
}

/// Hashes a KEM public key.
pub fn kem_public_key_hash(public_key: &[u8]) -> [u8; 32] {
    blake3::derive_key(KEM_PUBLIC_KEY_CONTEXT, public_key)
}

/// Hashes an envelope payload for its signatures.
pub fn payload_hash(payload: &[u8]) -> [u8; 32] {
    blake3::derive_key(PAYLOAD_HASH_CONTEXT, payload)
}

/// Everything an envelope's AEAD key and nonce are derived from.
///
/// The transcript binds the mode, the algorithm ids, the recipient's id and
/// KEM public key, the KEM ciphertext and the KEM shared secret, so a key
/// derived for one recipient, mode or ciphertext is useless for any other.
///
/// The sender's id is not part of it: the sender is sealed inside the
/// ciphertext, so the recipient learns who sent the envelope only after
/// decrypting with this key. The sender's signatures bind the sender instead.
#[derive(Debug)]
pub struct Transcript<'a> {
    /// Mode of the envelope.
    pub mode: Mode,
    /// AEAD of the envelope.
    pub aead: AeadAlg,
    /// Recipient's identity id.
    pub recipient: &'a [u8; 32],
    /// [`kem_public_key_hash`] of the recipient's KEM public key for `mode`.
    pub recipient_kem_key_hash: &'a [u8; 32],
    /// KEM ciphertext from the envelope header.
    pub kem_ciphertext: &'a [u8],
    /// Shared secret from the KEM.
    pub shared_secret: &'a SharedSecret,
}

/// AEAD key and nonce of one envelope, zeroized on drop.
pub struct EnvelopeKeys {
    /// 32-byte AEAD key.
    pub key: Zeroizing<[u8; 32]>,
    /// 12-byte AEAD nonce.
    pub nonce: [u8; 12],
}

impl std::fmt::Debug for EnvelopeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeKeys")
            .field("key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl Transcript<'_> {
    /// Derives the envelope's AEAD key and nonce.
    ///
    /// Every key is used for a single message because it depends on a fresh
    /// KEM shared secret, so a nonce derived from the same transcript is
    /// never reused with that key.
    pub fn derive(&self) -> EnvelopeKeys {
        let mut key = Zeroizing::new([0u8; 32]);
        self.fill(ENVELOPE_KEY_CONTEXT, key.as_mut());

        let mut nonce = [0u8; 12];
        self.fill(ENVELOPE_NONCE_CONTEXT, &mut nonce);

        EnvelopeKeys { key, nonce }
    }

    /// Fills `out` with `derive_key(context, transcript)`, then wipes the
    /// hasher state, which has absorbed the shared secret.
    ///
    /// The KEM ciphertext is the only field whose length varies, and `mode`
    /// (hashed first) fixes that length, so the concatenation is unambiguous.
    fn fill(&self, context: &str, out: &mut [u8]) {
        let kem: KemAlg = self.mode.kem();
        let mut hasher = blake3::Hasher::new_derive_key(context);
        hasher
            .update(&[self.mode.id(), self.aead.id(), kem.id()])
            .update(self.recipient)
            .update(self.recipient_kem_key_hash)
            .update(self.kem_ciphertext)
            .update(self.shared_secret.expose());

        let mut output = hasher.finalize_xof();
        output.fill(out);
        output.zeroize();
        hasher.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript_keys(mode: Mode, aead: AeadAlg, recipient: [u8; 32], ct: &[u8]) -> EnvelopeKeys {
        let secret = SharedSecret::new([7; 32]);
        Transcript {
            mode,
            aead,
            recipient: &recipient,
            recipient_kem_key_hash: &[9; 32],
            kem_ciphertext: ct,
            shared_secret: &secret,
        }
        .derive()
    }

    #[test]
    fn every_transcript_field_changes_the_key() {
        let base = transcript_keys(Mode::Hybrid, AeadAlg::Aes256Gcm, [1; 32], &[2; 4]);
        let variants = [
            transcript_keys(Mode::Pq, AeadAlg::Aes256Gcm, [1; 32], &[2; 4]),
            transcript_keys(Mode::Hybrid, AeadAlg::ChaCha20Poly1305, [1; 32], &[2; 4]),
            transcript_keys(Mode::Hybrid, AeadAlg::Aes256Gcm, [3; 32], &[2; 4]),
            transcript_keys(Mode::Hybrid, AeadAlg::Aes256Gcm, [1; 32], &[2; 5]),
        ];
        for other in variants {
            assert_ne!(*base.key, *other.key);
            assert_ne!(base.nonce, other.nonce);
        }
    }

    #[test]
    fn key_and_nonce_use_distinct_contexts() {
        let keys = transcript_keys(Mode::Classical, AeadAlg::Aes256Gcm, [1; 32], &[2; 32]);
        assert_ne!(keys.key[..12], keys.nonce[..]);
    }

    #[test]
    fn contexts_are_distinct() {
        let contexts = [
            IDENTITY_ID_CONTEXT,
            KEM_PUBLIC_KEY_CONTEXT,
            ENVELOPE_KEY_CONTEXT,
            ENVELOPE_NONCE_CONTEXT,
            PAYLOAD_HASH_CONTEXT,
        ];
        for (i, a) in contexts.iter().enumerate() {
            for b in &contexts[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
