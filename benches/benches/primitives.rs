//! Every primitive on every backend, side by side.
//!
//! One iteration is one operation (one encapsulation, one signature, one AEAD
//! call). Keys, ciphertexts and signatures are made before the timed region.
//! Group names are `<algorithm>/<operation>` and the parameter is the backend,
//! so criterion's report lists the backends of one operation together.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qrnm_engine::mode::{AeadAlg, KemAlg, SigAlg};
use qrnm_engine::primitives::{BackendSet, BatchItem};

/// Backend names per primitive, as `BackendSet::named` accepts them.
const ML_KEM_BACKENDS: [&str; 3] = ["libcrux", "pqclean", "aws-lc-rs"];
const X25519_BACKENDS: [&str; 2] = ["dalek", "aws-lc-rs"];
const ED25519_BACKENDS: [&str; 2] = ["dalek", "aws-lc-rs"];
const ML_DSA_BACKENDS: [&str; 2] = ["libcrux", "pqclean"];
const AEAD_BACKENDS: [&str; 3] = ["rustcrypto", "ring", "aws-lc-rs"];

/// Payload sizes for the AEAD benchmarks: 64 B, 1 KiB and 64 KiB.
const AEAD_SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// Signatures per Ed25519 batch.
const BATCH_SIZE: usize = 1024;

fn set(spec: &str) -> BackendSet {
    BackendSet::named(spec).unwrap_or_else(|e| panic!("backend specification {spec:?}: {e}"))
}

fn bench_kems(c: &mut Criterion) {
    for (alg, name) in [
        (KemAlg::MlKem768, "ml-kem-768"),
        (KemAlg::MlKem1024, "ml-kem-1024"),
    ] {
        for backend in ML_KEM_BACKENDS {
            bench_kem(c, name, backend, &set(&format!("ml-kem={backend}")), alg);
        }
    }
    for ml_kem in ML_KEM_BACKENDS {
        for x25519 in X25519_BACKENDS {
            let backends = set(&format!("ml-kem={ml_kem},x25519={x25519}"));
            bench_kem(
                c,
                "x-wing",
                &format!("{ml_kem}+{x25519}"),
                &backends,
                KemAlg::XWing,
            );
        }
    }
    for backend in X25519_BACKENDS {
        let backends = set(&format!("x25519={backend}"));
        bench_kem(c, "x25519-kem", backend, &backends, KemAlg::X25519);
    }
}

fn bench_kem(c: &mut Criterion, name: &str, label: &str, backends: &BackendSet, alg: KemAlg) {
    let kem = backends.kem(alg);
    let pair = kem.generate().expect("key generation");
    let (ciphertext, _) = kem.encapsulate(&pair.public).expect("encapsulation");

    c.benchmark_group(format!("{name}/keygen"))
        .bench_function(label, |b| {
            b.iter(|| black_box(kem.generate().expect("key generation")))
        });
    c.benchmark_group(format!("{name}/encapsulate"))
        .bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    kem.encapsulate(black_box(&pair.public))
                        .expect("encapsulation"),
                )
            })
        });
    c.benchmark_group(format!("{name}/decapsulate"))
        .bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    kem.decapsulate(&pair.secret, black_box(&ciphertext))
                        .expect("decapsulation"),
                )
            })
        });
}

fn bench_x25519(c: &mut Criterion) {
    let mut group = c.benchmark_group("x25519/agree");
    for backend in X25519_BACKENDS {
        let backends = set(&format!("x25519={backend}"));
        let ours = backends.x25519.generate().expect("key generation");
        let theirs = backends.x25519.generate().expect("key generation");
        group.bench_function(backend, |b| {
            b.iter(|| {
                black_box(
                    backends
                        .x25519
                        .agree(&ours.secret, black_box(&theirs.public))
                        .expect("agreement"),
                )
            })
        });
    }
}

fn bench_signatures(c: &mut Criterion) {
    for backend in ED25519_BACKENDS {
        bench_signer(
            c,
            "ed25519",
            backend,
            &set(&format!("ed25519={backend}")),
            SigAlg::Ed25519,
        );
    }
    for (alg, name) in [
        (SigAlg::MlDsa65, "ml-dsa-65"),
        (SigAlg::MlDsa87, "ml-dsa-87"),
    ] {
        for backend in ML_DSA_BACKENDS {
            bench_signer(c, name, backend, &set(&format!("ml-dsa={backend}")), alg);
        }
    }
}

fn bench_signer(c: &mut Criterion, name: &str, label: &str, backends: &BackendSet, alg: SigAlg) {
    let signer = backends.signer(alg);
    let pair = signer.generate().expect("key generation");
    let message = [0x5a_u8; 1024];
    let context: &[u8] = if alg == SigAlg::Ed25519 {
        b""
    } else {
        b"qrnm bench"
    };
    let signature = signer
        .sign(&pair.secret, &message, context)
        .expect("signing");

    c.benchmark_group(format!("{name}/sign"))
        .bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    signer
                        .sign(&pair.secret, black_box(&message), context)
                        .expect("signing"),
                )
            })
        });
    c.benchmark_group(format!("{name}/verify"))
        .bench_function(label, |b| {
            b.iter(|| {
                signer
                    .verify(
                        &pair.public,
                        black_box(&message),
                        context,
                        black_box(&signature),
                    )
                    .expect("valid")
            })
        });
}

/// Ed25519 batch verification of 1,024 signatures by distinct keys, reported
/// per signature (criterion's throughput is set to the batch size).
fn bench_ed25519_batch(c: &mut Criterion) {
    let backends = set("default");
    let signer = &backends.ed25519;
    let messages: Vec<[u8; 64]> = (0..BATCH_SIZE).map(|i| [i as u8; 64]).collect();
    let signed: Vec<(Vec<u8>, Vec<u8>)> = messages
        .iter()
        .map(|message| {
            let pair = signer.generate().expect("key generation");
            let signature = signer.sign(&pair.secret, message, b"").expect("signing");
            (pair.public, signature)
        })
        .collect();
    let items: Vec<BatchItem<'_>> = signed
        .iter()
        .zip(&messages)
        .map(|((public_key, signature), message)| BatchItem {
            public_key,
            message,
            signature,
        })
        .collect();

    // The same 1,024 items, verified one by one with the default set's strict
    // single verification and then as batches.
    let mut group = c.benchmark_group("ed25519/verify-1024");
    group.throughput(Throughput::Elements(BATCH_SIZE as u64));
    group.bench_function("single-strict", |b| {
        b.iter(|| {
            for item in &items {
                signer
                    .verify(item.public_key, item.message, b"", item.signature)
                    .expect("valid");
            }
        })
    });
    for batch in ["cofactored", "sequential"] {
        let verifier = set(&format!("ed25519-batch={batch}")).ed25519_batch;
        group.bench_function(format!("batch-{batch}"), |b| {
            b.iter(|| black_box(verifier.verify_batch(black_box(&items))))
        });
    }
}

fn bench_aeads(c: &mut Criterion) {
    for (alg, name) in [
        (AeadAlg::Aes256Gcm, "aes-256-gcm"),
        (AeadAlg::ChaCha20Poly1305, "chacha20-poly1305"),
    ] {
        for size in AEAD_SIZES {
            let mut seal = c.benchmark_group(format!("{name}/seal"));
            seal.throughput(Throughput::Bytes(size as u64));
            let plaintext = vec![0xa5_u8; size];
            for backend in AEAD_BACKENDS {
                let backends = set(&format!("aead={backend}"));
                let aead = backends.aead_backend(alg);
                seal.bench_with_input(
                    BenchmarkId::new(backend, size),
                    &plaintext,
                    |b, plaintext| {
                        b.iter(|| {
                            black_box(
                                aead.seal(&[7; 32], &[9; 12], b"header", black_box(plaintext))
                                    .expect("seal"),
                            )
                        })
                    },
                );
            }
            drop(seal);

            let mut open = c.benchmark_group(format!("{name}/open"));
            open.throughput(Throughput::Bytes(size as u64));
            for backend in AEAD_BACKENDS {
                let backends = set(&format!("aead={backend}"));
                let aead = backends.aead_backend(alg);
                let ciphertext = aead
                    .seal(&[7; 32], &[9; 12], b"header", &plaintext)
                    .expect("seal");
                open.bench_with_input(
                    BenchmarkId::new(backend, size),
                    &ciphertext,
                    |b, ciphertext| {
                        b.iter(|| {
                            black_box(
                                aead.open(&[7; 32], &[9; 12], b"header", black_box(ciphertext))
                                    .expect("open"),
                            )
                        })
                    },
                );
            }
        }
    }
}

fn bench_blake3(c: &mut Criterion) {
    let input = [0x33_u8; 1024];
    c.benchmark_group("blake3/derive-key-1024")
        .bench_function("blake3", |b| {
            b.iter(|| black_box(blake3::derive_key("qrnm bench", black_box(&input))))
        });
    c.benchmark_group("blake3/hash-1024")
        .bench_function("blake3", |b| {
            b.iter(|| black_box(blake3::hash(black_box(&input))))
        });
}

criterion_group!(
    primitives,
    bench_kems,
    bench_x25519,
    bench_signatures,
    bench_ed25519_batch,
    bench_aeads,
    bench_blake3
);
criterion_main!(primitives);
