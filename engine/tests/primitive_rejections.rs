//! Round trips through every backend, and the inputs each must reject.

use qrnm_engine::mode::{AeadAlg, KemAlg, SigAlg};
use qrnm_engine::primitives::BackendSet;

#[test]
fn default_set_round_trips() {
    let set = BackendSet::for_this_cpu();
    println!("{}", set.describe());
    for alg in [
        KemAlg::X25519,
        KemAlg::XWing,
        KemAlg::MlKem768,
        KemAlg::MlKem1024,
    ] {
        let kem = set.kem(alg);
        let pair = kem.generate().unwrap();
        assert_eq!(pair.public.len(), alg.public_key_len());
        let (ct, ss) = kem.encapsulate(&pair.public).unwrap();
        assert_eq!(ct.len(), alg.ciphertext_len());
        assert_eq!(kem.decapsulate(&pair.secret, &ct).unwrap(), ss);
    }
    for alg in [SigAlg::Ed25519, SigAlg::MlDsa65, SigAlg::MlDsa87] {
        let signer = set.signer(alg);
        let pair = signer.generate().unwrap();
        let sig = signer.sign(&pair.secret, b"msg", &[]).unwrap();
        assert_eq!(sig.len(), alg.signature_len());
        signer.verify(&pair.public, b"msg", &[], &sig).unwrap();
        assert!(signer.verify(&pair.public, b"msh", &[], &sig).is_err());
    }
    for alg in [AeadAlg::Aes256Gcm, AeadAlg::ChaCha20Poly1305] {
        let aead = set.aead_backend(alg);
        let ct = aead.seal(&[1; 32], &[2; 12], b"aad", b"hello").unwrap();
        assert_eq!(
            &aead.open(&[1; 32], &[2; 12], b"aad", &ct).unwrap()[..],
            b"hello"
        );
    }
}
