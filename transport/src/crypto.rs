//! Every use the relay makes of `qrnm-engine`: decoding and verifying key
//! bundles, verifying and making owner request signatures, and reading the
//! public header of an envelope. The relay never decrypts anything.

use qrnm_engine::{
    BundleError, CompositeSignature, Engine, EnvelopeHeader, Identity, KeyError, Mode,
    PublicIdentity, SignContext, SignedBundle,
};

use crate::ids::MailboxId;

/// The public identity of a mailbox owner, which owner requests must be signed by.
#[derive(Clone, Debug)]
pub(crate) struct OwnerKey {
    identity: PublicIdentity,
    /// Strongest mode of the owner's bundle, used to count fallback deposits.
    strongest_mode: Option<Mode>,
}

/// A bundle that decoded, with the fields the relay checks.
pub(crate) struct DecodedBundle {
    bundle: SignedBundle,
    key: OwnerKey,
}

/// Why a published bundle is rejected.
#[derive(Debug)]
pub(crate) enum BundleRejection {
    /// The bytes are not a valid bundle: bad encoding, missing keys, bad or
    /// past lifetime (400).
    Malformed(String),
    /// The owner's signature does not verify (403).
    Invalid(String),
}

/// A request signature that does not verify.
#[derive(Debug)]
pub(crate) enum SignatureRejection {
    /// The signature header does not hold a signature encoding.
    Malformed,
    /// The signature does not verify under the owner's key.
    Invalid,
}

/// The public envelope header fields the relay checks.
#[derive(Copy, Clone, Debug)]
pub(crate) struct EnvelopeInfo {
    pub(crate) recipient: MailboxId,
    pub(crate) mode: Mode,
}

impl DecodedBundle {
    /// Decodes a bundle without checking its signature.
    pub(crate) fn decode(bytes: &[u8]) -> Result<DecodedBundle, BundleRejection> {
        let bundle = SignedBundle::decode(bytes)
            .map_err(|e| BundleRejection::Malformed(format!("invalid key bundle: {e}")))?;
        let key = OwnerKey {
            identity: bundle.identity().clone(),
            strongest_mode: bundle.modes().strongest(),
        };
        Ok(DecodedBundle { bundle, key })
    }

    /// Mailbox of the bundle's owner: the id of its embedded identity.
    pub(crate) fn owner(&self) -> MailboxId {
        MailboxId(*self.bundle.owner().as_bytes())
    }

    pub(crate) fn created_at(&self) -> u64 {
        self.bundle.created_at()
    }

    pub(crate) fn key(&self) -> &OwnerKey {
        &self.key
    }

    /// Checks the owner's signatures, that every listed mode has its keys,
    /// and that the bundle has not expired at `now` (unix seconds).
    ///
    /// A signature failure is [`BundleRejection::Invalid`]; a missing key, a
    /// bad lifetime or an expiry is [`BundleRejection::Malformed`].
    pub(crate) fn verify(&self, engine: &Engine, now: u64) -> Result<(), BundleRejection> {
        match self.bundle.verify(engine, now) {
            Ok(_) => Ok(()),
            Err(e @ BundleError::Signature(_)) => Err(BundleRejection::Invalid(format!(
                "key bundle rejected: {e}"
            ))),
            Err(e) => Err(BundleRejection::Malformed(format!(
                "key bundle rejected: {e}"
            ))),
        }
    }
}

impl OwnerKey {
    /// Reads the owner key from a stored bundle, which was verified when it was published.
    pub(crate) fn from_stored_bundle(bytes: &[u8]) -> Result<OwnerKey, String> {
        DecodedBundle::decode(bytes)
            .map(|decoded| decoded.key)
            .map_err(|e| match e {
                BundleRejection::Malformed(m) | BundleRejection::Invalid(m) => m,
            })
    }

    pub(crate) fn strongest_mode(&self) -> Option<Mode> {
        self.strongest_mode
    }

    /// Verifies an owner request signature (the `CompositeSignature` encoding) over `message`.
    pub(crate) fn verify_request(
        &self,
        engine: &Engine,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureRejection> {
        let signature =
            CompositeSignature::decode(signature).map_err(|_| SignatureRejection::Malformed)?;
        self.identity
            .verify_with(engine, SignContext::Request, message, &signature)
            .map_err(|_| SignatureRejection::Invalid)
    }
}

/// Signs an owner request message and returns the `CompositeSignature` encoding.
pub(crate) fn sign_request_message(
    identity: &Identity,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    identity
        .sign(SignContext::Request, message)
        .map(|signature| signature.encode())
}

/// Reads the public header of an envelope.
pub(crate) fn parse_envelope(bytes: &[u8]) -> Result<EnvelopeInfo, String> {
    let header =
        EnvelopeHeader::parse(bytes).map_err(|error| format!("invalid envelope: {error}"))?;
    Ok(EnvelopeInfo {
        recipient: MailboxId(*header.recipient().as_bytes()),
        mode: header.mode(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_envelope_message_reads_an_envelope() {
        let error = parse_envelope(&[0x55; 200]).unwrap_err();
        assert_eq!(
            error,
            "invalid envelope: bad magic bytes: input is not an encoded envelope"
        );
    }
}
