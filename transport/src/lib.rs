//! The qrnm relay: an HTTP/1.1 and HTTP/2 server that stores sealed envelopes
//! in per-recipient mailboxes and serves signed key bundles.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
mod ids;
pub mod store;
pub mod wire;

pub use config::Config;
pub use ids::{InvalidId, MailboxId, MessageId};
