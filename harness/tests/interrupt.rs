//! SIGINT and SIGTERM in the middle of a run: the harness stops its relay child, removes the
//! relay's data directory, prints one line naming the signal, and exits with 128 plus the signal number.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn interrupt_mid_run(signal: Signal, expected_code: i32) {
    // The harness's data directory is created under TMPDIR, so a private TMPDIR shows what is left.
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_qrnm-load"))
        .args([
            "--connections",
            "50",
            "--scenario",
            "steady",
            "--duration",
            "20s",
            "--progress",
            "off",
        ])
        .env("TMPDIR", tmp.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qrnm-load starts");

    // Wait until the relay's data directory exists, so the signal lands mid-run.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(tmp.path()).unwrap().next().is_none() {
        assert!(Instant::now() < deadline, "no data directory after 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), signal).unwrap();

    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("run interrupted by {}", signal.as_str())),
        "stderr:\n{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sigint_cleans_up_and_exits_130() {
    interrupt_mid_run(Signal::SIGINT, 130);
}

#[test]
fn sigterm_cleans_up_and_exits_143() {
    interrupt_mid_run(Signal::SIGTERM, 143);
}
