//! Signatures: Ed25519 (strict single and batch verification) and ML-DSA.

pub mod ed25519;
pub mod ml_dsa;
