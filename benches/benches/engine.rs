//! Sealing and opening envelopes, single and in batches, and the primitive
//! operations one hybrid seal and one hybrid open perform, all in one run so
//! that `bench-ratios` can compare them.
//!
//! One iteration of `seal` or `open` is one envelope; one iteration of
//! `seal_many` or `open_many` is a batch of 1,024 envelopes (criterion's
//! throughput figure gives envelopes per second). Keys, bundles and the
//! envelopes to open are made before the timed region.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qrnm_engine::mode::SigAlg;
use qrnm_engine::primitives::BackendSet;
use qrnm_engine::{
    Engine, EnvelopeHeader, Identity, Mode, ModeSet, Policy, Recipient, SealItem, VerifiedBundle,
};

/// Payload sizes: 64 B, 1 KiB and 64 KiB.
const PAYLOAD_SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// Envelopes per batch.
const BATCH_SIZE: usize = 1024;

/// Fixed clock so that bundles and envelopes never expire during a run.
const NOW: u64 = 1_700_000_000;
const BUNDLE_TTL_SECS: u64 = 30 * 24 * 3600;

/// A sender and a recipient that both support exactly one mode.
struct Pair {
    engine: Engine,
    policy: Policy,
    sender: Identity,
    recipient: Recipient,
    bundle: VerifiedBundle,
}

impl Pair {
    fn new(engine: &Engine, mode: Mode) -> Pair {
        let modes = ModeSet::of(&[mode]);
        let policy = Policy::new(modes, mode).expect("one-mode policy");
        let sender = Identity::generate_with(engine, modes).expect("sender identity");
        let recipient =
            Recipient::generate(engine, modes, NOW, BUNDLE_TTL_SECS).expect("recipient");
        let bundle = recipient
            .bundle()
            .verify(engine, NOW)
            .expect("fresh bundle verifies");
        Pair {
            engine: engine.clone(),
            policy,
            sender,
            recipient,
            bundle,
        }
    }

    fn seal(&self, payload: &[u8]) -> Vec<u8> {
        self.engine
            .seal(&self.sender, &self.bundle, &self.policy, payload, NOW)
            .expect("seal")
            .envelope
    }
}

fn bench_seal_open(c: &mut Criterion) {
    let engine = Engine::new();
    for mode in Mode::ALL {
        let pair = Pair::new(&engine, mode);

        let mut seal = c.benchmark_group(format!("seal/{mode}"));
        for size in PAYLOAD_SIZES {
            let payload = vec![0x42_u8; size];
            seal.throughput(Throughput::Bytes(size as u64));
            seal.bench_with_input(BenchmarkId::from_parameter(size), &payload, |b, payload| {
                b.iter(|| black_box(pair.seal(black_box(payload))))
            });
        }
        drop(seal);

        let mut open = c.benchmark_group(format!("open/{mode}"));
        for size in PAYLOAD_SIZES {
            let envelope = pair.seal(&vec![0x42_u8; size]);
            open.throughput(Throughput::Bytes(size as u64));
            open.bench_with_input(
                BenchmarkId::from_parameter(size),
                &envelope,
                |b, envelope| {
                    b.iter(|| {
                        black_box(
                            pair.engine
                                .open(&pair.recipient, &pair.policy, black_box(envelope), NOW)
                                .expect("open"),
                        )
                    })
                },
            );
        }
    }
}

/// Hybrid 1 KiB sealing with the default backends against the baseline set
/// (the dalek crates, RustCrypto and PQClean).
fn bench_default_vs_baseline(c: &mut Criterion) {
    let payload = [0x42_u8; 1024];
    let mut group = c.benchmark_group("seal-hybrid-1024");
    for (name, backends) in [
        ("default", BackendSet::for_this_cpu()),
        ("baseline", BackendSet::baseline()),
    ] {
        let pair = Pair::new(&Engine::with_backends(backends), Mode::Hybrid);
        group.bench_function(name, |b| {
            b.iter(|| black_box(pair.seal(black_box(&payload))))
        });
    }
}

/// `seal_many` and `open_many` of 1,024 hybrid 1 KiB envelopes on rayon pools
/// of one and two threads.
fn bench_batches(c: &mut Criterion) {
    let pair = Pair::new(&Engine::new(), Mode::Hybrid);
    let payload = [0x42_u8; 1024];
    let items: Vec<SealItem<'_>> = (0..BATCH_SIZE)
        .map(|_| SealItem {
            to: &pair.bundle,
            payload: &payload,
        })
        .collect();
    let envelopes: Vec<Vec<u8>> = (0..BATCH_SIZE).map(|_| pair.seal(&payload)).collect();
    let envelope_refs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();

    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("rayon pool");
        let id = format!("threads-{threads}");

        let mut seal = c.benchmark_group("seal_many-hybrid-1024");
        seal.throughput(Throughput::Elements(BATCH_SIZE as u64));
        seal.sample_size(10);
        seal.bench_function(&id, |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(
                        pair.engine
                            .seal_many(&pair.sender, &items, &pair.policy, NOW),
                    )
                })
            })
        });
        drop(seal);

        let mut open = c.benchmark_group("open_many-hybrid-1024");
        open.throughput(Throughput::Elements(BATCH_SIZE as u64));
        open.sample_size(10);
        open.bench_function(&id, |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(pair.engine.open_many(
                        &pair.recipient,
                        &pair.policy,
                        &envelope_refs,
                        NOW,
                    ))
                })
            })
        });
    }
}

/// Each primitive operation of one hybrid 1 KiB seal and open, with the
/// default backends and the sizes a real envelope has.
fn bench_hybrid_parts(c: &mut Criterion) {
    let pair = Pair::new(&Engine::new(), Mode::Hybrid);
    let backends = pair.engine.backends();
    let payload = [0x42_u8; 1024];
    let envelope = pair.seal(&payload);
    let header_len = EnvelopeHeader::parse(&envelope)
        .expect("header")
        .header_len();
    // The AEAD plaintext is the sender identity, its signatures and the payload.
    let plaintext = vec![0x17_u8; envelope.len() - header_len - 16];
    // Envelope signatures cover a context string, the header and a payload hash.
    let signed = vec![0x29_u8; header_len + 32 + 32];
    let sender_identity = vec![0x31_u8; pair.sender.public().as_bytes().len()];

    let kem = &backends.x_wing;
    let kem_keys = kem.generate().expect("X-Wing keys");
    let (kem_ciphertext, _) = kem.encapsulate(&kem_keys.public).expect("encapsulation");
    let aead = backends.aead_backend(backends.aead);
    let ciphertext = aead
        .seal(&[1; 32], &[2; 12], &envelope[..header_len], &plaintext)
        .expect("seal");
    let ed25519 = backends.signer(SigAlg::Ed25519);
    let ml_dsa = backends.signer(SigAlg::MlDsa65);
    let ed_keys = ed25519.generate().expect("Ed25519 keys");
    let ml_keys = ml_dsa.generate().expect("ML-DSA-65 keys");
    let ed_signature = ed25519.sign(&ed_keys.secret, &signed, b"").expect("sign");
    let ml_signature = ml_dsa
        .sign(&ml_keys.secret, &signed, b"qrnm v1 envelope")
        .expect("sign");
    let transcript = vec![0x55_u8; 3 + 32 + 32 + kem_ciphertext.len() + 32];

    let mut group = c.benchmark_group("hybrid-1024-parts");
    group.bench_function("seal", |b| {
        b.iter(|| black_box(pair.seal(black_box(&payload))))
    });
    group.bench_function("open", |b| {
        b.iter(|| {
            black_box(
                pair.engine
                    .open(&pair.recipient, &pair.policy, black_box(&envelope), NOW)
                    .expect("open"),
            )
        })
    });
    group.bench_function("x-wing-encapsulate", |b| {
        b.iter(|| black_box(kem.encapsulate(&kem_keys.public)))
    });
    group.bench_function("x-wing-decapsulate", |b| {
        b.iter(|| black_box(kem.decapsulate(&kem_keys.secret, &kem_ciphertext)))
    });
    group.bench_function("ed25519-sign", |b| {
        b.iter(|| black_box(ed25519.sign(&ed_keys.secret, &signed, b"")))
    });
    group.bench_function("ed25519-verify", |b| {
        b.iter(|| black_box(ed25519.verify(&ed_keys.public, &signed, b"", &ed_signature)))
    });
    group.bench_function("ml-dsa-65-sign", |b| {
        b.iter(|| black_box(ml_dsa.sign(&ml_keys.secret, &signed, b"qrnm v1 envelope")))
    });
    group.bench_function("ml-dsa-65-verify", |b| {
        b.iter(|| {
            black_box(ml_dsa.verify(&ml_keys.public, &signed, b"qrnm v1 envelope", &ml_signature))
        })
    });
    group.bench_function("aead-seal", |b| {
        b.iter(|| {
            black_box(aead.seal(
                &[1; 32],
                &[2; 12],
                &envelope[..header_len],
                black_box(&plaintext),
            ))
        })
    });
    group.bench_function("aead-open", |b| {
        b.iter(|| {
            black_box(aead.open(
                &[1; 32],
                &[2; 12],
                &envelope[..header_len],
                black_box(&ciphertext),
            ))
        })
    });
    // Payload hash, envelope key and nonce: three BLAKE3 derive_key calls.
    group.bench_function("blake3-seal", |b| {
        b.iter(|| {
            black_box(blake3::derive_key("payload", black_box(&payload)));
            black_box(blake3::derive_key("key", black_box(&transcript)));
            black_box(blake3::derive_key("nonce", black_box(&transcript)))
        })
    });
    // Opening also hashes the sender identity into its id.
    group.bench_function("blake3-open", |b| {
        b.iter(|| {
            black_box(blake3::derive_key("payload", black_box(&payload)));
            black_box(blake3::derive_key("key", black_box(&transcript)));
            black_box(blake3::derive_key("nonce", black_box(&transcript)));
            black_box(blake3::derive_key("identity", black_box(&sender_identity)))
        })
    });
}

criterion_group!(
    engine,
    bench_seal_open,
    bench_default_vs_baseline,
    bench_batches,
    bench_hybrid_parts
);
criterion_main!(engine);
