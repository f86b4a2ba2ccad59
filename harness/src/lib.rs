//! The qrnm load harness: simulated users drive a relay over many keep-alive connections,
//! every delivered message is opened and checked against what was sent, and the run ends
//! with a report of connections, throughput, latency percentiles, crypto time and failures.
//!
//! The binary `qrnm-load` is the entry point; this library contains its parts so that tests can
//! drive them directly.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub, clippy::dbg_macro, clippy::print_stdout)]

pub mod attacker;
pub mod cli;
pub mod ledger;
pub mod limits;
pub mod metrics;
pub mod net;
pub mod offload;
pub mod payload;
pub mod progress;
pub mod receiver;
pub mod relay_child;
pub mod relay_process;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod schedule;
pub mod stats;
pub mod traffic;
pub mod users;
pub mod world;
