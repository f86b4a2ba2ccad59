//! Mode negotiation: which mode a sender uses for a recipient's bundle.
//!
//! The sender takes the strongest mode that its own policy allows, that the
//! recipient's bundle lists, and that is at or above its floor. It never
//! picks a mode below the floor: without a common mode negotiation fails
//! with an error that names both sets. A result weaker than the policy's
//! preferred mode is flagged as a fallback so that callers can count it.

use crate::error::{NegotiationError, PolicyError};
use crate::mode::{Mode, ModeSet};

/// A party's accepted modes and the weakest mode it accepts.
///
/// Senders use it to negotiate, and recipients use its floor to reject
/// weaker envelopes. The fields are public for configuration code, and
/// [`Policy::new`] validates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Modes this party may use.
    pub allowed: ModeSet,
    /// Weakest mode this party accepts, whether or not it is in `allowed`.
    pub floor: Mode,
}

impl Default for Policy {
    /// Hybrid and pq allowed, hybrid as the floor, so classical peers are
    /// rejected unless a deployment opts in.
    fn default() -> Self {
        Self {
            allowed: ModeSet::of(&[Mode::Hybrid, Mode::Pq]),
            floor: Mode::Hybrid,
        }
    }
}

impl Policy {
    /// Builds a policy that can negotiate at least one mode.
    ///
    /// # Errors
    /// [`PolicyError::NoModes`] if `allowed` is empty, and
    /// [`PolicyError::FloorAboveAllowed`] if every allowed mode is below `floor`.
    pub fn new(allowed: ModeSet, floor: Mode) -> Result<Policy, PolicyError> {
        if allowed.is_empty() {
            return Err(PolicyError::NoModes);
        }
        if allowed.at_least(floor).is_empty() {
            return Err(PolicyError::FloorAboveAllowed { allowed, floor });
        }
        Ok(Policy { allowed, floor })
    }

    /// Allows every mode at or above `floor`.
    pub fn at_least(floor: Mode) -> Policy {
        Policy {
            allowed: ModeSet::ALL.at_least(floor),
            floor,
        }
    }

    /// Returns the mode this policy uses when the peer supports it: the
    /// strongest allowed mode. For a policy that allows nothing (which [`Policy::new`]
    /// rejects) this is the floor.
    pub fn preferred(&self) -> Mode {
        self.allowed.strongest().unwrap_or(self.floor)
    }

    /// Returns the allowed modes at or above the floor, which are the modes
    /// negotiation may pick.
    pub fn acceptable(&self) -> ModeSet {
        self.allowed.at_least(self.floor)
    }
}

/// Outcome of a negotiation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Mode to seal with.
    pub mode: Mode,
    /// Whether `mode` is weaker than the policy's preferred mode.
    pub fallback: bool,
}

/// Picks the strongest mode in `policy.allowed` and `peer` that is at or
/// above `policy.floor`.
///
/// # Errors
/// [`NegotiationError::NoCommonMode`] when there is none.
pub fn negotiate(policy: &Policy, peer: ModeSet) -> Result<Negotiated, NegotiationError> {
    let common = policy.acceptable().intersection(peer);
    let Some(mode) = common.strongest() else {
        return Err(NegotiationError::NoCommonMode {
            ours: policy.allowed,
            theirs: peer,
            floor: policy.floor,
        });
    };

    Ok(Negotiated {
        mode,
        fallback: mode < policy.preferred(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefers_pq_with_hybrid_floor() {
        let policy = Policy::default();
        assert_eq!(policy.preferred(), Mode::Pq);
        assert_eq!(policy.floor, Mode::Hybrid);
        assert_eq!(Policy::new(policy.allowed, policy.floor), Ok(policy));
    }

    #[test]
    fn new_rejects_unusable_policies() {
        assert_eq!(
            Policy::new(ModeSet::EMPTY, Mode::Classical),
            Err(PolicyError::NoModes)
        );
        let allowed = ModeSet::of(&[Mode::Classical, Mode::Hybrid]);
        assert_eq!(
            Policy::new(allowed, Mode::Pq),
            Err(PolicyError::FloorAboveAllowed {
                allowed,
                floor: Mode::Pq
            })
        );
    }

    #[test]
    fn hybrid_peer_is_a_fallback_from_pq() {
        let peer = ModeSet::of(&[Mode::Classical, Mode::Hybrid]);
        let negotiated = negotiate(&Policy::default(), peer);
        assert_eq!(
            negotiated,
            Ok(Negotiated {
                mode: Mode::Hybrid,
                fallback: true
            })
        );
    }
}
