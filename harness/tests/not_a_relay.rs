//! A `--target` that speaks HTTP but is no qrnm relay: the harness exits 2 before the run
//! with one line naming the URL, and quotes none of the server's HTML page.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

const PAGE: &str = "<!DOCTYPE HTML>\n<html>\n<head><title>Error response</title></head>\n\
    <body><h1>Error response</h1><p>Error code: 501</p></body>\n</html>\n";

#[test]
fn other_http_server_is_refused_in_one_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Responds to every connection with a 501 HTML page, as a static file server does for PUT.
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let response = format!(
                "HTTP/1.1 501 Not Implemented\r\ncontent-type: text/html\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
                PAGE.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });

    let url = format!("http://{addr}");
    let output = Command::new(env!("CARGO_BIN_EXE_qrnm-load"))
        .args(["--target", &url, "--connections", "50", "--progress", "off"])
        .output()
        .expect("qrnm-load runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr:\n{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("not a qrnm relay"), "{stderr}");
    assert!(stderr.contains("501"), "{stderr}");
    assert!(!stderr.contains("<html>"), "{stderr}");
}
