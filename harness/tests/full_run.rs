//! A short run of every scenario against a relay the harness starts itself, checked through
//! its JSON report and exit status.

use std::process::Command;

use serde_json::Value;

const CONNECTIONS: u64 = 300;

#[test]
fn every_scenario_passes() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let svg = dir.path().join("report.svg");
    let output = Command::new(env!("CARGO_BIN_EXE_qrnm-load"))
        .args([
            "--connections",
            &CONNECTIONS.to_string(),
            "--duration",
            "3s",
            "--progress",
            "off",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("qrnm-load runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status.code()
    );
    assert!(stdout.contains("result: PASS"), "{stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["connections_requested"], CONNECTIONS);
    assert_eq!(report["connections_held"], CONNECTIONS);
    assert_eq!(report["verification_failures"], 0);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["duplicates"], 0);
    let sent = report["messages_sent"].as_u64().unwrap();
    assert!(sent > 0);
    // A message the relay stored just before it was killed may arrive without its 201.
    let unacknowledged = report["delivered_unacknowledged"].as_u64().unwrap();
    assert_eq!(
        report["messages_verified"].as_u64().unwrap(),
        sent + unacknowledged
    );
    let restart_unacknowledged = scenario(&report, "restart")["delivered_unacknowledged"]
        .as_u64()
        .unwrap();
    assert_eq!(
        unacknowledged, restart_unacknowledged,
        "only the restart may lose a 201"
    );
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            report["latency_ms"][key].as_f64().unwrap() > 0.0,
            "latency_ms.{key}"
        );
    }
    for key in ["p50", "p99", "max"] {
        assert!(
            report["connect_ms"][key].as_f64().unwrap() > 0.0,
            "connect_ms.{key}"
        );
    }
    assert!(report["crypto_ms_per_msg"].as_f64().unwrap() > 0.0);
    assert!(report["throughput_msgs_per_s"].as_f64().unwrap() > 0.0);
    for scenario in ["steady", "mixed", "strip", "restart"] {
        assert_eq!(report["scenarios"][scenario], "pass", "{scenario}");
    }

    // Fallback allowed: each classical seal is a counted fallback, and with only hybrid users
    // besides the classical ones, every fallback is a classical seal.
    let classical = report["modes"]["classical"].as_u64().unwrap();
    assert!(classical > 0);
    assert_eq!(report["fallbacks"].as_u64().unwrap(), classical);
    // Fallback forbidden: every seal to a classical user failed with no common mode.
    assert!(report["errors"]["no_common_mode"].as_u64().unwrap() > 0);
    let mixed = scenario(&report, "mixed");
    assert_check(mixed, "no-common-mode rejections with the raised floor");
    assert_check(mixed, "classical seals with fallback allowed");

    // Strip: each of the 24 hybrid users fetched two stripped bundles and rejected both.
    let strip = scenario(&report, "strip");
    assert_check(strip, "stripped bundles rejected");
    let rejected = report["errors"]["stripped_bundle_rejected_decode"]
        .as_u64()
        .unwrap_or(0)
        + report["errors"]["stripped_bundle_rejected_verify"]
            .as_u64()
            .unwrap_or(0);
    assert_eq!(rejected, 2 * 24);

    let restart = scenario(&report, "restart");
    assert_check(restart, "relay killed and restarted");
    assert_check(restart, "lost messages");

    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg"));
    assert!(chart.contains("<polyline"));
}

fn scenario<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["scenario_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("scenario {name} missing"))
}

fn assert_check(scenario: &Value, name: &str) {
    let check = scenario["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("check {name:?} missing in {}", scenario["name"]));
    assert_eq!(check["passed"], true, "{name}: {}", check["detail"]);
}
