//! Key encapsulation: ML-KEM, X25519 (as key agreement and as a KEM) and
//! X-Wing.

pub mod ml_kem;
pub mod x25519;
pub mod xwing;
