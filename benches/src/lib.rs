#![forbid(unsafe_code)]
//! Criterion benchmarks of every qrnm part live in `benches/`.
