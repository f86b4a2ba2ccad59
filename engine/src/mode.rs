//! Crypto modes and the algorithm identifiers written into encodings.

use std::fmt;
use std::str::FromStr;

/// A crypto mode: which KEM and which signatures protect an envelope.
///
/// The order is strength order, used by negotiation: `Classical < Hybrid < Pq`.
/// `Pq` ranks above `Hybrid` because it uses the NIST category 5 parameter
/// sets (ML-KEM-1024, ML-DSA-87) that CNSA 2.0 requires. `Hybrid` is the
/// default because it stays safe if either its lattice or its elliptic-curve
/// half is broken.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Mode {
    /// X25519 and Ed25519, for legacy peers only.
    Classical = 1,
    /// X-Wing (ML-KEM-768 + X25519), signed with Ed25519 and ML-DSA-65.
    Hybrid = 2,
    /// ML-KEM-1024, signed with ML-DSA-87.
    Pq = 3,
}

impl Mode {
    /// Every mode, weakest first.
    pub const ALL: [Mode; 3] = [Mode::Classical, Mode::Hybrid, Mode::Pq];

    /// Lower-case name used in config files, reports and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Classical => "classical",
            Mode::Hybrid => "hybrid",
            Mode::Pq => "pq",
        }
    }

    /// Identifier written into bundles and envelopes.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Parses an identifier from an encoding.
    pub fn from_id(id: u8) -> Option<Mode> {
        match id {
            1 => Some(Mode::Classical),
            2 => Some(Mode::Hybrid),
            3 => Some(Mode::Pq),
            _ => None,
        }
    }

    /// Returns the key encapsulation mechanism of this mode.
    pub fn kem(self) -> KemAlg {
        match self {
            Mode::Classical => KemAlg::X25519,
            Mode::Hybrid => KemAlg::XWing,
            Mode::Pq => KemAlg::MlKem1024,
        }
    }

    /// Returns the signature algorithms of this mode, all of which must verify.
    pub fn signatures(self) -> &'static [SigAlg] {
        match self {
            Mode::Classical => &[SigAlg::Ed25519],
            Mode::Hybrid => &[SigAlg::Ed25519, SigAlg::MlDsa65],
            Mode::Pq => &[SigAlg::MlDsa87],
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a mode name that is not `classical`, `hybrid` or `pq`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?}: expected one of classical, hybrid, pq")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "classical" => Ok(Mode::Classical),
            "hybrid" => Ok(Mode::Hybrid),
            "pq" => Ok(Mode::Pq),
            other => Err(UnknownMode(other.to_owned())),
        }
    }
}

/// A set of modes, stored as a bit per mode (bit `id - 1`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ModeSet(u8);

impl ModeSet {
    /// The empty set.
    pub const EMPTY: ModeSet = ModeSet(0);
    /// All three modes.
    pub const ALL: ModeSet = ModeSet(0b111);

    /// Builds the set of the given modes.
    pub fn of(modes: &[Mode]) -> ModeSet {
        let mut set = ModeSet::EMPTY;
        for &mode in modes {
            set.insert(mode);
        }
        set
    }

    /// Parses the bit encoding; `None` if a bit outside the three modes is set.
    pub fn from_bits(bits: u8) -> Option<ModeSet> {
        (bits & !Self::ALL.0 == 0).then_some(ModeSet(bits))
    }

    /// Returns the bit encoding.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Adds `mode`.
    pub fn insert(&mut self, mode: Mode) {
        self.0 |= 1 << (mode.id() - 1);
    }

    /// Removes `mode`.
    pub fn remove(&mut self, mode: Mode) {
        self.0 &= !(1 << (mode.id() - 1));
    }

    /// Returns whether `mode` is in the set.
    pub fn contains(self, mode: Mode) -> bool {
        self.0 & (1 << (mode.id() - 1)) != 0
    }

    /// Returns whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Returns the modes in both sets.
    pub fn intersection(self, other: ModeSet) -> ModeSet {
        ModeSet(self.0 & other.0)
    }

    /// Iterates over the members, weakest first.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = Mode> {
        Mode::ALL.into_iter().filter(move |&m| self.contains(m))
    }

    /// Returns the strongest member.
    pub fn strongest(self) -> Option<Mode> {
        self.iter().next_back()
    }

    /// Returns the members at or above `floor`.
    pub fn at_least(self, floor: Mode) -> ModeSet {
        ModeSet::of(&self.iter().filter(|&m| m >= floor).collect::<Vec<_>>())
    }

    /// Returns the signature algorithms that an identity supporting these
    /// modes needs, in ascending identifier order and without repeats.
    pub fn signature_algs(self) -> Vec<SigAlg> {
        let mut algs: Vec<SigAlg> = self
            .iter()
            .flat_map(|m| m.signatures().iter().copied())
            .collect();
        algs.sort();
        algs.dedup();
        algs
    }
}

impl fmt::Display for ModeSet {
    /// Comma-separated names, weakest first; `{}` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("{}");
        }
        let names: Vec<&str> = self.iter().map(Mode::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for ModeSet {
    type Err = UnknownMode;

    /// Parses a comma-separated list such as `classical,hybrid`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = ModeSet::EMPTY;
        for name in s.split(',').filter(|n| !n.trim().is_empty()) {
            set.insert(name.parse()?);
        }
        Ok(set)
    }
}

/// Key encapsulation algorithm identifiers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum KemAlg {
    /// X25519 used as a KEM: the ciphertext is an ephemeral public key.
    X25519 = 1,
    /// X-Wing (draft-connolly-cfrg-xwing-kem): ML-KEM-768 + X25519.
    XWing = 2,
    /// ML-KEM-768 (FIPS 203), used inside X-Wing.
    MlKem768 = 3,
    /// ML-KEM-1024 (FIPS 203).
    MlKem1024 = 4,
}

impl KemAlg {
    /// Identifier written into encodings and key derivation transcripts.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Public (encapsulation) key length in bytes.
    pub fn public_key_len(self) -> usize {
        match self {
            KemAlg::X25519 => 32,
            KemAlg::XWing => 1216,
            KemAlg::MlKem768 => 1184,
            KemAlg::MlKem1024 => 1568,
        }
    }

    /// Ciphertext length in bytes.
    pub fn ciphertext_len(self) -> usize {
        match self {
            KemAlg::X25519 => 32,
            KemAlg::XWing => 1120,
            KemAlg::MlKem768 => 1088,
            KemAlg::MlKem1024 => 1568,
        }
    }
}

/// Signature algorithm identifiers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SigAlg {
    /// Ed25519 (RFC 8032), verified strictly.
    Ed25519 = 1,
    /// ML-DSA-65 (FIPS 204).
    MlDsa65 = 2,
    /// ML-DSA-87 (FIPS 204).
    MlDsa87 = 3,
}

impl SigAlg {
    /// Identifier written into encodings.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Parses an identifier from an encoding.
    pub fn from_id(id: u8) -> Option<SigAlg> {
        match id {
            1 => Some(SigAlg::Ed25519),
            2 => Some(SigAlg::MlDsa65),
            3 => Some(SigAlg::MlDsa87),
            _ => None,
        }
    }

    /// Verifying key length in bytes.
    pub fn public_key_len(self) -> usize {
        match self {
            SigAlg::Ed25519 => 32,
            SigAlg::MlDsa65 => 1952,
            SigAlg::MlDsa87 => 2592,
        }
    }

    /// Signature length in bytes.
    pub fn signature_len(self) -> usize {
        match self {
            SigAlg::Ed25519 => 64,
            SigAlg::MlDsa65 => 3309,
            SigAlg::MlDsa87 => 4627,
        }
    }

    /// Returns whether the algorithm is post-quantum.
    pub fn is_post_quantum(self) -> bool {
        !matches!(self, SigAlg::Ed25519)
    }
}

/// AEAD algorithm identifiers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum AeadAlg {
    /// AES-256-GCM, used where the CPU has AES and carry-less multiply instructions.
    Aes256Gcm = 1,
    /// ChaCha20-Poly1305, used elsewhere.
    ChaCha20Poly1305 = 2,
}

impl AeadAlg {
    /// Identifier written into envelopes.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Parses an identifier from an encoding.
    pub fn from_id(id: u8) -> Option<AeadAlg> {
        match id {
            1 => Some(AeadAlg::Aes256Gcm),
            2 => Some(AeadAlg::ChaCha20Poly1305),
            _ => None,
        }
    }
}
