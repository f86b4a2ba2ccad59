//! The report of a whole run, assembled from the scenarios' reports and the shared metrics.

use std::collections::BTreeMap;

use crate::cli::Options;
use crate::metrics::MetricsInner;
use crate::net::pool::ConnectOutcome;
use crate::report::{
    self, Check, Failure, MAX_LISTED_FAILURES, Report, ScenarioReport, ThresholdResult,
};
use crate::scenarios::{Context, crypto_times};

pub(super) fn assemble_report(
    options: &Options,
    context: &Context,
    connect: &ConnectOutcome,
    mut scenarios: Vec<ScenarioReport>,
    leftovers: u64,
) -> Report {
    if let Some(last) = scenarios.iter_mut().rev().find(|s| s.result != "skipped") {
        let check = Check::equal("mailboxes empty after the run", 0, leftovers);
        if !check.passed {
            last.result = "fail".to_owned();
        }
        last.checks.push(check);
    }
    let world = &context.world;
    let total = MetricsInner::merged(&world.all_metrics());
    let (latency, delivery) = (&total.latency, &total.delivery);

    let sum = |f: fn(&ScenarioReport) -> u64| scenarios.iter().map(f).sum::<u64>();
    let messages_sent = sum(|s| s.messages_sent);
    let duration_s = send_phase_seconds(&scenarios);
    let throughput = if duration_s > 0.0 {
        messages_sent as f64 / duration_s
    } else {
        0.0
    };
    let crypto = crypto_times(&total);
    let latency_summary = latency.summary();
    let held = scenarios
        .iter()
        .filter(|s| s.result != "skipped")
        .map(|s| s.connections_held)
        .chain([connect.held])
        .min()
        .unwrap_or(connect.held);

    let thresholds = thresholds(options, latency_summary.p99, throughput);
    let failures: Vec<Failure> = world.failures();
    let failures_total = scenarios
        .iter()
        .map(|s| s.verification_failures + s.lost + s.duplicates)
        .sum::<u64>()
        .max(failures.len() as u64);
    let passed = held == options.connections
        && scenarios.iter().all(|s| s.result != "fail")
        && thresholds.iter().all(|t| t.passed)
        && failures.is_empty();

    Report {
        target: format!("http://{}", context.pool.endpoint().addr()),
        embedded_relay: context.relay.is_some(),
        engine_backends: world.engine.backends().describe(),
        load_model: context.model.name(),
        rate: options.rate,
        users: world.users.len(),
        message_size: options.message_size,
        connections_requested: options.connections,
        connections_held: held,
        connect_ms: connect.times.short_summary(),
        connect_phase_s: connect.elapsed.as_secs_f64(),
        reconnects: context.pool.endpoint().reconnects(),
        duration_s,
        messages_sent,
        messages_verified: sum(|s| s.messages_verified),
        verification_failures: sum(|s| s.verification_failures),
        lost: sum(|s| s.lost),
        duplicates: sum(|s| s.duplicates),
        delivered_unacknowledged: sum(|s| s.delivered_unacknowledged),
        throughput_msgs_per_s: throughput,
        latency_ms: latency_summary,
        delivery_ms: delivery.summary(),
        crypto_ms_per_msg: crypto.seal_ms_per_msg + crypto.open_ms_per_msg,
        crypto,
        transport_ms_per_msg: latency.mean_ms(),
        fallbacks: total.fallbacks,
        modes: total
            .modes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        errors: total.errors,
        scenarios: scenarios
            .iter()
            .map(|s| (s.name.clone(), s.result.clone()))
            .collect::<BTreeMap<_, _>>(),
        scenario_details: scenarios,
        failures: failures.into_iter().take(MAX_LISTED_FAILURES).collect(),
        failures_total,
        thresholds,
        passed,
    }
}

fn thresholds(options: &Options, p99_ms: f64, throughput: f64) -> Vec<ThresholdResult> {
    let mut results = Vec::new();
    if let Some(limit) = options.max_p99_ms {
        results.push(ThresholdResult {
            name: "--max-p99-ms".to_owned(),
            limit,
            value: p99_ms,
            passed: p99_ms <= limit,
        });
    }
    if let Some(limit) = options.min_rate {
        results.push(ThresholdResult {
            name: "--min-rate".to_owned(),
            limit,
            value: throughput,
            passed: throughput >= limit,
        });
    }
    results
}

/// Returns the total send time of the scenarios that sent messages. Without any it is +0.0:
/// `Sum` for `f64` starts at -0.0, which the report would print as "-0.0 s".
fn send_phase_seconds(scenarios: &[ScenarioReport]) -> f64 {
    scenarios
        .iter()
        .filter(|s| s.messages_sent > 0)
        .fold(0.0, |total, s| total + s.duration_s)
}

/// Checks that the `--json` and `--svg` files can be written, before a run spends its time.
/// A file that did not exist is created to check it and removed again.
///
/// # Errors
///
/// Returns a sentence naming the option, the file and the operating system's reason.
pub fn check_outputs(options: &Options) -> Result<(), String> {
    for (name, path) in [("--json", &options.json), ("--svg", &options.svg)] {
        let Some(path) = path else { continue };
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("{name} {} cannot be written: {e}", path.display()))?;
        if !existed {
            // Leaves no empty file behind when the run later fails to start.
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

/// Writes the JSON and SVG files that the options ask for.
///
/// # Errors
///
/// Returns a sentence naming the file that could not be written.
pub fn write_outputs(options: &Options, report: &Report) -> Result<(), String> {
    if let Some(path) = &options.json {
        let json = serde_json::to_string_pretty(report)
            .map_err(|e| format!("encoding the JSON report failed: {e}"))?;
        std::fs::write(path, json)
            .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
    }
    if let Some(path) = &options.svg {
        std::fs::write(path, report::render_svg(report))
            .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn no_send_phase_is_positive_zero_seconds() {
        let seconds = send_phase_seconds(&[]);
        assert_eq!(seconds, 0.0);
        assert!(seconds.is_sign_positive());
        assert_eq!(format!("{seconds:.1}"), "0.0");
    }

    #[test]
    fn unwritable_output_is_found_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("report.json");
        let writable =
            Options::try_parse_from(["qrnm-load", "--json", fresh.to_str().unwrap()]).unwrap();
        assert_eq!(check_outputs(&writable), Ok(()));
        assert!(!fresh.exists(), "the check leaves no file behind");

        let missing_dir = dir.path().join("no-such-dir").join("chart.svg");
        let unwritable =
            Options::try_parse_from(["qrnm-load", "--svg", missing_dir.to_str().unwrap()]).unwrap();
        let error = check_outputs(&unwritable).unwrap_err();
        assert!(error.starts_with("--svg "), "{error}");
        assert!(error.contains("no-such-dir"), "{error}");

        let directory =
            Options::try_parse_from(["qrnm-load", "--json", dir.path().to_str().unwrap()]).unwrap();
        assert!(check_outputs(&directory).is_err());
    }

    #[test]
    fn thresholds_breach_and_pass() {
        let options =
            Options::try_parse_from(["qrnm-load", "--max-p99-ms", "100", "--min-rate", "500"])
                .unwrap();

        let within = thresholds(&options, 99.0, 500.0);
        assert_eq!(within.len(), 2);
        assert!(within.iter().all(|t| t.passed));

        let breached = thresholds(&options, 100.5, 499.0);
        assert!(!breached[0].passed, "p99 above --max-p99-ms");
        assert!(!breached[1].passed, "rate below --min-rate");
    }

    #[test]
    fn no_thresholds_without_options() {
        let options = Options::try_parse_from(["qrnm-load"]).unwrap();
        assert!(thresholds(&options, 1e9, 0.0).is_empty());
    }
}
