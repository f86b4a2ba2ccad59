//! Rejection reasons and their rate-limited log lines.
//!
//! Every rejected request or connection is counted in the metrics. It is
//! also logged at `warn`, but at most [`LINES_PER_SECOND`] lines per reason
//! and second. The next line after a quiet period reports how many lines were
//! suppressed, so a flood cannot fill the disk or hide other messages.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Maximum log lines per rejection reason and second.
pub(crate) const LINES_PER_SECOND: u64 = 5;

macro_rules! reasons {
    ($($variant:ident => $name:literal,)*) => {
        /// Why a request or connection was rejected.
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub(crate) enum Reason {
            $($variant,)*
        }

        impl Reason {
            pub(crate) const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// Label value in metrics and logs.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $name,)*
                }
            }
        }
    };
}

reasons! {
    BodyTooLarge => "body_too_large",
    HeaderTooLarge => "header_too_large",
    HeaderTimeout => "header_timeout",
    RequestTimeout => "request_timeout",
    RateLimited => "rate_limited",
    ConnectionLimit => "connection_limit",
    MailboxFull => "mailbox_full",
    AuthMissing => "auth_missing",
    AuthMalformed => "auth_malformed",
    AuthStale => "auth_stale",
    AuthSignature => "auth_signature",
    AuthReplay => "auth_replay",
    AuthUnknownOwner => "auth_unknown_owner",
    NonceCacheFull => "nonce_cache_full",
    BadRequest => "bad_request",
    BadBundle => "bad_bundle",
    BundleForbidden => "bundle_forbidden",
    BundleNotNewer => "bundle_not_newer",
    BadEnvelope => "bad_envelope",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    Protocol => "protocol_error",
    Unavailable => "unavailable",
}

impl Reason {
    pub(crate) fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

struct Window {
    /// Second (since the log was created) that `lines` counts.
    second: AtomicU64,
    lines: AtomicU64,
    suppressed: AtomicU64,
}

/// Per-reason rate limiter of rejection log lines.
pub(crate) struct RejectionLog {
    start: Instant,
    windows: Vec<Window>,
}

impl RejectionLog {
    pub(crate) fn new() -> RejectionLog {
        RejectionLog {
            start: Instant::now(),
            windows: Reason::ALL
                .iter()
                .map(|_| Window {
                    second: AtomicU64::new(0),
                    lines: AtomicU64::new(0),
                    suppressed: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    /// Logs one rejection unless this reason already used its lines this second.
    ///
    /// `peer` and `detail` must not contain payloads, keys or signatures.
    pub(crate) fn log(&self, reason: Reason, peer: Option<IpAddr>, detail: &dyn fmt::Display) {
        let Some(window) = self.windows.get(reason.index()) else {
            return;
        };
        let now = self.start.elapsed().as_secs();
        if window.second.swap(now, Ordering::Relaxed) != now {
            window.lines.store(0, Ordering::Relaxed);
        }
        if window.lines.fetch_add(1, Ordering::Relaxed) >= LINES_PER_SECOND {
            window.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }

        let suppressed = window.suppressed.swap(0, Ordering::Relaxed);
        match peer {
            Some(peer) => tracing::warn!(
                reason = reason.as_str(),
                %peer,
                suppressed,
                "rejected: {detail}"
            ),
            None => tracing::warn!(reason = reason.as_str(), suppressed, "rejected: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_are_unique() {
        let mut names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    #[test]
    fn log_lines_are_limited_per_second() {
        let log = RejectionLog::new();
        for _ in 0..100 {
            log.log(Reason::RateLimited, None, &"test");
        }
        let window = &log.windows[Reason::RateLimited.index()];
        // Unless the second changed during the loop, 95 lines were suppressed.
        let suppressed = window.suppressed.load(Ordering::Relaxed);
        assert!(suppressed >= 100 - 2 * LINES_PER_SECOND, "{suppressed}");
    }
}
