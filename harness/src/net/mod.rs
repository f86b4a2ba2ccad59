//! The client side of the network: lanes (one keep-alive connection each), the pool that
//! opens them, and the relay's HTTP API on top.

pub mod api;
pub mod lane;
pub mod pool;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use http::Uri;

pub use lane::{Endpoint, Lane, LaneError};
pub use pool::{ConnectOutcome, Pool};

/// Parses a `--target` URL into the relay's socket address.
///
/// Only `http` URLs whose host is a loopback address (127.0.0.0/8, ::1 or `localhost`) are
/// accepted, because a load run must never reach another machine.
///
/// # Errors
///
/// Returns a sentence naming the URL and what is wrong with it.
pub fn parse_target(url: &str) -> Result<SocketAddr, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("invalid --target URL {url:?}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "invalid --target URL {url:?}: only http:// is supported"
        ));
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("invalid --target URL {url:?}: no host"))?;
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                format!("invalid --target URL {url:?}: the host must be an IP address or localhost")
            })?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "--target {url:?} is not a loopback address: load runs only target 127.0.0.0/8 or ::1"
        ));
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(format!(
            "invalid --target URL {url:?}: give the relay's base URL without a path"
        ));
    }
    Ok(SocketAddr::new(ip, uri.port_u16().unwrap_or(80)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_accepts_loopback() {
        assert_eq!(
            parse_target("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://localhost:9000/").unwrap(),
            "127.0.0.1:9000".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://[::1]:7000").unwrap(),
            "[::1]:7000".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://127.3.4.5").unwrap(),
            "127.3.4.5:80".parse().unwrap()
        );
    }

    #[test]
    fn target_rejects_other_hosts() {
        assert!(
            parse_target("http://10.0.0.1:80")
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(parse_target("http://example.com").is_err());
        assert!(parse_target("https://127.0.0.1").is_err());
        assert!(parse_target("http://127.0.0.1/v1").is_err());
    }
}
