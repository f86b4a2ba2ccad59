//! `Debug` output of types that hold secrets or payloads shows no key bytes
//! and no payload.
//!
//! The secret keys of an identity or recipient are not reachable through
//! the public API, so these tests check the shape of the output: it names
//! the redaction, stays short, and contains no byte list and no hex run
//! longer than a public id. The unit tests in `identity.rs` and `bundle.rs`
//! compare the output with the actual secret bytes.

use qrnm_engine::kdf::Transcript;
use qrnm_engine::primitives::{SecretBytes, SharedSecret};
use qrnm_engine::{AeadAlg, Engine, Identity, Mode, ModeSet, Policy, Recipient};

const NOW: u64 = 1_700_000_000;

/// Returns whether `text` contains something that looks like dumped bytes: three
/// numbers in a row of a `[1, 2, 3` style list, or a hex run longer than a
/// 64-digit id.
fn looks_like_bytes(text: &str) -> bool {
    let mut numbers = 0;
    let mut list = false;
    for token in text.split(", ") {
        let token = token.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
        let is_number = !token.is_empty() && token.chars().all(|c| c.is_ascii_digit());
        numbers = if is_number { numbers + 1 } else { 0 };
        list |= numbers >= 3;
    }

    let mut run = 0;
    let mut longest = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    list || longest > 64
}

#[test]
fn byte_detector_finds_dumps() {
    assert!(looks_like_bytes("key: [12, 250, 3, 4]"));
    assert!(looks_like_bytes(&"ab".repeat(33)));
    assert!(!looks_like_bytes(
        "signature: [(MlDsa87, 4627)], created_at: 1700000000"
    ));
}

fn assert_redacted(text: &str) {
    assert!(text.contains("REDACTED"), "no redaction marker: {text}");
    assert!(!looks_like_bytes(text), "looks like key bytes: {text}");
    assert!(text.len() < 1000, "suspiciously long: {text}");
}

#[test]
fn identity_debug_is_redacted() {
    let identity = Identity::generate(ModeSet::ALL).expect("keys");
    for text in [format!("{identity:?}"), format!("{identity:#?}")] {
        assert_redacted(&text);
        assert!(text.contains(&identity.id().to_string()));
    }
}

#[test]
fn recipient_debug_is_redacted() {
    let engine = Engine::new();
    let recipient = Recipient::generate(&engine, ModeSet::ALL, NOW, 60).expect("keys");
    for text in [format!("{recipient:?}"), format!("{recipient:#?}")] {
        assert_redacted(&text);
        assert!(text.contains(&recipient.id().to_string()));
    }
}

#[test]
fn secret_holders_debug_is_redacted() {
    let secret = SecretBytes::new(vec![0x42; 64]);
    assert_redacted(&format!("{secret:?}"));
    assert!(!format!("{secret:?}").contains("42"));

    let shared = SharedSecret::new([0x42; 32]);
    let transcript = Transcript {
        mode: Mode::Hybrid,
        aead: AeadAlg::Aes256Gcm,
        recipient: &[0; 32],
        recipient_kem_key_hash: &[0; 32],
        kem_ciphertext: &[],
        shared_secret: &shared,
    };
    let keys = transcript.derive();
    assert_redacted(&format!("{shared:?}"));
    assert_redacted(&format!("{keys:?}"));
    assert!(!format!("{transcript:?}").contains("66, 66"));
}

#[test]
fn opened_debug_hides_payload() {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let recipient = Recipient::generate(&engine, ModeSet::ALL, NOW, 60).expect("keys");
    let bundle = recipient.bundle().verify(&engine, NOW).expect("verifies");
    let payload = b"attack at dawn";

    let sealed = engine
        .seal(&sender, &bundle, &Policy::default(), payload, NOW)
        .expect("seal");
    let sealed_text = format!("{sealed:?}");
    assert!(!looks_like_bytes(&sealed_text), "{sealed_text}");

    let opened = engine
        .open(&recipient, &Policy::default(), &sealed.envelope, NOW)
        .expect("open");
    let text = format!("{opened:?}");
    assert!(!text.contains("attack"), "{text}");
    assert!(!looks_like_bytes(&text), "{text}");
    assert!(text.contains("payload_len: 14"), "{text}");
}
