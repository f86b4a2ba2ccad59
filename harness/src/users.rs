//! Simulated users, each with its own identity, KEM keys and signed bundle.

use rayon::prelude::*;

use qrnm_engine::{Engine, IdentityId, KeyError, Mode, ModeSet, Policy, Recipient};

use crate::cli::ModeMix;

/// Lifetime of the users' bundles in seconds: one day, far longer than any run.
pub const BUNDLE_TTL_SECS: u64 = 24 * 3600;

/// Modes a user supports, named by its strongest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserKind {
    /// The bundle lists hybrid only.
    Hybrid,
    /// The bundle lists hybrid and pq, so senders that allow pq use it.
    Pq,
    /// The bundle lists classical only: a legacy peer, in the mixed scenario.
    Classical,
}

impl UserKind {
    /// Returns the modes of the user's bundle.
    pub fn modes(self) -> ModeSet {
        match self {
            UserKind::Hybrid => ModeSet::of(&[Mode::Hybrid]),
            UserKind::Pq => ModeSet::of(&[Mode::Hybrid, Mode::Pq]),
            UserKind::Classical => ModeSet::of(&[Mode::Classical]),
        }
    }

    /// Returns the policy the user opens envelopes with: its own modes, its weakest as the floor.
    pub fn open_policy(self) -> Policy {
        let modes = self.modes();
        let floor = modes.iter().next().unwrap_or(Mode::Hybrid);
        Policy {
            allowed: modes,
            floor,
        }
    }
}

/// One simulated user.
pub struct User {
    /// Index in the run's user list.
    pub index: u32,
    /// Supported modes.
    pub kind: UserKind,
    /// Identity, KEM secret keys and signed bundle.
    pub recipient: Recipient,
    /// Policy for opening envelopes.
    pub open_policy: Policy,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("index", &self.index)
            .field("kind", &self.kind)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl User {
    /// Returns the identity id, which is also the mailbox id.
    pub fn id(&self) -> IdentityId {
        self.recipient.id()
    }

    /// Returns the mailbox id as it appears in relay paths.
    pub fn mailbox(&self) -> String {
        self.id().to_string()
    }
}

/// Returns the kind of each of `users` users: the first `classical` are classical-only,
/// the rest are split between pq and hybrid by `mix`.
pub fn plan_kinds(users: usize, classical: usize, mix: &ModeMix) -> Vec<UserKind> {
    let modern = users.saturating_sub(classical);
    (0..users)
        .map(|index| {
            if index < classical {
                UserKind::Classical
            } else if mix.is_pq_user(index - classical, modern) {
                UserKind::Pq
            } else {
                UserKind::Hybrid
            }
        })
        .collect()
}

/// Generates a user of each kind in parallel, with bundles valid from `now` (unix seconds).
///
/// # Errors
///
/// Returns the engine's [`KeyError`] when key generation fails.
pub fn generate_users(
    engine: &Engine,
    kinds: &[UserKind],
    now: u64,
) -> Result<Vec<User>, KeyError> {
    kinds
        .par_iter()
        .enumerate()
        .map(|(index, &kind)| {
            let recipient = Recipient::generate(engine, kind.modes(), now, BUNDLE_TTL_SECS)?;
            Ok(User {
                index: index as u32,
                kind,
                recipient,
                open_policy: kind.open_policy(),
            })
        })
        .collect()
}

/// Returns the mode a sender with `policy` must negotiate for a recipient of `kind`, or
/// `None` when they share no mode at or above the floor. This restates the negotiation rule
/// (strongest shared mode at or above the floor) so that the engine's choice is checked
/// against an independent computation.
pub fn expected_mode(policy: &Policy, kind: UserKind) -> Option<Mode> {
    let theirs = kind.modes();
    Mode::ALL
        .into_iter()
        .filter(|&mode| {
            policy.allowed.contains(mode) && theirs.contains(mode) && mode >= policy.floor
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_shares() {
        let kinds = plan_kinds(10, 2, &ModeMix { hybrid: 1, pq: 1 });
        assert_eq!(
            kinds.iter().filter(|&&k| k == UserKind::Classical).count(),
            2
        );
        assert_eq!(kinds.iter().filter(|&&k| k == UserKind::Pq).count(), 4);
        assert_eq!(kinds.iter().filter(|&&k| k == UserKind::Hybrid).count(), 4);
        assert_eq!(kinds[0], UserKind::Classical);
    }

    #[test]
    fn expected_modes() {
        let fallback_allowed = Policy {
            allowed: ModeSet::ALL,
            floor: Mode::Classical,
        };
        assert_eq!(
            expected_mode(&fallback_allowed, UserKind::Classical),
            Some(Mode::Classical)
        );
        assert_eq!(
            expected_mode(&fallback_allowed, UserKind::Hybrid),
            Some(Mode::Hybrid)
        );
        assert_eq!(
            expected_mode(&fallback_allowed, UserKind::Pq),
            Some(Mode::Pq)
        );

        let raised_floor = Policy {
            allowed: ModeSet::ALL,
            floor: Mode::Hybrid,
        };
        assert_eq!(expected_mode(&raised_floor, UserKind::Classical), None);

        let hybrid_only = Policy {
            allowed: ModeSet::of(&[Mode::Hybrid]),
            floor: Mode::Hybrid,
        };
        assert_eq!(
            expected_mode(&hybrid_only, UserKind::Pq),
            Some(Mode::Hybrid)
        );
    }

    #[test]
    fn open_policies() {
        assert_eq!(UserKind::Classical.open_policy().floor, Mode::Classical);
        assert_eq!(UserKind::Pq.open_policy().floor, Mode::Hybrid);
        assert!(UserKind::Pq.open_policy().allowed.contains(Mode::Pq));
    }
}
