//! Mode negotiation over every combination of allowed set, floor and peer
//! set, compared with a direct computation.

use qrnm_engine::{Mode, ModeSet, Negotiated, NegotiationError, Policy, PolicyError, negotiate};

/// Returns all eight mode sets, the empty one included.
fn all_sets() -> Vec<ModeSet> {
    (0u8..8)
        .map(|bits| ModeSet::from_bits(bits).expect("valid bits"))
        .collect()
}

/// Computes the expected outcome without `ModeSet`'s helpers: the strongest
/// mode present in both sets and at or above the floor.
fn expected(allowed: ModeSet, floor: Mode, peer: ModeSet) -> Option<Negotiated> {
    let mut best = None;
    for mode in [Mode::Classical, Mode::Hybrid, Mode::Pq] {
        if allowed.contains(mode) && peer.contains(mode) && mode >= floor {
            best = Some(mode);
        }
    }

    let mut preferred = floor;
    for mode in [Mode::Classical, Mode::Hybrid, Mode::Pq] {
        if allowed.contains(mode) {
            preferred = mode;
        }
    }
    best.map(|mode| Negotiated {
        mode,
        fallback: mode < preferred,
    })
}

#[test]
fn negotiation_table() {
    let mut checked = 0;
    for allowed in all_sets() {
        for floor in Mode::ALL {
            let policy = Policy { allowed, floor };
            for peer in all_sets() {
                let result = negotiate(&policy, peer);
                match expected(allowed, floor, peer) {
                    Some(negotiated) => assert_eq!(
                        result,
                        Ok(negotiated),
                        "allowed {allowed}, floor {floor}, peer {peer}"
                    ),
                    None => assert_eq!(
                        result,
                        Err(NegotiationError::NoCommonMode {
                            ours: allowed,
                            theirs: peer,
                            floor
                        }),
                        "allowed {allowed}, floor {floor}, peer {peer}"
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * 3 * 8);
}

#[test]
fn never_below_floor() {
    for allowed in all_sets() {
        for floor in Mode::ALL {
            for peer in all_sets() {
                if let Ok(negotiated) = negotiate(&Policy { allowed, floor }, peer) {
                    assert!(negotiated.mode >= floor);
                    assert!(allowed.contains(negotiated.mode));
                    assert!(peer.contains(negotiated.mode));
                }
            }
        }
    }
}

#[test]
fn error_names_both_sets_and_floor() {
    let policy = Policy::default();
    let err = negotiate(&policy, ModeSet::of(&[Mode::Classical])).expect_err("no common mode");
    assert_eq!(
        err.to_string(),
        "no common mode: ours {hybrid,pq} at or above hybrid, theirs {classical}"
    );

    let policy = Policy::at_least(Mode::Pq);
    let err = negotiate(&policy, ModeSet::EMPTY).expect_err("no common mode");
    assert_eq!(
        err.to_string(),
        "no common mode: ours {pq} at or above pq, theirs {}"
    );
}

#[test]
fn fallback_flag() {
    let policy = Policy::at_least(Mode::Classical);
    let cases = [
        (ModeSet::ALL, Mode::Pq, false),
        (
            ModeSet::of(&[Mode::Classical, Mode::Hybrid]),
            Mode::Hybrid,
            true,
        ),
        (ModeSet::of(&[Mode::Classical]), Mode::Classical, true),
    ];
    for (peer, mode, fallback) in cases {
        assert_eq!(negotiate(&policy, peer), Ok(Negotiated { mode, fallback }));
    }
}

#[test]
fn policy_construction() {
    for allowed in all_sets() {
        for floor in Mode::ALL {
            let result = Policy::new(allowed, floor);
            let usable = allowed.iter().any(|mode| mode >= floor);
            if allowed.is_empty() {
                assert_eq!(result, Err(PolicyError::NoModes));
            } else if !usable {
                assert_eq!(
                    result,
                    Err(PolicyError::FloorAboveAllowed { allowed, floor })
                );
            } else {
                assert_eq!(result, Ok(Policy { allowed, floor }));
            }
        }
    }

    let err = Policy::new(ModeSet::of(&[Mode::Classical]), Mode::Hybrid).expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "floor hybrid is above every allowed mode {classical}"
    );
}

#[test]
fn default_policy() {
    let policy = Policy::default();
    assert_eq!(policy.allowed, ModeSet::of(&[Mode::Hybrid, Mode::Pq]));
    assert_eq!(policy.floor, Mode::Hybrid);
    assert_eq!(policy.preferred(), Mode::Pq);
}
