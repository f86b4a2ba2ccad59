//! `qrnm-relay check-config` run as a process, for the checks that read the
//! environment or the raw file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn development_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/development.toml")
}

fn check_config(file: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qrnm-relay"));
    command.arg("check-config").arg(file);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn check_config_accepts_development_toml() {
    let output = check_config(&development_config(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
}

#[test]
fn check_config_rejects_unknown_qrnm_variable() {
    let output = check_config(
        &development_config(),
        &[("QRNM_LIMIT_MAX_BODY_BYTES", "8192")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("QRNM_LIMIT_MAX_BODY_BYTES"), "{stderr}");
    assert!(stderr.contains("QRNM_LIMITS_MAX_BODY_BYTES"), "{stderr}");
}

#[test]
fn check_config_names_non_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latin1.toml");
    // "# café" in Latin-1: 0xE9 is not valid UTF-8 on its own.
    std::fs::write(&file, b"# caf\xe9\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let output = check_config(&file, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("latin1.toml"), "{stderr}");
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("offset 5"), "{stderr}");
    assert!(!stderr.contains("permissions"), "{stderr}");
}
