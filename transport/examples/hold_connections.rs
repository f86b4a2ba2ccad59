//! Opens many keep-alive connections to a relay on loopback, sends one
//! request on each, and holds them open: the client side of
//! `scripts/measure-idle-memory.sh`, which must run in its own process
//! because the relay and the client together need two descriptors per
//! connection.
//!
//! Prints `holding N` once every connection got its response, then waits
//! for `--hold-secs` or until standard input closes.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

#[derive(Parser)]
struct Args {
    /// Relay address, a loopback address such as 127.0.0.1:8080.
    #[arg(long)]
    addr: SocketAddr,
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Connections being opened at the same time.
    #[arg(long, default_value_t = 256)]
    parallel: usize,
    /// Only connect, without sending a request.
    #[arg(long)]
    connect_only: bool,
    /// Seconds to hold the connections at most.
    #[arg(long, default_value_t = 60)]
    hold_secs: u64,
}

const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: relay\r\n\r\n";

/// Connects, sends one request and reads its response, leaving the connection open.
async fn open(addr: SocketAddr, connect_only: bool) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    if connect_only {
        return Ok(stream);
    }
    stream.write_all(REQUEST).await?;

    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other(
                "connection closed before the response",
            ));
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    if !text.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!(
            "unexpected response: {text}"
        )));
    }
    let length = text
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(stream)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if !args.addr.ip().is_loopback() {
        return Err("only loopback addresses are allowed".into());
    }

    let mut held = Vec::with_capacity(args.connections);
    let mut opening = JoinSet::new();
    let mut started = 0;
    while held.len() < args.connections {
        while started < args.connections && opening.len() < args.parallel {
            opening.spawn(open(args.addr, args.connect_only));
            started += 1;
        }
        match opening.join_next().await {
            Some(result) => held.push(result??),
            None => break,
        }
    }
    println!("holding {}", held.len());

    let stdin_closed = tokio::task::spawn_blocking(|| {
        for line in std::io::stdin().lines() {
            if line.is_err() {
                break;
            }
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(args.hold_secs), stdin_closed).await;
    drop(held);
    Ok(())
}
