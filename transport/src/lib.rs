//! The qrnm relay: an HTTP/1.1 and HTTP/2 server (hyper 1.x) that stores
//! sealed envelopes in per-recipient mailboxes and serves signed key bundles.
//!
//! The relay cannot read what it stores. It checks only public facts: a key
//! bundle's signatures, an envelope header's recipient and mode, and the
//! owner signature on requests that read or erase a mailbox.
//!
//! - [`Relay`]: bind with [`Relay::bind`], then [`Relay::serve`] until a
//!   shutdown future completes.
//! - [`config`]: the TOML configuration with its defaults and validation.
//! - [`auth`]: owner request signing ([`auth::sign_request`]) and the
//!   signed message layout.
//! - [`store`]: the [`store::Store`] trait with its SQLite and in-memory
//!   implementations.
//! - [`wire`]: the binary body of a message listing.
//!
//! The HTTP routes, limits and metrics are described in `docs/relay.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod config;
mod crypto;
mod ids;
mod metrics;
mod reject;
mod routes;
mod server;
pub mod store;
pub mod wire;

pub use config::Config;
pub use ids::{InvalidId, MailboxId, MessageId};
pub use server::{Relay, RelayError};
