//! Owner request authentication.
//!
//! A mailbox owner signs each request with its identity. Three headers carry
//! the proof:
//!
//! - `x-qrnm-timestamp`: unix seconds, in decimal;
//! - `x-qrnm-nonce`: 16 random bytes as 32 lowercase hex digits;
//! - `x-qrnm-signature`: the `CompositeSignature` encoding in standard base64.
//!
//! The signature covers, under the request signing context,
//!
//! ```text
//! "qrnm-request-v1\n" METHOD "\n" PATH_AND_QUERY "\n" hex(BLAKE3(body)) "\n" TIMESTAMP "\n" NONCE
//! ```
//!
//! The relay rejects a timestamp more than `auth.max_clock_skew_secs` away
//! from its clock, a signature that does not verify under the mailbox
//! owner's key, and a nonce it has already accepted. Nonces are remembered
//! for twice the allowed skew, which covers every timestamp that still
//! passes the skew check. The nonce is recorded only after the signature
//! verified, so unsigned requests cannot fill the cache, and the record is
//! atomic, so of many concurrent copies of one request exactly one passes.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use qrnm_engine::{Engine, Identity, KeyError};

use crate::crypto::{OwnerKey, SignatureRejection, sign_request_message};

/// Header holding the request time in unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-qrnm-timestamp";
/// Header holding the request nonce.
pub const NONCE_HEADER: &str = "x-qrnm-nonce";
/// Header holding the base64 request signature.
pub const SIGNATURE_HEADER: &str = "x-qrnm-signature";

/// First line of every signed request message, which versions the format.
const SIGNED_PREFIX: &str = "qrnm-request-v1";

/// Number of separately locked nonce cache shards.
const NONCE_SHARDS: usize = 16;

/// Builds the message an owner signs for a request.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: u64,
    nonce: &str,
) -> Vec<u8> {
    let body_hash = blake3::hash(body).to_hex();
    format!("{SIGNED_PREFIX}\n{method}\n{path_and_query}\n{body_hash}\n{timestamp}\n{nonce}")
        .into_bytes()
}

/// A request could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignRequestError {
    /// The operating system provided no randomness for the nonce.
    #[error("cannot draw a request nonce: {0}")]
    Randomness(getrandom::Error),
    /// The identity could not sign.
    #[error("cannot sign the request: {0}")]
    Key(#[from] KeyError),
}

/// Signs a request as the owner `identity` with a fresh random nonce and
/// returns the three authentication headers as `(name, value)` pairs.
///
/// `path_and_query` must be exactly what the request line carries, such as
/// `/v1/mailboxes/<id>/messages?limit=10`, and `timestamp` is unix seconds.
///
/// # Errors
///
/// [`SignRequestError`] when randomness or signing fails.
pub fn sign_request(
    identity: &Identity,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: u64,
) -> Result<Vec<(&'static str, String)>, SignRequestError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(SignRequestError::Randomness)?;
    let nonce = hex::encode(nonce);

    let message = request_message(method, path_and_query, body, timestamp, &nonce);
    let signature = sign_request_message(identity, &message)?;
    Ok(vec![
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (NONCE_HEADER, nonce),
        (SIGNATURE_HEADER, BASE64.encode(signature)),
    ])
}

/// Reason an owner request is rejected. All of these get 401, except
/// [`AuthError::NonceCacheFull`], which gets 503.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("malformed {0} header")]
    Malformed(&'static str),
    #[error("timestamp {timestamp} is more than {max_skew} seconds from the relay clock {now}")]
    Stale {
        timestamp: u64,
        now: u64,
        max_skew: u64,
    },
    #[error("the mailbox has no key bundle, so no owner can be authenticated")]
    UnknownOwner,
    #[error("the signature does not verify under the mailbox owner's key")]
    BadSignature,
    #[error("the nonce was already used")]
    Replayed,
    #[error("too many recent nonces to check replays; retry later")]
    NonceCacheFull,
}

/// The authentication headers of one request, parsed.
struct Credentials<'a> {
    timestamp: u64,
    nonce: [u8; 16],
    nonce_text: &'a str,
    signature: Vec<u8>,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, AuthError> {
    let value = headers.get(name).ok_or(AuthError::Missing(name))?;
    value.to_str().map_err(|_| AuthError::Malformed(name))
}

fn parse_credentials(headers: &HeaderMap) -> Result<Credentials<'_>, AuthError> {
    let timestamp_text = header(headers, TIMESTAMP_HEADER)?;
    let nonce_text = header(headers, NONCE_HEADER)?;
    let signature_text = header(headers, SIGNATURE_HEADER)?;

    // Only the canonical decimal form is accepted, so that the signed text and
    // the parsed value agree.
    let canonical = !timestamp_text.is_empty()
        && timestamp_text.bytes().all(|b| b.is_ascii_digit())
        && (timestamp_text == "0" || !timestamp_text.starts_with('0'));
    let timestamp = timestamp_text
        .parse::<u64>()
        .ok()
        .filter(|_| canonical)
        .ok_or(AuthError::Malformed(TIMESTAMP_HEADER))?;

    let lower_hex = nonce_text.len() == 32
        && nonce_text
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let mut nonce = [0u8; 16];
    if !lower_hex || hex::decode_to_slice(nonce_text, &mut nonce).is_err() {
        return Err(AuthError::Malformed(NONCE_HEADER));
    }

    let signature = BASE64
        .decode(signature_text)
        .map_err(|_| AuthError::Malformed(SIGNATURE_HEADER))?;
    Ok(Credentials {
        timestamp,
        nonce,
        nonce_text,
        signature,
    })
}

/// The parts of a request that its signature covers.
pub(crate) struct SignedParts<'a> {
    pub(crate) method: &'a str,
    pub(crate) path_and_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// Checks owner signatures, timestamps and nonces.
pub(crate) struct Authenticator {
    engine: Engine,
    max_skew_secs: u64,
    nonces: NonceCache,
}

impl Authenticator {
    pub(crate) fn new(engine: Engine, max_skew_secs: u64, nonce_capacity: usize) -> Authenticator {
        Authenticator {
            engine,
            max_skew_secs,
            nonces: NonceCache::new(nonce_capacity, Duration::from_secs(2 * max_skew_secs)),
        }
    }

    /// Accepts the request if it is signed by `owner`, fresh at `now` (unix
    /// seconds) and not a replay.
    pub(crate) fn check(
        &self,
        owner: &OwnerKey,
        request: &SignedParts<'_>,
        now: u64,
    ) -> Result<(), AuthError> {
        let credentials = parse_credentials(request.headers)?;
        if credentials.timestamp.abs_diff(now) > self.max_skew_secs {
            return Err(AuthError::Stale {
                timestamp: credentials.timestamp,
                now,
                max_skew: self.max_skew_secs,
            });
        }

        let message = request_message(
            request.method,
            request.path_and_query,
            request.body,
            credentials.timestamp,
            credentials.nonce_text,
        );
        owner
            .verify_request(&self.engine, &message, &credentials.signature)
            .map_err(|e| match e {
                SignatureRejection::Malformed => AuthError::Malformed(SIGNATURE_HEADER),
                SignatureRejection::Invalid => AuthError::BadSignature,
            })?;

        self.nonces.insert(credentials.nonce, Instant::now())
    }
}

struct NonceShard {
    seen: HashSet<[u8; 16]>,
    /// Nonces in insertion order, so the oldest expire first.
    order: VecDeque<(Instant, [u8; 16])>,
}

/// Recently accepted nonces, each kept for `retention` after it was accepted.
pub(crate) struct NonceCache {
    shards: Vec<Mutex<NonceShard>>,
    capacity_per_shard: usize,
    retention: Duration,
}

impl NonceCache {
    pub(crate) fn new(capacity: usize, retention: Duration) -> NonceCache {
        NonceCache {
            shards: (0..NONCE_SHARDS)
                .map(|_| {
                    Mutex::new(NonceShard {
                        seen: HashSet::new(),
                        order: VecDeque::new(),
                    })
                })
                .collect(),
            capacity_per_shard: capacity.div_ceil(NONCE_SHARDS).max(1),
            retention,
        }
    }

    /// Records `nonce` as used at `now`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Replayed`] when it was recorded within the retention, and
    /// [`AuthError::NonceCacheFull`] when the shard holds only unexpired nonces.
    pub(crate) fn insert(&self, nonce: [u8; 16], now: Instant) -> Result<(), AuthError> {
        let index = usize::from(nonce[0]) % NONCE_SHARDS;
        let mut shard = self.shards[index]
            .lock()
            .map_err(|_| AuthError::NonceCacheFull)?;

        while let Some((accepted, old)) = shard.order.front().copied() {
            if now.saturating_duration_since(accepted) < self.retention {
                break;
            }
            shard.order.pop_front();
            shard.seen.remove(&old);
        }

        if shard.seen.contains(&nonce) {
            return Err(AuthError::Replayed);
        }
        if shard.seen.len() >= self.capacity_per_shard {
            return Err(AuthError::NonceCacheFull);
        }
        shard.seen.insert(nonce);
        shard.order.push_back((now, nonce));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_message_layout() {
        let message = request_message("GET", "/v1/x?limit=1", b"", 1700000000, "00ff");
        let expected = format!(
            "qrnm-request-v1\nGET\n/v1/x?limit=1\n{}\n1700000000\n00ff",
            blake3::hash(b"").to_hex()
        );
        assert_eq!(message, expected.into_bytes());
    }

    #[test]
    fn nonce_is_accepted_once() {
        let cache = NonceCache::new(1000, Duration::from_secs(600));
        let now = Instant::now();
        assert_eq!(cache.insert([7; 16], now), Ok(()));
        assert_eq!(cache.insert([7; 16], now), Err(AuthError::Replayed));
        assert_eq!(cache.insert([8; 16], now), Ok(()));
    }

    #[test]
    fn nonce_expires_after_retention() {
        let cache = NonceCache::new(1000, Duration::from_secs(10));
        let start = Instant::now();
        cache.insert([1; 16], start).unwrap();
        let later = start + Duration::from_secs(11);
        assert_eq!(cache.insert([1; 16], later), Ok(()));
    }

    #[test]
    fn full_cache_rejects_instead_of_evicting() {
        let cache = NonceCache::new(NONCE_SHARDS, Duration::from_secs(600));
        let now = Instant::now();
        // Every nonce below lands in shard 0, which has room for one entry.
        cache.insert([0; 16], now).unwrap();
        let mut other = [0u8; 16];
        other[1] = 1;
        assert_eq!(cache.insert(other, now), Err(AuthError::NonceCacheFull));
        assert_eq!(cache.insert([0; 16], now), Err(AuthError::Replayed));
    }

    fn headers(timestamp: &str, nonce: &str, signature: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(TIMESTAMP_HEADER, timestamp.parse().unwrap());
        map.insert(NONCE_HEADER, nonce.parse().unwrap());
        map.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        map
    }

    #[test]
    fn credentials_reject_non_canonical_fields() {
        let nonce = "ab".repeat(16);
        let cases = [
            (headers("0123", &nonce, "AAAA"), TIMESTAMP_HEADER),
            (headers("+5", &nonce, "AAAA"), TIMESTAMP_HEADER),
            (headers("", &nonce, "AAAA"), TIMESTAMP_HEADER),
            (
                headers("99999999999999999999999", &nonce, "AAAA"),
                TIMESTAMP_HEADER,
            ),
            (headers("5", &"AB".repeat(16), "AAAA"), NONCE_HEADER),
            (headers("5", "abcd", "AAAA"), NONCE_HEADER),
            (headers("5", &nonce, "not base64!"), SIGNATURE_HEADER),
        ];
        for (map, field) in cases {
            assert_eq!(
                parse_credentials(&map).err(),
                Some(AuthError::Malformed(field)),
                "{map:?}"
            );
        }
        assert!(parse_credentials(&headers("5", &nonce, "AAAA")).is_ok());
        assert_eq!(
            parse_credentials(&HeaderMap::new()).err(),
            Some(AuthError::Missing(TIMESTAMP_HEADER))
        );
    }
}
