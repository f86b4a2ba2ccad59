//! The plain-text report printed on stdout.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::stats::LatencySummary;

/// Renders the report as aligned text lines.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail, so the results of writeln! are ignored below.
    let _ = writeln!(out, "qrnm-load report");
    let relay = if report.embedded_relay {
        "relay started by the harness"
    } else {
        "external relay"
    };
    line(&mut out, "target", &format!("{} ({relay})", report.target));
    line(&mut out, "engine", &report.engine_backends);
    let model = match report.rate {
        Some(rate) => format!("open loop at {rate} msgs/s"),
        None => "closed loop".to_owned(),
    };
    line(
        &mut out,
        "load",
        &format!(
            "{model}, {} users, {}-byte payloads",
            report.users, report.message_size
        ),
    );
    line(
        &mut out,
        "connections",
        &format!(
            "{} held of {} requested; connect p50 {} ms, p99 {} ms, max {} ms; phase {:.1} s; {} reconnects",
            report.connections_held,
            report.connections_requested,
            report.connect_ms.p50,
            report.connect_ms.p99,
            report.connect_ms.max,
            report.connect_phase_s,
            report.reconnects,
        ),
    );
    line(
        &mut out,
        "messages",
        &format!(
            "{} sent (201), {} verified ({} of them without a 201), {} verification failures, {} lost, {} duplicates",
            report.messages_sent,
            report.messages_verified,
            report.delivered_unacknowledged,
            report.verification_failures,
            report.lost,
            report.duplicates,
        ),
    );
    line(
        &mut out,
        "throughput",
        &format!(
            "{:.0} msgs/s over {:.1} s of send phases",
            report.throughput_msgs_per_s, report.duration_s
        ),
    );
    line(&mut out, "send latency", &latency(&report.latency_ms));
    line(&mut out, "delivery", &latency(&report.delivery_ms));
    line(
        &mut out,
        "crypto",
        &format!(
            "{:.3} ms/msg (seal {:.3}, open {:.3}); transport {:.3} ms/msg",
            report.crypto_ms_per_msg,
            report.crypto.seal_ms_per_msg,
            report.crypto.open_ms_per_msg,
            report.transport_ms_per_msg,
        ),
    );
    line(
        &mut out,
        "modes",
        &format!("{}; {} fallbacks", counts(&report.modes), report.fallbacks),
    );
    line(&mut out, "errors", &counts(&report.errors));

    let _ = writeln!(out, "scenarios");
    for scenario in &report.scenario_details {
        let _ = writeln!(
            out,
            "  {:<8} {:<7} sent {}, verified {}, {:.0} msgs/s, p99 {} ms, fallbacks {}",
            scenario.name,
            scenario.result,
            scenario.messages_sent,
            scenario.messages_verified,
            scenario.throughput_msgs_per_s,
            scenario.latency_ms.p99,
            scenario.fallbacks,
        );
        if let Some(reason) = &scenario.skip_reason {
            let _ = writeln!(out, "           skipped: {reason}");
        }
        for check in &scenario.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "           {mark} {}: {}", check.name, check.detail);
        }
    }

    if report.failures_total > 0 {
        let _ = writeln!(
            out,
            "failures ({} listed of {})",
            report.failures.len(),
            report.failures_total
        );
        for failure in &report.failures {
            let id = failure.message_id.as_deref().unwrap_or("-");
            let seq = failure
                .seq
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            let _ = writeln!(
                out,
                "  {} {} message {id} seq {seq}: {}",
                failure.scenario, failure.kind, failure.detail
            );
        }
    }
    for threshold in &report.thresholds {
        let mark = if threshold.passed { "ok" } else { "FAIL" };
        let _ = writeln!(
            out,
            "threshold {} {}: measured {:.2} ({mark})",
            threshold.name, threshold.limit, threshold.value
        );
    }
    let _ = writeln!(
        out,
        "result: {}",
        if report.passed { "PASS" } else { "FAIL" }
    );
    out
}

fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{label:<16} {value}");
}

fn latency(summary: &LatencySummary) -> String {
    format!(
        "p50 {} ms, p90 {} ms, p99 {} ms, p99.9 {} ms, max {} ms ({} samples)",
        summary.p50, summary.p90, summary.p99, summary.p999, summary.max, summary.count
    )
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
