//! With a low open-file limit, the harness raises it or exits before starting with a message
//! that names the limit and the fix.

use std::process::Command;

#[test]
fn low_limit_raised_or_reported() {
    let binary = env!("CARGO_BIN_EXE_qrnm-load");
    // `ulimit -n` in sh sets the soft and the hard limit, so only a privileged process can
    // go above 1024 again. Port 9 on loopback has no listener, so a run that gets past the
    // limit check fails at its first connection instead of loading anything.
    let script = format!(
        "ulimit -n 1024 && exec '{binary}' --connections 10000 --target http://127.0.0.1:9 --progress off --scenario steady"
    );
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&output.stderr);

    if stderr.contains("raised RLIMIT_NOFILE from 1024") {
        // A privileged process raised its hard limit; the run then failed on the closed port.
        assert_ne!(output.status.code(), Some(0), "{stderr}");
        return;
    }
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("RLIMIT_NOFILE is 1024"), "{stderr}");
    assert!(
        stderr.contains("--connections 10000 needs at least 10256 open files"),
        "{stderr}"
    );
    assert!(stderr.contains("ulimit -n 10256"), "{stderr}");
    assert!(stderr.contains("LimitNOFILE=10256"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "no report may be printed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}
